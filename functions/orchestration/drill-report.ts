/**
 * What a finished drill measured, judged against the environment's targets, and the forms it is
 * published in: Markdown (terminal, CI job summary, S3), CloudWatch metrics and an SNS summary.
 *
 * - RTO of a switch = from the POST that started it until verification passed (the database
 *   writes in the target region, its endpoint is healthy, the public name answers from it): what
 *   a customer sees. Detection time is not in it (a drill is triggered, not detected); the
 *   budget (`npm run budget`) adds it.
 * - RPO = the most writes a switch lost or could have lost: the operation's recorded data loss
 *   (0 for a switchover), and the replication lag just before the switch, which is what an
 *   unplanned failover at that moment would have lost.
 */

import { formatDuration } from "../shared/operation-progress";
import type { DrillOperation, DrillPhase, DrillPhaseName, DrillState } from "./drill";
import { secondsBetween } from "./drill";

/**
 * `blocked`: the failover's plan refused it and nothing was changed (e.g. a partition, where a
 * failover with data loss could leave two writers): safe, but not a proof that failover works.
 * `dry-run`: only the preflight and the failover's plan ran, nothing was changed and nothing was
 * measured; the plan's blockers (if any) are in `plan.blockers`. Never `passed`: a plan is not
 * a failover.
 */
export type DrillVerdict = "passed" | "failed" | "missed-target" | "blocked" | "dry-run";

export interface SwitchMeasurement {
  /** POST -> verified, seconds; null when it never verified. */
  rtoSeconds: number | null;
  /** The workflow's own RTO of the operation that succeeded. */
  workflowRtoSeconds: number | null;
  /** Replication lag just before the switch. */
  replicationLagBeforeSeconds: number | null;
  /** The operation's recorded data loss. */
  dataLossSeconds: number | null;
  /** Operations started (more than one: a failed one was run again). */
  attempts: number;
}

/**
 * A rehearsed outage measured from the moment it began (the local game day's outage faults):
 * when the standby side detected it, decided, when Region B accepted writes and when the public
 * name answered from it. Null: it never happened before the drill ended.
 */
export interface OutageTimeline {
  /** What failed, one phrase, e.g. `us-east-1 goes dark`. */
  fault: string;
  /** ISO-8601: the outage began. */
  startedAt: string;
  /** The primary-down alarm went to ALARM (probe-primary's quorum, held alarmMinutes). */
  detectedAt: string | null;
  /** The automatic failover's execution started. */
  decidedAt: string | null;
  /** The app in the secondary region could write. */
  writesAcceptedAt: string | null;
  /** The public name resolved to the secondary's load balancer and its app answered. */
  servedAt: string | null;
}

export interface DrillReport {
  drillId: string;
  environment: string;
  trigger: string;
  mode: string;
  dryRun: boolean;
  regions: { primary: string; secondary: string };
  startedAt: string;
  finishedAt: string | null;
  verdict: DrillVerdict;
  targets: { rtoSeconds: number; rpoSeconds: number };
  failover: SwitchMeasurement;
  failback: SwitchMeasurement;
  /** max(data loss, lag before the switch) over both switches, null when nothing was measured. */
  rpoSeconds: number | null;
  phases: {
    name: DrillPhaseName;
    status: string;
    /** ISO-8601, when the phase ran. */
    startedAt?: string;
    finishedAt?: string;
    seconds: number | null;
    detail: string;
    checks: { name: string; ok: boolean; detail: string }[];
    operations: DrillOperation[];
  }[];
  /** Each missed target or failed phase, one sentence each. */
  misses: string[];
  /** Things worth knowing that did not fail the drill (e.g. an operation had to be re-run). */
  notes: string[];
  plan?: { steps: string[]; blockers: string[] };
  /** Set by the local game day for an outage it injected (see {@link withOutage}). */
  outage?: OutageTimeline;
  error?: string;
}

/**
 * The report with the outage's timeline: "outage to writes accepted" and "outage to public name
 * served" are judged against the RTO target, and a missing or late one is a miss.
 */
