/**
 * The scheduled drill in AWS: what the run-drill Lambda does for each task of the drill state
 * machine. The drill itself (phases, polling, measurements) is the shared driver in drill.ts,
 * talking to the operations API over signed HTTP like an operator; this module adds what only the
 * AWS runner does: build the drill's options from the deployed settings, and at the end store the
 * report in S3, publish its CloudWatch metrics and send the SNS summary.
 *
 * ```
 * start   -> newDrill + advanceDrill          -> {drill, done, waitSeconds, progress, advances}
 * advance -> advanceDrill                     -> the same shape
 * report  -> drillReport + S3 + metrics + SNS -> {verdict, reportKey, ...}
 * ```
 */
import { type CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import type { DrillSettings } from "../shared/drill-settings";
import { causeMessage, describeError } from "../shared/errors";
import type { OperationsApi } from "../shared/operations-api";
import type { ObjectWriter } from "../shared/s3-object-writer";
import type { AutomationSettings } from "../shared/settings";
import { advanceDrill, type DrillOptions, type DrillState, newDrill } from "./drill";
import {
  type DrillReport,
  type DrillVerdict,
  drillMetrics,
  drillNotification,
  drillReport,
  drillSucceeded,
  renderDrillReportMarkdown,
  verdictText,
} from "./drill-report";

export interface DrillRunClients {
  /** Writes to the report bucket, SSE-KMS (s3-object-writer.ts in AWS). */
  reports: ObjectWriter;
  cloudWatch: CloudWatchClient;
  sns: SNSClient;
}

export interface DrillRunContext {
  /** The automation's shared settings: environment, regions, targets, alert topic. */
  settings: AutomationSettings;
  drill: DrillSettings;
  /** The operations API the drill drives (the SigV4 HTTP client in AWS). */
  api: OperationsApi;
  clients: DrillRunClients;
  now: () => Date;
  /** Where progress lines go (CloudWatch Logs in AWS). @default console.log */
  log?: (line: string) => void;
}

/** The execution input: what the schedule sends (`{"holdMinutes": 5}`) or an operator passes. */
export interface DrillStartInput {
  /** @default - the environment's `drill.holdMinutes` */
  holdMinutes?: number;
  /** Plan the failover and stop; nothing changes. @default false */
  dryRun?: boolean;
  /** @default - "DR drill <drillId> (schedule)" */
  reason?: string;
}

/** What the start and advance tasks return: the state the Choice, Wait and next task read. */
export interface DrillTickResult {
  drill: DrillState;
  done: boolean;
  waitSeconds: number;
  progress: string[];
  /** advanceDrill calls so far; the state machine stops the loop at its limit. */
  advances: number;
  /**
   * Always null here. A Catch writes the caught error to `$.error`, and the report task reads
   * `$.error` on every path, so the path must exist on the normal one too.
   */
  error: null;
}

/** The error a Catch recorded: Step Functions' `{Error, Cause}`. */
export interface CaughtError {
  Error?: string;
  Cause?: string;
}

export interface DrillReportResult {
  /** Null when the drill never started (there is nothing to report on but the error). */
  drillId: string | null;
  /**
   * What the drill state machine's `Passed?` choice routes on (src/constructs/automation/drill.ts:
   * `passed` ends in Succeed, `missed-target` and anything else in a Fail state, which sets off
   * the drill-failed alarm): the report's verdict, except that a dry run is `passed` when its
   * plan has no blockers and `blocked` when it has. The report and `summary` say `DRY RUN`.
   */
  verdict: Exclude<DrillVerdict, "dry-run">;
  /** The drill was a dry run (the report's verdict is `dry-run`). */
  dryRun: boolean;
  /** `drills/<environment>/<drillId>.json`, or null when the drill never started. */
  reportKey: string | null;
  markdownKey: string | null;
  /** One line for the execution's output and its Fail state's cause. */
  summary: string;
}

/** The S3 keys of a drill's report. */
export function reportKeys(
  environment: string,
  drillId: string,
): { json: string; markdown: string } {
  const base = `drills/${environment}/${drillId}`;
  return { json: `${base}.json`, markdown: `${base}.md` };
}

/** The drill's options: the environment's facts from the settings, the hold from the input. */
export function drillOptionsFrom(
  settings: AutomationSettings,
  drill: DrillSettings,
  input: DrillStartInput,
): DrillOptions {
  return {
    environment: settings.environment,
    holdSeconds: Math.round((input.holdMinutes ?? drill.holdMinutes) * 60),
    dryRun: input.dryRun ?? false,
    mode: "planned",
    targets: { rtoSeconds: settings.rtoSeconds, rpoSeconds: settings.rpoSeconds },
    regions: {
      primary: settings.regions.primary.region,
      secondary: settings.regions.secondary.region,
    },
    ...(input.reason === undefined ? {} : { reason: input.reason }),
    trigger: "schedule",
    pollSeconds: drill.pollSeconds,
  };
}

/**
 * The start task: lays out a new drill and calls nothing. Every call to the API happens in an
 * advance task, whose Catch carries the drill: a start that failed after it had posted the
 * failover could only report "nothing was changed", wrongly.
 */
export async function startDrill(
  context: DrillRunContext,
  input: DrillStartInput,
): Promise<DrillTickResult> {
  const state = newDrill(drillOptionsFrom(context.settings, context.drill, input), context.now());
  logLine(context, `${state.drillId}: started (${state.options.reason})`);
  return {
    drill: state,
    done: false,
    waitSeconds: 0,
    progress: [`started (${state.options.reason})`],
    advances: 0,
    error: null,
  };
}

/** The advance task: the next piece of work of a running drill. */
export async function continueDrill(
  context: DrillRunContext,
  state: DrillState,
  advances: number,
): Promise<DrillTickResult> {
  return tick(context, state, advances);
}

async function tick(
  context: DrillRunContext,
  state: DrillState,
  advances: number,
): Promise<DrillTickResult> {
  const result = await advanceDrill(context.api, state, context.now);
  for (const line of result.progress) logLine(context, `${state.drillId}: ${line}`);
  return {
    drill: result.state,
    done: result.done,
    waitSeconds: result.waitSeconds,
    progress: result.progress,
    advances: advances + 1,
    error: null,
  };
}

/**
 * The report task: writes `drills/<environment>/<drillId>.json` and `.md` (SSE-KMS), publishes
 * the drill's metrics (namespace from the settings, dimension Environment) and sends the summary
 * to the alert topic, in that order: the stored report matters most. Each write is idempotent
 * apart from a repeated metric sample or message when the task is retried.
 *
 * `error` is what a Catch recorded when the start or advance task failed: the drill broke off,
 * and the report says so, and that the environment may need a failback by hand.
 */
export async function reportDrill(
  context: DrillRunContext,
  drill: DrillState | null,
  error: CaughtError | null,
): Promise<DrillReportResult> {
  const environment = context.settings.environment;
  if (drill === null) return reportNotStarted(context, error);

  const state = error ? brokenOff(drill, error, context.now()) : drill;
  const report = drillReport(state);
  if (error) report.notes.push(manualFailbackNote(state));
  const keys = reportKeys(environment, state.drillId);
  const markdown = renderDrillReportMarkdown(report);
  const { reports, sns } = context.clients;
  // Every output is attempted: a report that cannot be stored (an S3 or KMS permission only a
  // real account shows) must not also keep the message from going out.
  const failures: string[] = [];
  const attempt = async (what: string, write: () => Promise<unknown>) => {
    try {
      await write();
    } catch (caught) {
      failures.push(`${what}: ${describeError(caught)}`);
    }
  };
  await attempt("storing the report", async () => {
    await reports.putObject({
      key: keys.json,
      body: `${JSON.stringify(report, null, 2)}\n`,
      contentType: "application/json",
    });
    await reports.putObject({
      key: keys.markdown,
      body: markdown,
      contentType: "text/markdown; charset=utf-8",
    });
  });
  await attempt("publishing the metrics", () => putMetrics(context, report));

  const notification = drillNotification(report);
  const location = failures.some((failure) => failure.startsWith("storing"))
    ? `The report could not be stored: ${failures.join("; ")}`
    : `Report: s3://${context.drill.reportBucket}/${keys.markdown} (JSON: ${keys.json})`;
  await sns.send(
    new PublishCommand({
      TopicArn: context.settings.topicArn,
      Subject: notification.subject,
      Message: `${notification.message}\n\n${location}\n`,
    }),
  );
  if (failures.length > 0) {
    // The message went out; the failed task (retried, then failing the execution) shows the rest.
    throw new Error(`drill ${state.drillId} reported by SNS, but ${failures.join("; ")}`);
  }

  const summary = summaryOf(report, keys.markdown);
  logLine(context, `${state.drillId}: ${summary}`);
  return {
    drillId: state.drillId,
    verdict: stateMachineVerdict(report),
    dryRun: report.verdict === "dry-run",
    reportKey: keys.json,
    markdownKey: keys.markdown,
    summary,
  };
}

/** The report's verdict as the state machine routes it (see {@link DrillReportResult.verdict}). */
function stateMachineVerdict(report: DrillReport): DrillReportResult["verdict"] {
  if (report.verdict !== "dry-run") return report.verdict;
  return drillSucceeded(report) ? "passed" : "blocked";
}

/**
 * Metric names are the report's (drillMetrics); one datum each, all at the same timestamp. A dry
 * run has none, and PutMetricData needs at least one datum (MetricData is required:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html).
 */
async function putMetrics(context: DrillRunContext, report: DrillReport): Promise<void> {
  const metrics = drillMetrics(report);
  if (metrics.length === 0) return;
  const timestamp = context.now();
  await context.clients.cloudWatch.send(
    new PutMetricDataCommand({
      Namespace: context.drill.metricNamespace,
      MetricData: metrics.map((metric) => ({
        MetricName: metric.name,
        Value: metric.value,
        Unit: metric.unit,
        Timestamp: timestamp,
        Dimensions: [{ Name: "Environment", Value: report.environment }],
      })),
    }),
  );
}

/**
 * The start task failed before a drill existed (bad input or settings, or the Lambda itself):
 * nothing was changed. There is no report to store; the alert topic hears about it, and
 * DrillPassed = 0 keeps a dashboard of drill outcomes honest.
 */
async function reportNotStarted(
  context: DrillRunContext,
  error: CaughtError | null,
): Promise<DrillReportResult> {
  const environment = context.settings.environment;
  const reason = describeCaught(error);
  const summary = `the drill did not start, nothing was changed: ${reason}`;
  await context.clients.cloudWatch.send(
    new PutMetricDataCommand({
      Namespace: context.drill.metricNamespace,
      MetricData: [
        {
          MetricName: "DrillPassed",
          Value: 0,
          Unit: "Count",
          Timestamp: context.now(),
          Dimensions: [{ Name: "Environment", Value: environment }],
        },
      ],
    }),
  );
  await context.clients.sns.send(
    new PublishCommand({
      TopicArn: context.settings.topicArn,
      Subject: `DR drill ${environment}: DID NOT START`,
      Message:
        `The scheduled DR drill of ${environment} did not start, and nothing was changed.\n\n` +
        `${reason}\n\nThe drill state machine's execution history shows the failed Start task.\n`,
    }),
  );
  logLine(context, summary);
  return {
    drillId: null,
    verdict: "failed",
    dryRun: false,
    reportKey: null,
    markdownKey: null,
    summary,
  };
}

/** The drill as it stood when a task failed, ended with the error recorded. */
function brokenOff(drill: DrillState, error: CaughtError, now: Date): DrillState {
  return {
    ...drill,
    finishedAt: drill.finishedAt ?? now.toISOString(),
    error: `the drill state machine stopped driving it: ${describeCaught(error)}`,
  };
}

/** What an operator must check after a broken-off drill, by how far it got. */
function manualFailbackNote(state: DrillState): string {
  const status = (name: string) => state.phases.find((phase) => phase.name === name)?.status;
  const environment = state.options.environment;
  const failoverBegan = status("failover") !== undefined && status("failover") !== "pending";
  if (!failoverBegan) {
    return "the drill stopped before its failover started: nothing was moved";
  }
  if (status("failback") === "succeeded") {
    return "the drill stopped after its failback: the primary region serves again";
  }
  return (
    "the drill stopped after its failover started and before its failback finished: the " +
    `environment may still be served from the secondary region. Run npm run status -- --env ` +
    `${environment}; if it is, wait for any running operation to end, then fail back by hand ` +
    `with npm run failback -- --env ${environment} --reason "finish drill ${state.drillId}"`
  );
}

function summaryOf(report: DrillReport, markdownKey: string): string {
  const verdict = report.verdict === "dry-run" ? verdictText(report) : report.verdict.toUpperCase();
  const first = report.misses[0] ?? report.error;
  return `${verdict}${first ? `: ${first}` : ""} (report ${markdownKey})`;
}

/**
 * `<Error>: <message>`. A Lambda task's Cause is the function's error as JSON
 * (`{"errorMessage","errorType","trace"}`); its message is what a reader needs, not the trace.
 */
function describeCaught(error: CaughtError | null): string {
  if (!error) return "unknown error";
  return (
    [error.Error, error.Cause && causeMessage(error.Cause)].filter(Boolean).join(": ") ||
    "unknown error"
  );
}

function logLine(context: DrillRunContext, line: string): void {
  (context.log ?? console.log)(line);
}
