/**
 * The DR drill as a resumable sequence of phases: preflight -> failover -> verify the secondary
 * -> hold -> failback -> verify the primary. It talks only to the {@link OperationsApi} (the same
 * signed HTTP API an operator uses, or the local game day's in-process one), so a drill proves
 * the path people will use on the day.
 *
 * The driver is a pure step function over a JSON-serializable {@link DrillState}: each
 * {@link advanceDrill} call does the next bit of work and says how long to wait before the next
 * call. Three runners share it: the drill state machine in AWS (a Lambda task plus a Wait state),
 * `npm run drill` (a loop with real sleeps) and the local game day (a loop on simulated time).
 */
import type { OperationKind, OperationMode, OperationRecord } from "../shared/operation";
import {
  formatDuration,
  type OperationReading,
  operationProgressLines,
  readingOf,
} from "../shared/operation-progress";
import {
  type AppHealth,
  isTransientApiError,
  type OperationsApi,
  OperationsApiError,
  type StatusResponse,
  type TriggerResponse,
} from "../shared/operations-api";
import type { RegionRole } from "../shared/region-roles";

export type DrillTrigger = "schedule" | "cli" | "local";

export interface DrillOptions {
  /** e.g. `staging`. */
  environment: string;
  /** How long to stay failed over before failing back. */
  holdSeconds: number;
  /** Plan the failover (dry run) and stop; nothing changes. */
  dryRun: boolean;
  /**
   * Mode of the failover. A drill is `planned` (switchover, both regions up); `unplanned`
   * rehearses a regional outage (the local game day's primary-region-down). @default "planned"
   */
  mode?: OperationMode;
  /** The environment's `dr` targets. */
  targets: { rtoSeconds: number; rpoSeconds: number };
  /** Region ids by role. */
  regions: Record<RegionRole, string>;
  /** @default - "DR drill <drillId> (<trigger>)" */
  reason?: string;
  trigger: DrillTrigger;
  /** Seconds between two reads of a running operation or a verification. @default 10 */
  pollSeconds?: number;
  /** How long verification may take to pass (DNS TTLs, health checks). @default 300 */
  verifyTimeoutSeconds?: number;
  /** How long one failover/failback operation may run. @default 1800 */
  operationTimeoutSeconds?: number;
  /**
   * The failover is not requested: the drill waits for the automatic failover that the outage
   * it rehearses sets off (probe-primary, the primary-down alarm, auto-failover), then follows
   * it; a re-run after a failure is requested as an operator would. The local game day's outage
   * faults use it, so their RTO runs from the outage, not from a request. @default false
   */
  awaitAutomatic?: boolean;
  /**
   * How many times a failed operation is started again before the drill gives up. Every step
   * of the workflow is idempotent, so starting it again is what the runbook says to do.
   * @default 1
   */
  operationRetries?: number;
}

export const DRILL_PHASES = [
  "preflight",
  "failover",
  "verify-secondary",
  "hold",
  "failback",
  "verify-primary",
] as const;
export type DrillPhaseName = (typeof DRILL_PHASES)[number];

export type DrillPhaseStatus = "pending" | "running" | "succeeded" | "failed" | "skipped";

/** One thing a phase checked. */
export interface DrillCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** One failover or failback operation a phase started (a re-run after a failure is a second one). */
export interface DrillOperation {
  operationId: string;
  /** Final status as GET /operations/{id} reported it. */
  status: OperationRecord["status"];
  /** The workflow's own RTO (requested -> verified), when it succeeded. */
  rtoSeconds?: number;
  dataLossSeconds?: number | null;
  error?: string;
  /** Steps with their durations, for the report. */
  steps: { name: string; status: string; seconds?: number; error?: string }[];
}

export interface DrillPhase {
  name: DrillPhaseName;
  status: DrillPhaseStatus;
  /** ISO-8601. */
  startedAt?: string;
  finishedAt?: string;
  /** One sentence: what happened. */
  detail?: string;
  checks?: DrillCheck[];
  operations?: DrillOperation[];
  /**
   * The operation's plan refused it (PlanBlocked) and nothing was changed: not retried, and the
   * report's verdict is "blocked", not "failed".
   */
  refused?: boolean;
}