export function withOutage(report: DrillReport, outage: OutageTimeline): DrillReport {
  const misses = [...report.misses];
  const target = report.targets.rtoSeconds;
  for (const [what, at] of [
    [`writes accepted in ${report.regions.secondary}`, outage.writesAcceptedAt],
    [`public name served from ${report.regions.secondary}`, outage.servedAt],
  ] as const) {
    if (at === null) misses.push(`outage to ${what}: never, before the drill ended`);
    else if (secondsBetween(outage.startedAt, at) > target) {
      misses.push(
        `outage to ${what} took ${secondsBetween(outage.startedAt, at)} s, over the ${target} s target`,
      );
    }
  }
  const verdict =
    report.verdict === "passed" && misses.length > report.misses.length
      ? "missed-target"
      : report.verdict;
  return { ...report, outage, misses, verdict };
}

/** The outage's phases (each a span from its own start), for the table and the gantt. */
function outagePhases(
  outage: OutageTimeline,
  secondary: string,
): { name: string; from: string | null; to: string | null; what: string }[] {
  return [
    {
      name: "detection",
      from: outage.startedAt,
      to: outage.detectedAt,
      what: "probe-primary's quorum held for alarmMinutes; the primary-down alarm in ALARM",
    },
    {
      name: "decision",
      from: outage.detectedAt,
      to: outage.decidedAt,
      what: "auto-failover took the lock and started the workflow",
    },
    {
      name: "promotion",
      from: outage.decidedAt,
      to: outage.writesAcceptedAt,
      what: `plan, database promotion, until the app in ${secondary} writes`,
    },
    {
      name: "traffic",
      from: outage.startedAt,
      to: outage.servedAt,
      what: `Route 53's health checks (and the fence) until the name answers from ${secondary}`,
    },
  ];
}

/** The outage section of the Markdown report, with a Mermaid gantt of its phases. */
export function outageSection(report: DrillReport): string[] {
  const outage = report.outage;
  if (outage === undefined) return [];
  const target = report.targets.rtoSeconds;
  const since = (at: string | null) => (at === null ? null : secondsBetween(outage.startedAt, at));
  const cell = (value: number | null) => (value === null ? "never" : `${value} s`);
  const judge = (value: number | null) =>
    value === null ? "**missed**" : value <= target ? "met" : "**missed**";
  const secondary = report.regions.secondary;
  const writes = since(outage.writesAcceptedAt);
  const served = since(outage.servedAt);
  const phases = outagePhases(outage, secondary);
  const rows = phases
    .filter((phase) => phase.from !== null && phase.to !== null)
    .map((phase, index) => {
      const start = wholeSeconds(phase.from as string);
      const end = Math.max(start, wholeSeconds(phase.to as string));
      return `    ${phase.name} :${end > start ? "done" : "done, milestone"}, o${index}, ${ganttTime(start)}, ${ganttTime(end)}`;
    });
  return [
    "",
    `**Outage** (${outage.fault}, from ${outage.startedAt}): measured from the outage, not from a request.`,
    "",
    "| measure | measured | target | result |",
    "| --- | --- | --- | --- |",
    `| outage to writes accepted in ${secondary} | ${cell(writes)} | ${target} s | ${judge(writes)} |`,
    `| outage to public name served from ${secondary} | ${cell(served)} | ${target} s | ${judge(served)} |`,
    "",
    "| phase | from | to | seconds | what |",
    "| --- | --- | --- | --- | --- |",
    ...phases.map(
      (phase) =>
        `| ${phase.name} | ${phase.from ?? "-"} | ${phase.to ?? "never"} | ` +
        `${phase.from !== null && phase.to !== null ? secondsBetween(phase.from, phase.to) : "-"} | ${phase.what} |`,
    ),
    ...(rows.length === 0
      ? []
      : [
          "",
          "```mermaid",
          "gantt",
          `    title Outage ${outage.fault} (UTC)`,
          `    dateFormat ${GANTT_DATE_FORMAT}`,
          "    axisFormat %H:%M:%S",
          "    section outage",
          ...rows,
          "```",
        ]),
  ];
}

