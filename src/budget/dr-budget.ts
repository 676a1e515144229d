import {
  DR_ALARM_PERIOD_SECONDS,
  PROBE_INTERVAL_SECONDS,
  PROBE_TIMEOUT_SECONDS,
  VETO_RECHECK_INTERVAL_SECONDS,
  VETO_RECHECK_SECONDS,
} from "../../functions/shared/dr-metrics";
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
/**
 * EventBridge delivers the primary-down alarm's state change to auto-failover, which starts the
 * workflow. CloudWatch guarantees delivery of alarm state changes to EventBridge
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html)
 * and EventBridge delivers "in near real-time" (https://aws.amazon.com/eventbridge/faqs/), with
 * no published bound: this is an allowance, not an AWS figure.
 */
export const TRIGGER_ALLOWANCE_SECONDS = 10;
/**
 * Route 53's fence health check follows the alarm's data stream, not its state
 * (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html#dns-failover-determining-health-of-endpoints-cloudwatch),
 * so a `TrafficFenced` datapoint counts once its 60-second period is evaluated. AWS publishes no
 * bound for how soon the health check follows; one alarm period is an estimate.
 */
export const TRAFFIC_FENCE_SECONDS = DR_ALARM_PERIOD_SECONDS;

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
  /**
   * Until the secondary serves writes through the public name. With automatic failover, the
   * slower of the web-traffic (DNS) path and the database path, which run in parallel; without,
   * from the operator's trigger (see {@link computeBudgets}).
   */
  readonly rto: Budget;
  /** Web traffic only, on Route 53's own failover (no API call): detection + DNS caches. */
  readonly dnsOnlyRto: Budget;
  /** Database writes at risk: replication lag that can build up before its alarm fires. */
  readonly databaseRpo: Budget;
  /** Objects at risk: the S3 Replication Time Control window. */
  readonly assetsRpo: Budget;
}

/**
 * Computes every budget of an environment from its (validated) config.
 *
 * With automatic failover on, the RTO is the slower of two paths that run in parallel from the
 * outage; the faster one is reported as a note:
 * - **Web traffic (DNS path)**: Route 53's health checkers mark the primary unhealthy after
 *   `failureThreshold` consecutive failed checks, one every `intervalSeconds`
 *   (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html),
 *   and Route 53 then answers with the secondary record
 *   (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-how-route-53-chooses-records.html).
 *   That is Route 53's data plane, which needs neither its API in us-east-1 nor anything the
 *   automation reads or writes
 *   (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/route-53-concepts.html), so
 *   flip-dns's traffic fence is not on an outage's path: Route 53 detection + DNS caches.
 * - **Database path**: the first "down" verdict of probe-primary (see {@link firstDownVerdict}),
 *   then the decision (the primary-down alarm needs `automaticFailover.alarmMinutes` one-minute
 *   datapoints of "down", and "for any period of one minute or longer, an alarm is evaluated
 *   every minute",
 *   https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html),
 *   the trigger ({@link TRIGGER_ALLOWANCE_SECONDS}) and the slower of promotion and scale-up.
 *
 * The fence moves traffic only in a planned or manual failover, and in the degraded case in
 * which Route 53's view cannot be read from the secondary region at all (neither its metric in
 * us-east-1 nor the hosted zone's name servers answer): then the probes decide alone, and the
 * traffic follows the fence after the promotion. That case is not an outage's path (in an
 * outage Route 53's checkers move DNS by themselves), so it is a note, not a term.
 *
 * With automatic failover off, the RTO counts from the operator's trigger: the slower of
 * promotion and scale-up, then the fence and DNS caches.
 */
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
  const rtoNotes = [`${faster.name} (${faster.seconds} s) runs in parallel with ${slower.name}`];
  let rtoTerms: BudgetTerm[];
  if (config.automaticFailover.enabled) {
    const paths = automaticFailoverPaths(config, { detection, dnsCaches, slower });
    const [worst, other] =
      sum(paths.database.terms) >= sum(paths.webTraffic.terms)
        ? [paths.database, paths.webTraffic]
        : [paths.webTraffic, paths.database];
    rtoTerms = worst.terms;
    rtoNotes.push(
      `${other.name} runs in parallel: ${sum(other.terms)} s (${describeTerms(other.terms)})`,
      paths.route53UnreadableNote,
    );
  } else {
    rtoTerms = [slower, trafficFence(), dnsCaches];
    rtoNotes.unshift(
      "automaticFailover is off: the budget counts from the operator's trigger; the time to decide is not bounded",
    );
  }

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

/** flip-dns's fence, once Route 53 follows it. */
function trafficFence(): BudgetTerm {
  return {
    name: "traffic fence",
    seconds: TRAFFIC_FENCE_SECONDS,
    source: `flip-dns's TrafficFenced datapoint, which Route 53's fence health check follows (one ${DR_ALARM_PERIOD_SECONDS}-s alarm period, estimate)`,
  };
}

interface RecoveryPath {
  /** What the path brings back, for the note when it is not the slower one. */
  readonly name: string;
  readonly terms: BudgetTerm[];
}