/** Working state of the phase in progress (what to poll, until when). */
interface DrillCursor {
  /** ISO-8601: give up after this. */
  deadline?: string;
  /** The operation being watched. */
  operationId?: string;
  /** The last reading of the operation, for progress lines. */
  lastReading?: OperationReading;
  /** Verification attempts so far. */
  attempts?: number;
  /** Transient API failures (timeout, 5xx, throttling) in a row. */
  transientErrors?: number;
}

/** Everything a drill knows; JSON-serializable so a Step Functions state can carry it. */
export interface DrillState {
  version: 1;
  /** `drill-<environment>-<yyyymmddThhmmssZ>`, and `-<suffix>` for a CLI run (see {@link drillIdOf}). */
  drillId: string;
  options: Required<Omit<DrillOptions, "reason">> & { reason: string };
  startedAt: string;
  finishedAt?: string;
  phases: DrillPhase[];
  cursor: DrillCursor;
  /** Replication lag (s) read just before each switch; null when it could not be read. */
  replicationLagBeforeSeconds: { failover?: number | null; failback?: number | null };
  /** The dry run's plan, when dryRun. */
  plan?: { steps: string[]; blockers: string[] };
  /** Set when the drill itself broke (e.g. the API could not be reached). */
  error?: string;
}

export interface DrillTick {
  state: DrillState;
  /** True when there is nothing left to do (the report can be written). */
  done: boolean;
  /** Seconds to wait before the next {@link advanceDrill} (0 when done). */
  waitSeconds: number;
  /** Human-readable lines about what just happened, for a terminal or a log. */
  progress: string[];
}

const DEFAULTS = {
  mode: "planned",
  awaitAutomatic: false,
  pollSeconds: 10,
  verifyTimeoutSeconds: 300,
  operationTimeoutSeconds: 1800,
  operationRetries: 1,
} as const;

/**
 * A drill's id: `drill-<environment>-<yyyymmddThhmmssZ>` of `at`, then `-<suffix>` when given.
 * The scheduled drill needs no suffix (one start per schedule, a second one is refused with
 * 409); `npm run drill` adds a random one, because a local game day's simulated clock starts at
 * the same instant on every run and two runs must not overwrite each other's report.
 */
export function drillIdOf(environment: string, at: Date, suffix?: string): string {
  return `drill-${environment}-${compactTimestamp(at)}${suffix ? `-${suffix}` : ""}`;
}

/**
 * Starts a drill: validates the options and lays out the phases. Does not call anything.
 * @param drillId @default - {@link drillIdOf} the environment and `now`
 */
export function newDrill(
  options: DrillOptions,
  now: Date,
  drillId: string = drillIdOf(options.environment, now),
): DrillState {
  const problems: string[] = [];
  const nonNegative = (name: string, value: number | undefined) => {
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
      problems.push(`${name} must be a number of seconds >= 0, got ${value}`);
    }
  };
  nonNegative("holdSeconds", options.holdSeconds);
  nonNegative("pollSeconds", options.pollSeconds);
  nonNegative("verifyTimeoutSeconds", options.verifyTimeoutSeconds);
  nonNegative("operationTimeoutSeconds", options.operationTimeoutSeconds);
  if (options.operationRetries !== undefined && !Number.isInteger(options.operationRetries)) {
    problems.push(`operationRetries must be a whole number, got ${options.operationRetries}`);
  }
  if (problems.length > 0) throw new Error(`invalid drill options: ${problems.join("; ")}`);

  return {
    version: 1,
    drillId,
    options: {
      ...DEFAULTS,
      ...options,
      reason: options.reason ?? `DR drill ${drillId} (${options.trigger})`,
    },
    startedAt: now.toISOString(),
    phases: DRILL_PHASES.map((name) => ({ name, status: "pending" })),
    cursor: {},
    replicationLagBeforeSeconds: {},
  };
}