export function drillReport(state: DrillState): DrillReport {
  const phase = (name: DrillPhaseName) =>
    state.phases.find((candidate) => candidate.name === name) as DrillPhase;
  const failover = measureSwitch(state, phase("failover"), phase("verify-secondary"), "failover");
  const failback = measureSwitch(state, phase("failback"), phase("verify-primary"), "failback");
  const { rtoSeconds, rpoSeconds } = state.options.targets;

  // A dry run that got its plan is judged by the plan (the verdict `dry-run`, its blockers in
  // `plan`): the preflight fails on a blocker on purpose, which is no miss of the drill.
  const planned = state.options.dryRun && state.plan !== undefined && !state.error;
  const misses: string[] = [];
  const notes: string[] = [];
  for (const candidate of state.phases) {
    if (planned && candidate.name === "preflight") continue;
    if (candidate.status === "failed") {
      misses.push(`${candidate.name} failed: ${candidate.detail ?? "no detail"}`);
    } else if (candidate.status === "running" || candidate.status === "pending") {
      misses.push(`${candidate.name} did not finish`);
    }
  }
  for (const [name, measured] of [
    ["failover", failover],
    ["failback", failback],
  ] as const) {
    if (measured.rtoSeconds !== null && measured.rtoSeconds > rtoSeconds) {
      misses.push(`${name} RTO ${measured.rtoSeconds} s is over the ${rtoSeconds} s target`);
    }
    if (measured.attempts > 1) {
      notes.push(
        `the ${name} needed ${measured.attempts} operations: the first failed and was started ` +
          "again (see the phase table); the RTO includes the re-run",
      );
    }
  }
  const rpoMeasurements = [failover, failback].flatMap((measured) =>
    [measured.dataLossSeconds, measured.replicationLagBeforeSeconds].filter(
      (value): value is number => typeof value === "number",
    ),
  );
  const measuredRpo = rpoMeasurements.length > 0 ? Math.max(...rpoMeasurements) : null;
  if (measuredRpo !== null && measuredRpo > rpoSeconds) {
    misses.push(`RPO ${measuredRpo} s is over the ${rpoSeconds} s target`);
  }
  const failoverPhase = phase("failover");
  if (failoverPhase.refused) {
    notes.push(
      "the failover's plan refused it (see the failover phase): nothing was changed, and " +
        "nothing needs undoing",
    );
  } else if (failoverPhase.status === "failed" && (failoverPhase.operations?.length ?? 0) > 0) {
    notes.push(
      "the failover failed after it started: the environment may be partly failed over. " +
        "Read npm run status and finish by hand (docs/dr-plan.md)",
    );
  }
  if (failoverPhase.status === "succeeded" && phase("failback").status !== "succeeded") {
    notes.push(
      `the failback did not complete: ${state.options.environment} may still be served from ` +
        `${state.options.regions.secondary}. Read npm run status -- --env ` +
        `${state.options.environment}, then fail back (npm run failback -- --env ` +
        `${state.options.environment} --reason "..." --watch) once the cause is fixed`,
    );
  }
  if (state.options.dryRun) notes.push("dry run: nothing was changed and no RTO was measured");
  if (state.error) notes.push(`the drill broke off: ${state.error}`);

  const failed = state.phases.some(
    (candidate) => candidate.status === "failed" || candidate.status === "running",
  );
  const refusedOnly =
    failoverPhase.refused === true &&
    state.phases.every(
      (candidate) =>
        candidate === failoverPhase ||
        candidate.status === "succeeded" ||
        candidate.status === "skipped" ||
        candidate.status === "pending",
    );
  const verdict: DrillVerdict = planned
    ? "dry-run"
    : refusedOnly
      ? "blocked"
      : failed
        ? "failed"
        : misses.length > 0
          ? "missed-target"
          : "passed";

  return {
    drillId: state.drillId,
    environment: state.options.environment,
    trigger: state.options.trigger,
    mode: state.options.mode,
    dryRun: state.options.dryRun,
    regions: state.options.regions,
    startedAt: state.startedAt,
    finishedAt: state.finishedAt ?? null,
    verdict,
    targets: { rtoSeconds, rpoSeconds },
    failover,
    failback,
    rpoSeconds: measuredRpo,
    phases: state.phases.map((candidate) => ({
      name: candidate.name,
      status: candidate.status,
      ...(candidate.startedAt ? { startedAt: candidate.startedAt } : {}),
      ...(candidate.finishedAt ? { finishedAt: candidate.finishedAt } : {}),
      seconds:
        candidate.startedAt && candidate.finishedAt
          ? secondsBetween(candidate.startedAt, candidate.finishedAt)
          : null,
      detail: candidate.detail ?? "",
      checks: candidate.checks ?? [],
      operations: candidate.operations ?? [],
    })),
    misses,
    notes,
    ...(state.plan ? { plan: state.plan } : {}),
    ...(state.error ? { error: state.error } : {}),
  };
}