interface AutomaticFailoverPaths {
  readonly webTraffic: RecoveryPath;
  readonly database: RecoveryPath;
  /** The degraded case in which the fence moves the traffic (see {@link computeBudgets}). */
  readonly route53UnreadableNote: string;
}

/**
 * Seconds from the outage to probe-primary's first "down" verdict, at most.
 *
 * The first run after the outage starts within one {@link PROBE_INTERVAL_SECONDS}. Its endpoint
 * and database signals say down at once; Route 53's view says up until its checkers have failed
 * `failureThreshold` checks (`route53DetectionSeconds` after the outage), and while that
 * veto alone holds the verdict back the run rereads Route 53's view every
 * {@link VETO_RECHECK_INTERVAL_SECONDS} for up to {@link VETO_RECHECK_SECONDS}. So the verdict
 * waits past the schedule only for the part of Route 53's detection, plus one reread interval,
 * that the recheck window does not cover: with 10 s x 3 (30 s) nothing, 60 s in all; with
 * 30 s x 3 (90 s) 55 s more, 115 s in all. The time the run's own probes and reads take (each
 * cut off after the probe timeout) is not counted.
 */
export function firstDownVerdict(route53DetectionSeconds: number): BudgetTerm {
  const vetoWaitSeconds = Math.max(
    0,
    route53DetectionSeconds + VETO_RECHECK_INTERVAL_SECONDS - VETO_RECHECK_SECONDS,
  );
  return {
    name: "first down verdict",
    seconds: PROBE_INTERVAL_SECONDS + PROBE_TIMEOUT_SECONDS + vetoWaitSeconds,
    source:
      `probe-primary's schedule (${PROBE_INTERVAL_SECONDS} s) + its probes timing out on the dark primary (${PROBE_TIMEOUT_SECONDS} s) ` +
      `+ max(0, Route 53 detection ${route53DetectionSeconds} s + reread interval ${VETO_RECHECK_INTERVAL_SECONDS} s - veto recheck ${VETO_RECHECK_SECONDS} s): ` +
      `the first run after the outage rereads Route 53's view while its "up" alone holds the verdict back`,
    ...(vetoWaitSeconds > 0
      ? { lever: "dns.healthCheck.intervalSeconds or dns.healthCheck.failureThreshold" }
      : {}),
  };
}

/** The two parallel paths of an automatic failover and the degraded case (see {@link computeBudgets}). */
function automaticFailoverPaths(
  config: EnvConfig,
  shared: { detection: BudgetTerm; dnsCaches: BudgetTerm; slower: BudgetTerm },
): AutomaticFailoverPaths {
  const { alarmMinutes } = config.automaticFailover;
  const { detection, dnsCaches, slower } = shared;
  const decision: BudgetTerm = {
    name: "decision",
    seconds: alarmMinutes * DR_ALARM_PERIOD_SECONDS,
    source: `automaticFailover.alarmMinutes (${alarmMinutes}) x ${DR_ALARM_PERIOD_SECONDS} s: the primary-down alarm's further "down" verdicts, one a minute, and its once-a-minute evaluation`,
    lever: "automaticFailover.alarmMinutes",
  };
  const trigger: BudgetTerm = {
    name: "trigger",
    seconds: TRIGGER_ALLOWANCE_SECONDS,
    source: `EventBridge delivers the alarm's state change to auto-failover (${TRIGGER_ALLOWANCE_SECONDS} s allowance; AWS publishes no bound)`,
  };
  // Without a readable Route 53 view nothing vetoes, so the first run's verdict counts.
  const unreadableSeconds =
    PROBE_INTERVAL_SECONDS +
    PROBE_TIMEOUT_SECONDS +
    sum([decision, trigger, slower, trafficFence(), dnsCaches]);
  return {
    webTraffic: {
      name: "web traffic (DNS path)",
      terms: [{ ...detection, name: "Route 53 detection" }, dnsCaches],
    },
    database: {
      name: "database path",
      terms: [firstDownVerdict(detection.seconds), decision, trigger, slower],
    },
    route53UnreadableNote:
      `${unreadableSeconds} s if Route 53's view cannot be read from the secondary region at all ` +
      `(the probes decide alone in ${PROBE_INTERVAL_SECONDS + PROBE_TIMEOUT_SECONDS} s, and traffic follows flip-dns's fence after the ${slower.name}: ` +
      `+ traffic fence ${TRAFFIC_FENCE_SECONDS} s + DNS caches ${dnsCaches.seconds} s); ` +
      "not an outage's path: in an outage Route 53's checkers move DNS by themselves",
  };
}

/** "Route 53 detection 30 s + DNS caches 60 s". */
function describeTerms(terms: readonly BudgetTerm[]): string {
  return terms.map((term) => `${term.name} ${term.seconds} s`).join(" + ");
}

function sum(terms: readonly BudgetTerm[]): number {
  return terms.reduce((total, term) => total + term.seconds, 0);
}

function budget(
  config: EnvConfig,
  terms: BudgetTerm[],
  targetSeconds: number,
  targetField: string,
  notes: string[],
): Budget {
  const totalSeconds = sum(terms);
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