/**
 * Does the next piece of work of `state` (a copy is returned; the argument is not changed).
 * Never throws for an API failure: that fails the phase (and the drill), which the report shows.
 */
export async function advanceDrill(
  api: OperationsApi,
  input: DrillState,
  now: () => Date,
): Promise<DrillTick> {
  const state = structuredClone(input);
  const progress: string[] = [];
  const context: PhaseContext = { api, state, now, progress };
  let waitSeconds = 0;
  // Run phases until one needs to wait or the drill is over.
  for (;;) {
    const phase = state.phases.find(
      (candidate) =>
        candidate.status !== "succeeded" &&
        candidate.status !== "skipped" &&
        candidate.status !== "failed",
    );
    if (phase === undefined || state.finishedAt !== undefined) {
      state.finishedAt ??= now().toISOString();
      return { state, done: true, waitSeconds: 0, progress };
    }
    if (phase.status === "pending") {
      phase.status = "running";
      phase.startedAt = now().toISOString();
      state.cursor = {};
    }
    let outcome: PhaseOutcome;
    try {
      outcome = await PHASES[phase.name](context, phase);
      state.cursor.transientErrors = 0;
    } catch (error) {
      if (isTransientApiError(error) && mayRetry(state, now)) {
        // A failover is when the API is most likely to answer slowly; giving up on one missed
        // answer would abandon an operation that goes on, and skip the failback.
        const count = (state.cursor.transientErrors ?? 0) + 1;
        state.cursor.transientErrors = count;
        outcome = {
          kind: "wait",
          seconds: state.options.pollSeconds,
          progress: [
            `${phase.name}: ${describe(error)}; trying again in ${state.options.pollSeconds} s ` +
              `(${count} in a row)`,
          ],
        };
      } else {
        outcome = fail(phase, `the drill could not go on: ${describe(error)}`);
        state.error = phase.detail;
      }
    }
    progress.push(...outcome.progress);
    if (outcome.kind === "wait") {
      waitSeconds = outcome.seconds;
      return { state, done: false, waitSeconds, progress };
    }
    phase.finishedAt = now().toISOString();
    state.cursor = {};
    if (phase.status === "failed") {
      endAfterFailure(state, phase, now);
    }
  }
}

/** Transient API failures in a row a phase without a deadline rides out (a minute at 10 s). */
export const MAX_TRANSIENT_ERRORS = 6;

/** Until the phase's own deadline when it has one, else {@link MAX_TRANSIENT_ERRORS} in a row. */
function mayRetry(state: DrillState, now: () => Date): boolean {
  const { deadline, transientErrors = 0 } = state.cursor;
  if (deadline !== undefined) return now().getTime() < Date.parse(deadline);
  return transientErrors < MAX_TRANSIENT_ERRORS;
}

// ---------------------------------------------------------------- phases

interface PhaseContext {
  api: OperationsApi;
  state: DrillState;
  now: () => Date;
  progress: string[];
}

type PhaseOutcome =
  | { kind: "wait"; seconds: number; progress: string[] }
  | { kind: "done"; progress: string[] };

const PHASES: Record<
  DrillPhaseName,
  (context: PhaseContext, phase: DrillPhase) => Promise<PhaseOutcome>
> = {
  preflight,
  failover: (context, phase) => runOperation(context, phase, "failover"),
  "verify-secondary": (context, phase) => verify(context, phase, "secondary"),
  hold,
  failback: (context, phase) => runOperation(context, phase, "failback"),
  "verify-primary": (context, phase) => verify(context, phase, "primary"),
};

