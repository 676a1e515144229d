import type { EnvConfig } from "../config/schema";

/**
 * Worst-case recovery time and recovery point an environment's settings allow, term by term, so
 * a config that cannot meet its own `dr.rtoSeconds` / `dr.rpoSeconds` is caught at synth time with
 * the term to change, not discovered in a drill.
 */

/**
 * Route 53 alias records answer with the TTL of their target, and load balancer records carry a
 * 60-second TTL, so a resolver may keep serving the old answer this long after a change.
 */
export const ALIAS_TO_LOAD_BALANCER_TTL_SECONDS = 60;
/** S3 Replication Time Control: 99.99% of objects replicated within 15 minutes (its SLA). */
export const S3_RTC_SLA_SECONDS = 15 * 60;
/** The Aurora replication-lag alarm evaluates one 60-second period before it fires. */
export const LAG_ALARM_PERIOD_SECONDS = 60;

/** One line of a budget: what it is, how long, and where the number comes from. */
export interface BudgetTerm {
  readonly name: string;
  readonly seconds: number;
  /** The setting or fact the number comes from, e.g. `dns.healthCheck.intervalSeconds (10) x ...`. */
  readonly source: string;
  /** Which config field shrinks this term; absent when AWS fixes it. */
  readonly lever?: string;
}

export interface Budget {
  readonly environment: string;
  /** Terms on the critical path, in order; their sum is `totalSeconds`. */
  readonly terms: readonly BudgetTerm[];
  readonly totalSeconds: number;
  readonly targetSeconds: number;
  readonly targetField: string;
  readonly met: boolean;
  /** Context that is not a term (e.g. parallel steps off the critical path, manual trigger). */
  readonly notes: readonly string[];
}

export interface DrBudgets {
  /** Until the secondary serves writes: detection, decision, promotion or scale-up, DNS caches. */
  readonly rto: Budget;
  /** Web traffic only, on Route 53's own failover (no API call): detection + DNS caches. */
  readonly dnsOnlyRto: Budget;
  /** Database writes at risk: replication lag that can build up before its alarm fires. */
  readonly databaseRpo: Budget;
  /** Objects at risk: the S3 Replication Time Control window. */
  readonly assetsRpo: Budget;
}

/** Computes every budget of an environment from its (validated) config. */
export function computeBudgets(config: EnvConfig): DrBudgets {
  const { healthCheck } = config.dns;
  const { estimates } = config.dr;
  const detection: BudgetTerm = {
    name: "detection",
    seconds: healthCheck.intervalSeconds * healthCheck.failureThreshold,
    source: `dns.healthCheck.intervalSeconds (${healthCheck.intervalSeconds}) x failureThreshold (${healthCheck.failureThreshold})`,
    lever: "dns.healthCheck.intervalSeconds or dns.healthCheck.failureThreshold",
  };
  const dnsCaches: BudgetTerm = {
    name: "DNS caches",
    seconds: ALIAS_TO_LOAD_BALANCER_TTL_SECONDS,
    source: "TTL of alias records to a load balancer (60 s, set by AWS)",
  };

  const rtoNotes: string[] = [];
  const rtoTerms: BudgetTerm[] = [detection];
  if (config.automaticFailover.enabled) {
    rtoTerms.push({
      name: "decision",
      seconds: config.automaticFailover.alarmMinutes * 60,
      source: `automaticFailover.alarmMinutes (${config.automaticFailover.alarmMinutes}): the health alarm must stay in ALARM`,
      lever: "automaticFailover.alarmMinutes",
    });
  } else {
    rtoNotes.push(
      "automaticFailover is off: the budget counts from the operator's trigger; the time to decide is not bounded",
    );
  }
  // Promotion and scale-up run in parallel (issue 5's PromoteAndScale), so only the longer one is
  // on the critical path; the other is reported as a note.
  const promotion: BudgetTerm = {
    name: "database promotion",
    seconds: estimates.databasePromotionSeconds,
    source: `dr.estimates.databasePromotionSeconds (${estimates.databasePromotionSeconds}), estimate`,
    lever: "dr.estimates.databasePromotionSeconds (measure it with a drill)",
  };
  const scaleUp: BudgetTerm = {
    name: "scale-up",
    seconds: estimates.scaleUpSeconds,
    source: `dr.estimates.scaleUpSeconds (${estimates.scaleUpSeconds}), estimate`,
    lever: "dr.estimates.scaleUpSeconds, or more standby capacity (compute.secondary)",
  };
  const [slower, faster] =
    promotion.seconds >= scaleUp.seconds ? [promotion, scaleUp] : [scaleUp, promotion];
  rtoTerms.push(slower, dnsCaches);
  rtoNotes.push(`${faster.name} (${faster.seconds} s) runs in parallel with ${slower.name}`);

  return {
    rto: budget(config, rtoTerms, config.dr.rtoSeconds, "dr.rtoSeconds", rtoNotes),
    dnsOnlyRto: budget(config, [detection, dnsCaches], config.dr.rtoSeconds, "dr.rtoSeconds", [
      "Route 53 moves web traffic by itself when the primary's health check fails",
    ]),
    databaseRpo: budget(
      config,
      [
        {
          name: "undetected replication lag",
          seconds: config.dr.replicationLagAlarmSeconds,
          source: `dr.replicationLagAlarmSeconds (${config.dr.replicationLagAlarmSeconds})`,
          lever: "dr.replicationLagAlarmSeconds",
        },
        {
          name: "lag alarm evaluation",
          seconds: LAG_ALARM_PERIOD_SECONDS,
          source: "one 60-second alarm period",
        },
      ],
      config.dr.rpoSeconds,
      "dr.rpoSeconds",
      [
        "Aurora global database lag is typically under 1 s; this is the most that can build up unnoticed",
      ],
    ),
    assetsRpo: budget(
      config,
      [
        {
          name: "S3 replication window",
          seconds: S3_RTC_SLA_SECONDS,
          source: "S3 Replication Time Control SLA (15 minutes for 99.99% of objects)",
        },
      ],
      config.dr.assetsRpoSeconds,
      "dr.assetsRpoSeconds",
      [],
    ),
  };
}