function measureSwitch(
  state: DrillState,
  operationPhase: DrillPhase,
  verifyPhase: DrillPhase,
  kind: "failover" | "failback",
): SwitchMeasurement {
  const operations = operationPhase.operations ?? [];
  const succeeded = operations.find((operation) => operation.status === "succeeded");
  const verified =
    verifyPhase.status === "succeeded" && operationPhase.startedAt && verifyPhase.finishedAt;
  return {
    rtoSeconds: verified
      ? secondsBetween(operationPhase.startedAt as string, verifyPhase.finishedAt as string)
      : null,
    workflowRtoSeconds: succeeded?.rtoSeconds ?? null,
    replicationLagBeforeSeconds: state.replicationLagBeforeSeconds[kind] ?? null,
    dataLossSeconds: succeeded?.dataLossSeconds ?? null,
    attempts: operations.length,
  };
}

const VERDICT_TEXT: Record<Exclude<DrillVerdict, "dry-run">, string> = {
  passed: "PASSED",
  failed: "FAILED",
  "missed-target": "MISSED TARGET",
  blocked: "BLOCKED (refused by the plan, nothing changed)",
};

/**
 * The verdict as people read it (report heading, SNS subject, the run's summary): a dry run
 * says `DRY RUN` and its blockers, e.g. `DRY RUN (plan only, nothing changed): 1 blocker: the
 * secondary cluster is not a member`.
 */
export function verdictText(report: DrillReport): string {
  if (report.verdict !== "dry-run") return VERDICT_TEXT[report.verdict];
  const blockers = report.plan?.blockers ?? [];
  const found =
    blockers.length === 0
      ? "no blockers"
      : `${blockers.length === 1 ? "1 blocker" : `${blockers.length} blockers`}: ${blockers.join("; ")}`;
  return `DRY RUN (plan only, nothing changed): ${found}`;
}

/**
 * Whether the drill did what it set out to do: a drill that passed, or a dry run whose plan has
 * no blockers. `npm run drill` exits 0 on it.
 */
export function drillSucceeded(report: DrillReport): boolean {
  if (report.verdict === "dry-run") return (report.plan?.blockers.length ?? 0) === 0;
  return report.verdict === "passed";
}

/**
 * How the gantt charts write times (https://mermaid.js.org/syntax/gantt.html#input-date-format):
 * UTC wall-clock time without a zone. The browser that renders the chart parses a time without a
 * zone as its local time and draws the axis in local time too, so the axis reads the UTC times
 * written here in every time zone; Unix seconds (`X`, an instant) would be drawn in the viewer's
 * zone under a title that says UTC.
 */
const GANTT_DATE_FORMAT = "YYYY-MM-DD HH:mm:ss";