/** The environment must be in its normal shape before a drill moves it. */
async function preflight(context: PhaseContext, phase: DrillPhase): Promise<PhaseOutcome> {
  const { api, state } = context;
  const { options } = state;
  const status = await api.status();
  const running = status.latestOperation?.status === "running" ? status.latestOperation : null;
  const checks: DrillCheck[] = [
    check(
      "the API is this environment's",
      status.environment === options.environment,
      status.environment === options.environment
        ? `the API serves ${status.environment}`
        : `the API serves ${status.environment}, not ${options.environment}: check --api-url / SHOPSMART_DR_API_URL`,
    ),
    check(
      "primary region active",
      status.activeRegion === "primary",
      `the database writer is in ${describeRole(status.activeRegion, options.regions)}` +
        (status.activeRegion === "primary"
          ? ""
          : ": a drill starts from the normal shape; fail back first (npm run failback)"),
    ),
    check(
      "no operation running",
      running === null,
      running === null
        ? "no failover or failback is running"
        : `operation ${running.operationId} (${running.kind}) is running; wait for it (npm run status)`,
    ),
    check(
      "secondary region healthy",
      status.dns.health.secondary === "healthy",
      `the secondary endpoint's health check is ${status.dns.health.secondary}`,
    ),
  ];
  if (options.mode === "planned") {
    checks.push(
      check(
        "primary region healthy",
        status.dns.health.primary === "healthy",
        `the primary endpoint's health check is ${status.dns.health.primary}` +
          (status.dns.health.primary === "healthy"
            ? ""
            : ": a planned drill needs both regions; an outage is an unplanned failover"),
      ),
    );
  }
  phase.checks = checks;
  const lag = status.database.replicationLagSeconds;
  const lines = [
    `preflight: writer in ${describeRole(status.activeRegion, options.regions)}, ` +
      `replication lag ${lag === null ? "unknown" : `${lag} s`}, health primary ` +
      `${status.dns.health.primary} / secondary ${status.dns.health.secondary}`,
  ];
  const failed = checks.filter((candidate) => !candidate.ok);
  if (failed.length > 0) {
    fail(phase, `not started: ${failed.map((candidate) => candidate.detail).join("; ")}`);
    return { kind: "done", progress: [...lines, `preflight failed: ${phase.detail}`] };
  }

  if (options.dryRun) {
    const response = await api.failover({
      mode: options.mode,
      reason: options.reason,
      dryRun: true,
    });
    if (!response.dryRun) {
      throw new Error("the API started an operation for a dry run; it must only return the plan");
    }
    state.plan = { steps: response.plan.steps, blockers: response.plan.blockers };
    const blocked = response.plan.blockers.length > 0;
    if (blocked) fail(phase, `the failover would not run: ${response.plan.blockers.join("; ")}`);
    else succeed(phase, "dry run: the failover plan has no blockers; nothing was changed");
    for (const name of DRILL_PHASES) {
      const later = state.phases.find((candidate) => candidate.name === name);
      if (later && later.status === "pending") {
        later.status = "skipped";
        later.detail = "dry run";
      }
    }
    return {
      kind: "done",
      progress: [
        ...lines,
        "dry run: the failover would",
        ...response.plan.steps.map((step, index) => `  ${index + 1}. ${step}`),
        ...response.plan.blockers.map((blocker) => `  blocked: ${blocker}`),
      ],
    };
  }
  succeed(phase, `ready: ${checks.map((passed) => passed.name).join(", ")}`);
  return { kind: "done", progress: lines };
}

/** How the ledger records an operation the workflow's plan stopped (finish: `<Error>: <Cause>`). */
const PLAN_BLOCKED_PREFIX = "PlanBlocked: ";