function budget(
  config: EnvConfig,
  terms: BudgetTerm[],
  targetSeconds: number,
  targetField: string,
  notes: string[],
): Budget {
  const totalSeconds = terms.reduce((sum, term) => sum + term.seconds, 0);
  return {
    environment: config.environment,
    terms,
    totalSeconds,
    targetSeconds,
    targetField,
    met: totalSeconds <= targetSeconds,
    notes,
  };
}

/** Names of the budgets, in the order they are printed. */
export const BUDGET_TITLES: Readonly<Record<keyof DrBudgets, string>> = {
  rto: "RTO (worst case)",
  dnsOnlyRto: "RTO, web traffic on DNS failover alone",
  databaseRpo: "RPO, database",
  assetsRpo: "RPO, assets (S3 objects)",
};

/**
 * Why a budget is missed, naming the largest term that could be reduced: the term that breaks it.
 * `undefined` when the budget is met.
 */
export function budgetProblem(title: string, budget: Budget): string | undefined {
  if (budget.met) return undefined;
  const breaking = [...budget.terms].sort((a, b) => b.seconds - a.seconds)[0];
  return (
    `${title}: ${budget.totalSeconds} s > ${budget.targetField} (${budget.targetSeconds} s). ` +
    `Largest term: ${breaking.name} ${breaking.seconds} s from ${breaking.source}. ` +
    (breaking.lever
      ? `Change ${breaking.lever}, or raise ${budget.targetField}.`
      : `AWS fixes that term, so raise ${budget.targetField}.`)
  );
}

/** Every missed budget of an environment, one sentence each. */
export function budgetProblems(config: EnvConfig): string[] {
  const budgets = computeBudgets(config);
  return (Object.keys(BUDGET_TITLES) as (keyof DrBudgets)[])
    .map((key) => budgetProblem(BUDGET_TITLES[key], budgets[key]))
    .filter((problem): problem is string => problem !== undefined);
}

/** A Markdown table of one budget: term, seconds, source; then total vs target. */
export function renderBudget(title: string, budget: Budget): string {
  const rows = budget.terms.map((t) => `| ${t.name} | ${t.seconds} | ${t.source} |`);
  const verdict = budget.met ? "met" : "MISSED";
  return [
    `### ${title}: ${budget.totalSeconds} s of ${budget.targetSeconds} s (${verdict})`,
    "",
    "| term | seconds | from |",
    "| --- | ---: | --- |",
    ...rows,
    `| **total** | **${budget.totalSeconds}** | target ${budget.targetField} = ${budget.targetSeconds} |`,
    ...(budget.notes.length > 0 ? ["", ...budget.notes.map((n) => `- ${n}`)] : []),
  ].join("\n");
}