/** `iso` rounded to whole seconds, in milliseconds since the epoch. */
function wholeSeconds(iso: string): number {
  return Math.round(Date.parse(iso) / 1000) * 1000;
}

/** A time in {@link GANTT_DATE_FORMAT}, e.g. `2026-01-05 09:02:20` (UTC). */
function ganttTime(epochMilliseconds: number): string {
  return new Date(epochMilliseconds).toISOString().slice(0, 19).replace("T", " ");
}

/**
 * The phases as a Mermaid gantt chart, which GitHub renders in Markdown
 * (https://docs.github.com/en/get-started/writing-on-github/working-with-advanced-formatting/creating-diagrams).
 * Times are UTC to the second ({@link GANTT_DATE_FORMAT}); a phase that took no time is a
 * milestone, a failed one is marked `crit`. Phases that did not run are left out.
 */
export function timelineChart(report: DrillReport): string[] {
  const ran = report.phases.filter((phase) => phase.startedAt && phase.finishedAt);
  if (ran.length === 0) return [];
  const rows = ran.map((phase, index) => {
    const start = wholeSeconds(phase.startedAt as string);
    const end = Math.max(start, wholeSeconds(phase.finishedAt as string));
    const tags = [
      phase.status === "failed" ? "crit" : "done",
      ...(end > start ? [] : ["milestone"]),
    ];
    return `    ${phase.name} :${tags.join(", ")}, p${index}, ${ganttTime(start)}, ${ganttTime(end)}`;
  });
  return [
    "",
    "```mermaid",
    "gantt",
    `    title Drill ${report.drillId} (UTC)`,
    `    dateFormat ${GANTT_DATE_FORMAT}`,
    "    axisFormat %H:%M:%S",
    "    section phases",
    ...rows,
    "```",
  ];
}