/** Starts the failover or failback, then follows it until it ends (re-running a failed one). */
async function runOperation(
  context: PhaseContext,
  phase: DrillPhase,
  kind: OperationKind,
): Promise<PhaseOutcome> {
  const { api, state, now } = context;
  const { options, cursor } = state;

  if (
    cursor.operationId === undefined &&
    kind === "failover" &&
    options.awaitAutomatic &&
    (phase.operations ?? []).length === 0
  ) {
    return awaitAutomaticFailover(context, phase);
  }
  if (cursor.operationId === undefined) {
    const status = await api.status();
    // A POST whose answer was lost (a timeout) may still have started the operation: follow it
    // rather than start a second one, which would only meet a 409.
    const lost = ownRunningOperation(status, kind, state, phase);
    if (lost) {
      return follow(state, phase, lost, now, [
        `${kind}: operation ${lost} was started by this drill, unconfirmed; following it`,
      ]);
    }
    state.replicationLagBeforeSeconds[kind] = status.database.replicationLagSeconds;
    let response: TriggerResponse;
    try {
      response =
        kind === "failover"
          ? await api.failover({ mode: options.mode, reason: options.reason })
          : await api.failback({ reason: options.reason });
    } catch (error) {
      if (error instanceof OperationsApiError && error.kind === "conflict") {
        const own = ownRunningOperation(await api.status(), kind, state, phase);
        if (own) {
          return follow(state, phase, own, now, [
            `${kind}: 409 names operation ${own}, which this drill started; following it`,
          ]);
        }
        fail(
          phase,
          `could not start the ${kind}: operation ${error.operationId ?? "(unknown)"} is running`,
        );
        return { kind: "done", progress: [`${kind}: ${phase.detail}`] };
      }
      throw error;
    }
    if (response.dryRun) throw new Error(`POST /${kind} answered with a plan, not an operation`);
    return follow(state, phase, response.operationId, now, [
      `${kind}: started operation ${response.operationId}`,
    ]);
  }

  const record = await api.operation(cursor.operationId);
  const lines = progressOf(kind, cursor, record);
  const tracked = phase.operations?.at(-1);
  if (tracked) Object.assign(tracked, summarizeOperation(record));

  if (record.status === "running") {
    if (now().getTime() > Date.parse(cursor.deadline ?? "")) {
      fail(
        phase,
        `operation ${record.operationId} still running after ${options.operationTimeoutSeconds} s; ` +
          "follow it with npm run status and fail back by hand once it ends",
      );
      return { kind: "done", progress: [...lines, `${kind}: ${phase.detail}`] };
    }
    return { kind: "wait", seconds: options.pollSeconds, progress: lines };
  }
  if (record.status === "succeeded") {
    succeed(
      phase,
      `operation ${record.operationId} succeeded` +
        (record.rtoSeconds === undefined ? "" : ` (workflow RTO ${record.rtoSeconds} s)`),
    );
    return { kind: "done", progress: [...lines, `${kind}: ${phase.detail}`] };
  }

  const attempts = phase.operations?.length ?? 1;
  const why = `operation ${record.operationId} failed: ${record.error ?? "no error recorded"}`;
  if (record.error?.startsWith(PLAN_BLOCKED_PREFIX)) {
    // The plan stopped it before any change; the same plan would stop a re-run.
    phase.refused = true;
    fail(
      phase,
      `operation ${record.operationId} was refused by its plan; nothing was changed: ` +
        record.error.slice(PLAN_BLOCKED_PREFIX.length),
    );
    return { kind: "done", progress: [...lines, `${kind}: ${phase.detail}`] };
  }
  if (attempts <= options.operationRetries) {
    cursor.operationId = undefined;
    return {
      kind: "wait",
      seconds: options.pollSeconds,
      progress: [
        ...lines,
        `${kind}: ${why}`,
        `${kind}: starting it again, as the runbook says ` +
          `(attempt ${attempts + 1} of ${options.operationRetries + 1})`,
      ],
    };
  }
  fail(phase, why);
  return { kind: "done", progress: [...lines, `${kind}: ${phase.detail}`] };
}

/** Automatic failovers are started by auto-failover through this rule (`requestedBy`). */
const AUTOMATIC_REQUESTER_PREFIX = "eventbridge:";

/**
 * Waits for the automatic failover started since the drill began, then follows it; fails the
 * phase when none starts within `operationTimeoutSeconds`.
 */
async function awaitAutomaticFailover(
  context: PhaseContext,
  phase: DrillPhase,
): Promise<PhaseOutcome> {
  const { api, state, now } = context;
  const { options, cursor } = state;
  const waitingSince = cursor.deadline === undefined;
  cursor.deadline ??= addSeconds(now(), options.operationTimeoutSeconds).toISOString();
  const status = await api.status();
  const latest = status.latestOperation;
  if (
    latest?.kind === "failover" &&
    latest.requestedBy.startsWith(AUTOMATIC_REQUESTER_PREFIX) &&
    Date.parse(latest.requestedAt) >= Date.parse(state.startedAt)
  ) {
    state.replicationLagBeforeSeconds.failover = status.database.replicationLagSeconds;
    return follow(state, phase, latest.operationId, now, [
      `failover: the automatic failover ${latest.operationId} started at ${latest.requestedAt} ` +
        `(${latest.reason}); following it`,
    ]);
  }
  if (now().getTime() > Date.parse(cursor.deadline)) {
    fail(
      phase,
      `no automatic failover started within ${options.operationTimeoutSeconds} s: check ` +
        "probe-primary's verdicts and the primary-down alarm (docs/dr-plan.md), and fail over by hand",
    );
    return { kind: "done", progress: [`failover: ${phase.detail}`] };
  }
  return {
    kind: "wait",
    seconds: options.pollSeconds,
    progress: waitingSince
      ? ["failover: not requested; waiting for the standby side to detect the outage and start it"]
      : [],
  };
}

/**
 * The running operation of this kind that this drill started (its reason names the drill) and
 * does not follow yet, if any.
 */
function ownRunningOperation(
  status: StatusResponse,
  kind: OperationKind,
  state: DrillState,
  phase: DrillPhase,
): string | undefined {
  const latest = status.latestOperation;
  if (
    latest?.status !== "running" ||
    latest.kind !== kind ||
    latest.reason !== state.options.reason ||
    phase.operations?.some((operation) => operation.operationId === latest.operationId)
  ) {
    return undefined;
  }
  return latest.operationId;
}

/** Makes `operationId` the operation the phase follows, until it ends or times out. */
function follow(
  state: DrillState,
  phase: DrillPhase,
  operationId: string,
  now: () => Date,
  progress: string[],
): PhaseOutcome {
  const { cursor, options } = state;
  cursor.operationId = operationId;
  delete cursor.lastReading;
  cursor.deadline = addSeconds(now(), options.operationTimeoutSeconds).toISOString();
  phase.operations = [...(phase.operations ?? []), { operationId, status: "running", steps: [] }];
  return { kind: "wait", seconds: options.pollSeconds, progress };
}

/**
 * The target region must serve: the database writes there, its endpoint is healthy, and the
 * public name answers from an instance in that region. Polled until it passes or times out
 * (DNS answers follow the TTL).
 */
async function verify(
  context: PhaseContext,
  phase: DrillPhase,
  role: RegionRole,
): Promise<PhaseOutcome> {
  const { api, state, now } = context;
  const { options, cursor } = state;
  cursor.deadline ??= addSeconds(now(), options.verifyTimeoutSeconds).toISOString();
  cursor.attempts = (cursor.attempts ?? 0) + 1;
  const region = options.regions[role];

  const [status, app] = await Promise.all([
    api.status(),
    api.appHealth().catch((error: unknown) => describe(error)),
  ]);
  const checks = verificationChecks(status, app, role, region, options.regions);
  phase.checks = checks;
  const failing = checks.filter((candidate) => !candidate.ok);
  if (failing.length === 0) {
    succeed(phase, `${region} serves: writer, healthy endpoint, public name answers from it`);
    return {
      kind: "done",
      progress: [`verify ${role}: passed after ${cursor.attempts} check(s)`],
    };
  }
  const summary = failing.map((candidate) => `${candidate.name}: ${candidate.detail}`).join("; ");
  if (now().getTime() >= Date.parse(cursor.deadline)) {
    fail(phase, `${region} does not serve after ${options.verifyTimeoutSeconds} s: ${summary}`);
    return { kind: "done", progress: [`verify ${role}: ${phase.detail}`] };
  }
  return {
    kind: "wait",
    seconds: options.pollSeconds,
    progress: [`verify ${role}: waiting (${summary})`],
  };
}