/** The report as Markdown: verdict, RTO/RPO against the targets, the phase table, details. */
export function renderDrillReportMarkdown(report: DrillReport): string {
  const lines: string[] = [];
  const seconds = (value: number | null) => (value === null ? "n/a" : `${value} s`);
  const against = (value: number | null, target: number) =>
    value === null ? "not measured" : value <= target ? "met" : "**missed**";

  lines.push(
    `### DR drill ${report.environment}: ${verdictText(report)}`,
    "",
    `Drill \`${report.drillId}\` (${report.trigger}, ${report.mode} failover` +
      `${report.dryRun ? ", dry run" : ""}) from ${report.regions.primary} to ` +
      `${report.regions.secondary} and back; started ${report.startedAt}, finished ` +
      `${report.finishedAt ?? "(not finished)"}.`,
    "",
    "| measure | measured | target | result |",
    "| --- | --- | --- | --- |",
    `| RTO failover (POST to verified) | ${seconds(report.failover.rtoSeconds)} | ${report.targets.rtoSeconds} s | ${against(report.failover.rtoSeconds, report.targets.rtoSeconds)} |`,
    `| RTO failback (POST to verified) | ${seconds(report.failback.rtoSeconds)} | ${report.targets.rtoSeconds} s | ${against(report.failback.rtoSeconds, report.targets.rtoSeconds)} |`,
    `| RPO (data loss, or lag before a switch) | ${seconds(report.rpoSeconds)} | ${report.targets.rpoSeconds} s | ${against(report.rpoSeconds, report.targets.rpoSeconds)} |`,
    "",
    `Replication lag before the failover ${seconds(report.failover.replicationLagBeforeSeconds)}, ` +
      `before the failback ${seconds(report.failback.replicationLagBeforeSeconds)}; data loss ` +
      `${seconds(report.failover.dataLossSeconds)} (failover), ${seconds(report.failback.dataLossSeconds)} ` +
      `(failback). Workflow RTO ${seconds(report.failover.workflowRtoSeconds)} / ` +
      `${seconds(report.failback.workflowRtoSeconds)}.`,
    "",
    "| phase | status | duration | detail |",
    "| --- | --- | --- | --- |",
  );
  for (const phase of report.phases) {
    lines.push(
      `| ${phase.name} | ${phase.status} | ${phase.seconds === null ? "" : formatSeconds(phase.seconds)} | ${escapeCell(phase.detail)} |`,
    );
  }
  lines.push(...outageSection(report));
  lines.push(...timelineChart(report));
  if (report.misses.length > 0) {
    lines.push("", "**Misses**", "", ...report.misses.map((miss) => `- ${miss}`));
  }
  if (report.notes.length > 0) {
    lines.push("", "**Notes**", "", ...report.notes.map((note) => `- ${note}`));
  }
  if (report.plan) {
    lines.push(
      "",
      "**Failover plan (dry run)**",
      "",
      ...report.plan.steps.map((step, index) => `${index + 1}. ${step}`),
      ...report.plan.blockers.map((blocker) => `- blocked: ${blocker}`),
    );
  }
  const operations = report.phases.flatMap((phase) =>
    phase.operations.map((operation) => ({ phase: phase.name, operation })),
  );
  if (operations.length > 0) {
    lines.push("", "**Operations**", "");
    for (const { phase, operation } of operations) {
      const facts = [
        operation.status,
        ...(operation.rtoSeconds === undefined ? [] : [`workflow RTO ${operation.rtoSeconds} s`]),
        ...(operation.dataLossSeconds === undefined
          ? []
          : [`data loss ${seconds(operation.dataLossSeconds)}`]),
        ...(operation.error ? [`error: ${operation.error}`] : []),
      ];
      const steps = operation.steps.map(
        (step) =>
          `${step.name} ${step.status}` +
          (step.seconds === undefined ? "" : ` in ${step.seconds} s`) +
          (step.error ? ` (${step.error})` : ""),
      );
      lines.push(
        `- ${phase} \`${operation.operationId}\`: ${facts.join(", ")}` +
          (steps.length > 0 ? `; steps: ${steps.join(", ")}` : ""),
      );
    }
  }
  const checks = report.phases.filter((phase) => phase.checks.length > 0);
  if (checks.length > 0) {
    lines.push("", "**Checks**", "");
    for (const phase of checks) {
      for (const item of phase.checks) {
        lines.push(`- ${phase.name}: ${item.ok ? "ok" : "FAILED"} ${item.name}: ${item.detail}`);
      }
    }
  }
  return `${lines.join("\n")}\n`;
}

/** Metrics of a drill (namespace and dimensions are the publisher's business). */
export function drillMetrics(
  report: DrillReport,
): { name: string; value: number; unit: "Seconds" | "Count" }[] {
  // A dry run is no drill outcome: DrillPassed 0 would read as a failed drill.
  const metrics: { name: string; value: number; unit: "Seconds" | "Count" }[] =
    report.verdict === "dry-run"
      ? []
      : [{ name: "DrillPassed", value: report.verdict === "passed" ? 1 : 0, unit: "Count" }];
  const add = (name: string, value: number | null) => {
    if (value !== null) metrics.push({ name, value, unit: "Seconds" });
  };
  add("FailoverRto", report.failover.rtoSeconds);
  add("FailbackRto", report.failback.rtoSeconds);
  add("Rpo", report.rpoSeconds);
  add("ReplicationLagBeforeFailover", report.failover.replicationLagBeforeSeconds);
  return metrics;
}

/** An SNS message: the subject (at most 100 characters, SNS's limit) and the Markdown body. */
export function drillNotification(report: DrillReport): { subject: string; message: string } {
  const measured =
    report.failover.rtoSeconds === null ? "" : `, RTO ${report.failover.rtoSeconds} s`;
  const subject = `DR drill ${report.environment}: ${verdictText(report)}${measured}`;
  return {
    subject: subject.length <= 100 ? subject : `${subject.slice(0, 97)}...`,
    message: renderDrillReportMarkdown(report),
  };
}

function formatSeconds(value: number): string {
  return value >= 120 ? `${formatDuration(Math.round(value))} (${value} s)` : `${value} s`;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}