function verificationChecks(
  status: StatusResponse,
  app: Awaited<ReturnType<OperationsApi["appHealth"]>> | string,
  role: RegionRole,
  region: string,
  regions: Record<RegionRole, string>,
): DrillCheck[] {
  const appCheck =
    typeof app === "string"
      ? check("public name answers from the region", false, `no answer: ${app}`)
      : check(
          "public name answers from the region",
          app.statusCode === 200 && app.region === region,
          `HTTP ${app.statusCode} from ${app.region ?? "an unknown region"}` +
            (app.role ? ` (instance role ${app.role})` : ""),
        );
  return [
    check(
      "database writer",
      status.database.writerRegion === role,
      `writer in ${describeRole(status.database.writerRegion, regions)}`,
    ),
    check(
      "endpoint healthy",
      status.dns.health[role] === "healthy",
      `${role} health check ${status.dns.health[role]}`,
    ),
    appCheck,
    ...(typeof app === "string" ? [] : writeCheck(app)),
  ];
}

/**
 * Whether the app that answers can write: it reports the writer in its own region and its
 * database reachable. An app that cannot tell where the writer is (`unknown`: AWS does not
 * document how the global writer endpoint resolves) or does not say is not failed for it; one
 * that sees the writer elsewhere is.
 */
function writeCheck(app: AppHealth): DrillCheck[] {
  if (app.writer === undefined && app.writable === undefined) return [];
  const ok = app.writer !== "elsewhere" && app.database !== "unreachable";
  return [
    check(
      "app can write there",
      ok,
      `the app sees the writer ${app.writer ?? "(not said)"} and its database ` +
        `${app.database ?? "(not said)"}${app.writable === true ? ": writable" : ""}`,
    ),
  ];
}

async function hold(context: PhaseContext, phase: DrillPhase): Promise<PhaseOutcome> {
  const { state, now } = context;
  const { holdSeconds } = state.options;
  if (state.cursor.deadline === undefined) {
    state.cursor.deadline = addSeconds(now(), holdSeconds).toISOString();
    if (holdSeconds > 0) {
      return {
        kind: "wait",
        seconds: holdSeconds,
        progress: [
          `hold: serving from ${state.options.regions.secondary} for ${formatDuration(holdSeconds)}`,
        ],
      };
    }
  }
  const remaining = Math.ceil((Date.parse(state.cursor.deadline) - now().getTime()) / 1000);
  if (remaining > 0) return { kind: "wait", seconds: remaining, progress: [] };
  succeed(
    phase,
    `served from ${state.options.regions.secondary} for ${formatDuration(holdSeconds)}`,
  );
  return { kind: "done", progress: ["hold: over, failing back"] };
}

/**
 * After a failed phase: before the failover's switch nothing has moved, so the rest is skipped;
 * after it the environment may be failed over, so failback still runs when the failover
 * itself completed (a failed verification must not strand production in the secondary).
 */
function endAfterFailure(state: DrillState, failed: DrillPhase, now: () => Date): void {
  const failoverDone =
    state.phases.find((phase) => phase.name === "failover")?.status === "succeeded";
  for (const phase of state.phases) {
    if (phase.status !== "pending") continue;
    const stillNeeded =
      failoverDone &&
      failed.name !== "failback" &&
      (phase.name === "failback" || phase.name === "verify-primary");
    if (!stillNeeded) {
      phase.status = "skipped";
      phase.detail = `skipped: ${failed.name} failed`;
    }
  }
  if (state.phases.every((phase) => phase.status !== "pending")) {
    state.finishedAt = now().toISOString();
  }
}

// ---------------------------------------------------------------- helpers of this module

/**
 * What changed in a running operation since the last poll. A finished record's steps are the
 * workflow's summary (other names, no times), so they are not compared: the phase's own line
 * says how the operation ended.
 */
function progressOf(kind: OperationKind, cursor: DrillCursor, record: OperationRecord): string[] {
  if (record.status !== "running") return [];
  // The drill stamps its own lines with the drill's clock; the operation's offsets would be a
  // second clock on the same line.
  const lines = operationProgressLines(cursor.lastReading, record, { offsets: false });
  cursor.lastReading = readingOf(record);
  return lines.map((line) => `${kind}: ${line}`);
}

function summarizeOperation(record: OperationRecord): Omit<DrillOperation, "operationId"> {
  return {
    status: record.status,
    ...(record.rtoSeconds === undefined ? {} : { rtoSeconds: record.rtoSeconds }),
    ...(record.dataLossSeconds === undefined ? {} : { dataLossSeconds: record.dataLossSeconds }),
    ...(record.error === undefined ? {} : { error: record.error }),
    steps: record.steps.map((step) => ({
      name: step.name,
      status: step.status,
      ...(step.startedAt && step.finishedAt
        ? { seconds: secondsBetween(step.startedAt, step.finishedAt) }
        : {}),
      ...(step.error ? { error: step.error } : {}),
    })),
  };
}

function check(name: string, ok: boolean, detail: string): DrillCheck {
  return { name, ok, detail };
}

function succeed(phase: DrillPhase, detail: string): void {
  phase.status = "succeeded";
  phase.detail = detail;
}

function fail(phase: DrillPhase, detail: string): PhaseOutcome {
  phase.status = "failed";
  phase.detail = detail;
  return { kind: "done", progress: [] };
}

function describeRole(role: RegionRole | "unknown", regions: Record<RegionRole, string>): string {
  return role === "unknown" ? "an unknown region" : `${role} (${regions[role]})`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function secondsBetween(from: string, to: string): number {
  return Math.round((Date.parse(to) - Date.parse(from)) / 100) / 10;
}

function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}

/** `20261125T234922Z`. */
function compactTimestamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z")
    .replace(/[-:]/g, "");
}

/** How a runner in one process (the CLI, the local game day) waits and reports. */
export interface DrillLoop {
  now(): Date;
  /** Waits; may return early once `signal` is aborted. */
  sleep(seconds: number): Promise<void>;
  /** Called after every tick, before waiting. */
  onTick?(tick: DrillTick): void;
  /** Aborted: stop after the current call (Ctrl-C); the state says where it stopped. */
  signal?: AbortSignal;
}

/** Runs a drill to the end in this process: tick, wait, tick. */
export async function runDrill(
  api: OperationsApi,
  state: DrillState,
  loop: DrillLoop,
): Promise<DrillState> {
  let current = state;
  for (;;) {
    const tick = await advanceDrill(api, current, () => loop.now());
    loop.onTick?.(tick);
    current = tick.state;
    if (tick.done) return current;
    if (!loop.signal?.aborted) await loop.sleep(tick.waitSeconds);
    if (loop.signal?.aborted) {
      return interruptDrill(current, loop.now(), "interrupted by the operator");
    }
  }
}

/**
 * Ends a drill where it stands: the running phase fails with `why`, the rest are skipped. An
 * operation already started goes on in AWS; the report says what to do about it.
 */
export function interruptDrill(input: DrillState, now: Date, why: string): DrillState {
  const state = structuredClone(input);
  for (const phase of state.phases) {
    if (phase.status === "running") {
      phase.status = "failed";
      phase.detail = `${why}${state.cursor.operationId ? ` while operation ${state.cursor.operationId} ran` : ""}`;
      phase.finishedAt = now.toISOString();
    } else if (phase.status === "pending") {
      phase.status = "skipped";
      phase.detail = why;
    }
  }
  state.error = why;
  state.finishedAt = now.toISOString();
  return state;
}

/** The phase running (or about to run) in a state, undefined when the drill is over. */
export function currentPhase(state: DrillState): DrillPhaseName | undefined {
  if (state.finishedAt !== undefined) return undefined;
  return state.phases.find((phase) => phase.status === "running" || phase.status === "pending")
    ?.name;
}
