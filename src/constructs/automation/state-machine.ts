/**
 * The failover/failback workflow as an Amazon States Language definition (JSONPath), built as a
 * plain object from the step functions' ARNs so it can be unit-tested and executed locally.
 *
 * State data: the execution input is the OperationInput that operations-api / auto-failover start
 * the execution with; `Start` moves it to `$.operation`, where it stays. Each step's result goes
 * to `$.results.<step>`; a caught error (or a failed check) to `$.error`, which is what makes
 * the finish step record the operation as failed.
 *
 * ```
 * Start -> Preflight [ReadTopology | ReadTraffic] -> BuildPlan -> EvaluatePlan?
 *   blocked -> PlanBlocked -> RecordFailure -> Failed
 *   go      -> PromoteAndScale [PromoteDatabase | ScaleTarget]
 *           -> WaitForWriter -> CountWriterCheck -> CheckWriter -> WriterReady?
 *                ready: FlipDns
 *                promotion running: PromotionRunning (idle count to 0) -> PageDue?
 *                  past the plan's bound, once: PageSlowPromotion -> MarkPaged -> WaitForWriter
 *                  otherwise: WaitForWriter (the lock stays held)
 *                neither: CountIdleCheck -> IdleTooLong?
 *                  maxWriterChecks idle checks in a row: WriterTimedOut -> RecordFailure
 *                  otherwise: WaitForWriter
 *           -> FlipDns -> Verify [VerifyWriter | VerifyTraffic] -> Healthy?
 *                failback: ScaleDownSource -> RecordSuccess | failover: RecordSuccess
 *                not healthy: WaitToVerify -> CountVerifyCheck -> Verify, then after
 *                  maxVerifyChecks readings VerifyFailed -> RecordFailure
 *           -> RecordSuccess -> FenceSource?
 *                failover with data loss, detach or unknown method (unplanned): FenceSource
 *                  (the old primary's group to zero, lock held)
 *                  -> Fenced? -> Succeeded, or (its region does not answer) WaitToFence -> CountFenceAttempt
 *                  -> FenceAgain? -> FenceSource, until maxFenceAttempts: Succeeded
 *                planned: Succeeded
 * any step's error (after retries) -> RecordFailure -> Failed
 * ```
 *
 * Besides the contract's states there are small glue states, each because JSONPath ASL cannot
 * express the step otherwise: `Start` (the execution input is not yet under `$.operation`, and a
 * Catch on the first real state would otherwise see it flat), the Pass states that count loop
 * iterations and remember the page (`CountWriterCheck`, `PromotionRunning`, `CountIdleCheck`,
 * `MarkPaged`, `CountVerifyCheck`, `CountFenceAttempt`: no step has to echo a counter) and
 * `PlanBlocked` / `WriterTimedOut` / `VerifyFailed` (a Choice cannot set `$.error`, and without
 * it finish would record the operation as succeeded).
 *
 * A standard execution's history holds at most 25,000 events
 * (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html); a writer check costs
 * about a dozen, so a promotion that Aurora reports running is waited for about 9 hours at 15 s
 * before the execution itself fails. The page goes out long before.
 *
 * The plan (`BuildPlan`, plan-operation) is built by the code that answers a dry run, so a run
 * stops on exactly the blockers a dry run reports. The writer wait never abandons a promotion
 * that Aurora reports running (FailoverState towards the target): past the plan's bound it pages
 * once (finish with a `notice`) and keeps waiting with the lock held; it fails only when no
 * promotion runs and the target is still not the writer.
 */

/** ARNs of the Lambda functions the workflow calls. */
export interface WorkflowFunctionArns {
  readonly readTopology: string;
  readonly readTraffic: string;
  readonly planOperation: string;
  readonly promoteDatabase: string;
  readonly checkWriter: string;
  readonly scaleCapacity: string;
  readonly flipDns: string;
  readonly finish: string;
}

export interface WorkflowOptions {
  /** Seconds between checks for the new writer. @default 15 */
  readonly writerCheckIntervalSeconds?: number;
  /**
   * Checks in which the target is not the writer and no promotion towards it runs (Aurora shows
   * neither a FailoverState nor a promoting cluster) before the operation fails: the promotion
   * was refused, cancelled or rolled back. A promotion that Aurora reports running is waited for
   * without this limit (the plan's bound only pages).
   * @default 8 (2 minutes at 15 s)
   */
  readonly maxWriterChecks?: number;
  /**
   * Verify readings before the operation fails with VerifyFailed, `writerCheckIntervalSeconds`
   * apart: a target scaled up from zero (a fenced primary) needs its instances booted and in
   * service, Route 53's health checks must follow the fence metric, and resolvers drop the old
   * answer after the alias TTL (60 s).
   * @default 24 (about 6 minutes at 15 s)
   */
  readonly maxVerifyChecks?: number;
  /** Seconds between attempts to fence an old primary whose region does not answer. @default 300 */
  readonly fenceRetrySeconds?: number;
  /** Attempts to fence it before giving up (the record is long written). @default 288 (24 h) */
  readonly maxFenceAttempts?: number;
}

/** The error names the step Lambdas throw for transient failures (functions/shared/errors.ts). */
export const RETRYABLE_STEP_ERRORS = [
  "Retryable.Throttled",
  "Retryable.ServerError",
  "Retryable.Timeout",
] as const;

/**
 * Errors of the Lambda service itself that AWS recommends retrying for Lambda tasks
 * (https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html), and
 * throttling of the invoke.
 */
export const RETRYABLE_LAMBDA_ERRORS = [
  "Lambda.ClientExecutionTimeoutException",
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.TooManyRequestsException",
] as const;

/**
 * A function that timed out (`Sandbox.Timedout`; reported as `Lambda.Unknown` by the plain
 * Lambda integration: "Unhandled errors in Lambda are reported as Lambda.Unknown in the error
 * output. These include out-of-memory errors and function timeouts",
 * https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html) or a task
 * over its own timeout (`States.Timeout`). Every step reads the real state before it acts, so
 * running it again resumes instead of repeating an action; two more attempts, then the catch.
 */
export const TIMED_OUT_STEP_ERRORS = [
  "Sandbox.Timedout",
  "States.Timeout",
  "Lambda.Unknown",
] as const;

export const TIMED_OUT_STEP_RETRY: Retrier = {
  ErrorEquals: [...TIMED_OUT_STEP_ERRORS],
  IntervalSeconds: 2,
  BackoffRate: 2,
  MaxAttempts: 2,
  MaxDelaySeconds: 30,
  JitterStrategy: "FULL",
};

/**
 * Every Lambda task's retrier: exponential backoff from 2 s, capped at 60 s, with full jitter so
 * retries after a regional throttling burst do not arrive together. Six attempts span about two
 * minutes at most.
 */
export const STEP_RETRY: Retrier = {
  ErrorEquals: [...RETRYABLE_STEP_ERRORS, ...RETRYABLE_LAMBDA_ERRORS],
  IntervalSeconds: 2,
  BackoffRate: 2,
  MaxAttempts: 6,
  MaxDelaySeconds: 60,
  JitterStrategy: "FULL",
};

// ---- A typed subset of the Amazon States Language (the fields this workflow uses) ----

export interface Retrier {
  readonly ErrorEquals: readonly string[];
  readonly IntervalSeconds: number;
  readonly BackoffRate: number;
  readonly MaxAttempts: number;
  readonly MaxDelaySeconds: number;
  readonly JitterStrategy: "FULL" | "NONE";
}

export interface Catcher {
  readonly ErrorEquals: readonly string[];
  readonly ResultPath: string;
  readonly Next: string;
}

interface Transition {
  readonly Next?: string;
  readonly End?: true;
}

export interface TaskState extends Transition {
  readonly Type: "Task";
  readonly Comment?: string;
  readonly Resource: string;
  readonly Parameters?: Readonly<Record<string, unknown>>;
  /** Absent: the result replaces the input (a branch's only task). */
  readonly ResultPath?: string;
  readonly Retry: readonly Retrier[];
  readonly Catch?: readonly Catcher[];
}

export interface ParallelState extends Transition {
  readonly Type: "Parallel";
  readonly Comment?: string;
  readonly Branches: readonly StateMachineDefinition[];
  readonly ResultSelector?: Readonly<Record<string, unknown>>;
  readonly ResultPath: string;
  readonly Catch: readonly Catcher[];
}

export interface PassState extends Transition {
  readonly Type: "Pass";
  readonly Comment?: string;
  readonly Parameters: Readonly<Record<string, unknown>>;
  readonly ResultPath?: string;
}

/** Waits a fixed number of seconds, or as many as the state data says at `SecondsPath`. */
export type WaitState = Transition & { readonly Type: "Wait"; readonly Comment?: string } & (
    | { readonly Seconds: number }
    | { readonly SecondsPath: string }
  );

export type ChoiceRule =
  | { readonly And: readonly ChoiceRule[] }
  | { readonly Or: readonly ChoiceRule[] }
  | { readonly Variable: string; readonly StringEquals: string }
  | { readonly Variable: string; readonly BooleanEquals: boolean }
  | { readonly Variable: string; readonly IsNull: boolean }
  | { readonly Variable: string; readonly NumericGreaterThanEquals: number }
  // Comparison with another field of the state ("appending Path to name of supported comparison
  // operators", https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html).
  | { readonly Variable: string; readonly NumericGreaterThanEqualsPath: string };

export interface ChoiceState {
  readonly Type: "Choice";
  readonly Comment?: string;
  readonly Choices: readonly (ChoiceRule & { readonly Next: string })[];
  readonly Default: string;
}

export interface SucceedState {
  readonly Type: "Succeed";
}

/** Ends the execution as failed; the cause is fixed text or read from the state at `CausePath`. */
export type FailState = {
  readonly Type: "Fail";
  readonly Comment?: string;
  readonly Error: string;
} & ({ readonly Cause: string } | { readonly CausePath: string });

export type State =
  | TaskState
  | ParallelState
  | PassState
  | WaitState
  | ChoiceState
  | SucceedState
  | FailState;

export interface StateMachineDefinition {
  readonly Comment?: string;
  readonly StartAt: string;
  readonly States: Readonly<Record<string, State>>;
}

/** Where a failure goes: the finish step, with the error at `$.error`. */
const TO_RECORD_FAILURE: readonly Catcher[] = [
  { ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "RecordFailure" },
];

/**
 * The workflow for both kinds of operation (the input's `kind` decides the failback-only step).
 * Lambda tasks name the function ARN as their Resource (the plain Lambda integration): the
 * function's return value is the task result as is, and its error name is what Retry/Catch match.
 */
export function workflowDefinition(
  arns: WorkflowFunctionArns,
  options: WorkflowOptions = {},
): StateMachineDefinition {
  const intervalSeconds = options.writerCheckIntervalSeconds ?? 15;
  const maxWriterChecks = options.maxWriterChecks ?? 8;
  const fenceRetrySeconds = options.fenceRetrySeconds ?? 300;
  const maxVerifyChecks = options.maxVerifyChecks ?? 24;
  const maxFenceAttempts = options.maxFenceAttempts ?? 288;
  const task = (
    resource: string,
    extra: Partial<Omit<TaskState, "Type" | "Resource" | "Retry">> = {},
  ): TaskState => ({
    Type: "Task",
    Resource: resource,
    Retry: [STEP_RETRY, TIMED_OUT_STEP_RETRY],
    ...extra,
  });
  const branch = (name: string, state: TaskState): StateMachineDefinition => ({
    StartAt: name,
    States: { [name]: { ...state, End: true } },
  });

  // Data plane only: read-traffic resolves the public name and probes the target's endpoint
  // itself; Route 53's API (us-east-1) is not needed to verify.
  const healthy: ChoiceRule = {
    And: [
      { Variable: "$.results.verify[0].ready", BooleanEquals: true },
      { Variable: "$.results.verify[1].targetServed", BooleanEquals: true },
    ],
  };

  return {
    Comment:
      "shopsmart-dr failover/failback: preflight, promote the database and scale the target in " +
      "parallel, wait for the writer, flip DNS, verify, record and notify.",
    StartAt: "Start",
    States: {
      Start: {
        Type: "Pass",
        Comment: "Keeps the execution input at $.operation and starts the writer-check counter.",
        Parameters: {
          "operation.$": "$",
          writerChecks: { count: 0, idle: 0, paged: false },
          verifyChecks: { count: 0 },
          fenceAttempts: { count: 0 },
        },
        Next: "Preflight",
      },
      Preflight: {
        Type: "Parallel",
        Comment: "Topology, replication lag, endpoint health and capacity of both regions.",
        Branches: [
          branch("ReadTopology", task(arns.readTopology)),
          branch("ReadTraffic", task(arns.readTraffic)),
        ],
        ResultSelector: { "topology.$": "$[0]", "traffic.$": "$[1]" },
        ResultPath: "$.results",
        Catch: TO_RECORD_FAILURE,
        Next: "BuildPlan",
      },
      BuildPlan: task(arns.planOperation, {
        Comment:
          "The plan from the readings, by the dry run's own code: its blockers stop the run here.",
        Parameters: {
          "operation.$": "$.operation",
          "topology.$": "$.results.topology",
          "traffic.$": "$.results.traffic",
          writerCheckIntervalSeconds: intervalSeconds,
        },
        ResultPath: "$.results.plan",
        Catch: TO_RECORD_FAILURE,
        Next: "EvaluatePlan",
      }),
      EvaluatePlan: {
        Type: "Choice",
        Comment: "Any blocker of the plan stops the operation before anything changes.",
        Choices: [{ Variable: "$.results.plan.blocked", BooleanEquals: true, Next: "PlanBlocked" }],
        Default: "PromoteAndScale",
      },
      PlanBlocked: {
        Type: "Pass",
        Parameters: {
          Error: "PlanBlocked",
          "Cause.$":
            "States.Format('The plan of the {} {} to the {} region is blocked, nothing was changed: {}', $.operation.mode, $.operation.kind, $.operation.target, $.results.plan.blockerSummary)",
        },
        ResultPath: "$.error",
        Next: "RecordFailure",
      },
      PromoteAndScale: {
        Type: "Parallel",
        Comment: "Database promotion and scale-up of the target region run side by side.",
        Branches: [
          branch("PromoteDatabase", task(arns.promoteDatabase)),
          branch(
            "ScaleTarget",
            task(arns.scaleCapacity, {
              Parameters: { "role.$": "$.operation.target", capacity: "active" },
            }),
          ),
        ],
        ResultPath: "$.results.promoteAndScale",
        Catch: TO_RECORD_FAILURE,
        Next: "WaitForWriter",
      },
      WaitForWriter: { Type: "Wait", Seconds: intervalSeconds, Next: "CountWriterCheck" },
      CountWriterCheck: {
        Type: "Pass",
        Parameters: {
          "count.$": "States.MathAdd($.writerChecks.count, 1)",
          "idle.$": "$.writerChecks.idle",
          "paged.$": "$.writerChecks.paged",
        },
        ResultPath: "$.writerChecks",
        Next: "CheckWriter",
      },
      CheckWriter: task(arns.checkWriter, {
        ResultPath: "$.results.writer",
        Catch: TO_RECORD_FAILURE,
        Next: "WriterReady?",
      }),
      "WriterReady?": {
        Type: "Choice",
        Choices: [
          { Variable: "$.results.writer.ready", BooleanEquals: true, Next: "FlipDns" },
          {
            Variable: "$.results.writer.promotionRunning",
            BooleanEquals: true,
            Next: "PromotionRunning",
          },
        ],
        Default: "CountIdleCheck",
      },
      PromotionRunning: {
        Type: "Pass",
        Comment: "Aurora reports the promotion running: the idle count starts again.",
        Parameters: {
          "count.$": "$.writerChecks.count",
          idle: 0,
          "paged.$": "$.writerChecks.paged",
        },
        ResultPath: "$.writerChecks",
        Next: "PageDue?",
      },
      "PageDue?": {
        Type: "Choice",
        Choices: [
          {
            And: [
              { Variable: "$.writerChecks.paged", BooleanEquals: false },
              {
                Variable: "$.writerChecks.count",
                NumericGreaterThanEqualsPath: "$.results.plan.pageAfterChecks",
              },
            ],
            Next: "PageSlowPromotion",
          },
        ],
        Default: "WaitForWriter",
      },
      CountIdleCheck: {
        Type: "Pass",
        Comment: "Not the writer and no promotion running: one more idle check in a row.",
        Parameters: {
          "count.$": "$.writerChecks.count",
          "idle.$": "States.MathAdd($.writerChecks.idle, 1)",
          "paged.$": "$.writerChecks.paged",
        },
        ResultPath: "$.writerChecks",
        Next: "IdleTooLong?",
      },
      "IdleTooLong?": {
        Type: "Choice",
        Choices: [
          {
            Variable: "$.writerChecks.idle",
            NumericGreaterThanEquals: maxWriterChecks,
            Next: "WriterTimedOut",
          },
        ],
        Default: "WaitForWriter",
      },
      WriterTimedOut: {
        Type: "Pass",
        Parameters: {
          Error: "WriterNotReady",
          "Cause.$": `States.Format('The {} cluster is not the writer and no switchover, failover or promotion towards it has run for {} checks in a row, ${intervalSeconds} seconds apart: it was refused, cancelled or rolled back. Last check: {}', $.operation.target, $.writerChecks.idle, $.results.writer.detail)`,
        },
        ResultPath: "$.error",
        Next: "RecordFailure",
      },
      PageSlowPromotion: task(arns.finish, {
        Comment:
          "Aurora still reports the promotion running past the plan's bound: page, keep the lock, keep waiting.",
        Parameters: {
          "operation.$": "$.operation",
          notice: {
            kind: "promotion-slow",
            "checks.$": "$.writerChecks.count",
            intervalSeconds,
            "pageAfterSeconds.$": "$.results.plan.writerWait.pageAfterSeconds",
            "detail.$": "$.results.writer.detail",
          },
        },
        // Not `$.notice`: RecordSuccess and RecordFailure get the whole state, and finish reads a
        // `notice` there as a request to page instead of to finish.
        ResultPath: "$.page",
        // A page that cannot be sent must not end the wait: the promotion is still running.
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.pageError", Next: "MarkPaged" }],
        Next: "MarkPaged",
      }),
      MarkPaged: {
        Type: "Pass",
        Parameters: {
          "count.$": "$.writerChecks.count",
          "idle.$": "$.writerChecks.idle",
          paged: true,
        },
        ResultPath: "$.writerChecks",
        Next: "WaitForWriter",
      },
      FlipDns: task(arns.flipDns, {
        ResultPath: "$.results.dns",
        Catch: TO_RECORD_FAILURE,
        Next: "Verify",
      }),
      Verify: {
        Type: "Parallel",
        Comment:
          "The target is the writer, the public name resolves to its load balancer and its app answers and can write.",
        Branches: [
          branch("VerifyWriter", task(arns.checkWriter)),
          branch("VerifyTraffic", task(arns.readTraffic)),
        ],
        ResultPath: "$.results.verify",
        Catch: TO_RECORD_FAILURE,
        Next: "Healthy?",
      },
      "Healthy?": {
        Type: "Choice",
        Choices: [
          {
            And: [healthy, { Variable: "$.operation.kind", StringEquals: "failback" }],
            Next: "ScaleDownSource",
          },
          { ...healthy, Next: "RecordSuccess" },
          {
            Variable: "$.verifyChecks.count",
            NumericGreaterThanEquals: maxVerifyChecks - 1,
            Next: "VerifyFailed",
          },
        ],
        Default: "WaitToVerify",
      },
      WaitToVerify: {
        Type: "Wait",
        Comment:
          "Route 53's health checks follow the fence metric, then resolvers keep the old answer for the alias TTL (60 s); a scaled-up group needs its instances in service.",
        Seconds: intervalSeconds,
        Next: "CountVerifyCheck",
      },
      CountVerifyCheck: {
        Type: "Pass",
        Parameters: { "count.$": "States.MathAdd($.verifyChecks.count, 1)" },
        ResultPath: "$.verifyChecks",
        Next: "Verify",
      },
      VerifyFailed: {
        Type: "Pass",
        Parameters: {
          Error: "VerifyFailed",
          "Cause.$":
            "States.Format('After the traffic shift the {} region did not verify: writer ready {}, the public name served by {}, its endpoint healthy {} and writable {}.', $.operation.target, $.results.verify[0].ready, $.results.verify[1].served, $.results.verify[1].targetHealth, $.results.verify[1].targetServed)",
        },
        ResultPath: "$.error",
        Next: "RecordFailure",
      },
      ScaleDownSource: task(arns.scaleCapacity, {
        ResultPath: "$.results.scaleDownSource",
        Comment: "Failback only: the former failover region returns to warm-standby capacity.",
        Parameters: { "role.$": "$.operation.source", capacity: "standby" },
        Catch: TO_RECORD_FAILURE,
        Next: "RecordSuccess",
      }),
      RecordSuccess: task(arns.finish, {
        ResultPath: "$.finish",
        Catch: TO_RECORD_FAILURE,
        Next: "FenceSource?",
      }),
      "FenceSource?": {
        Type: "Choice",
        Comment:
          "After a failover with data loss or a detach the old primary is fenced until a planned failback scales it up.",
        // The method that ran, not the requested mode: after a switchover the old primary is a
        // healthy read-only secondary, its standby capacity still worth keeping.
        Choices: [
          {
            Variable: "$.results.promoteAndScale[0].method",
            StringEquals: "switchover",
            Next: "Succeeded",
          },
          { Variable: "$.operation.mode", StringEquals: "unplanned", Next: "FenceSource" },
        ],
        Default: "Succeeded",
      },
      FenceSource: task(arns.scaleCapacity, {
        Comment:
          "The old primary's group to zero as soon as its region answers; skipped once another operation holds the lock.",
        Parameters: {
          "role.$": "$.operation.source",
          capacity: "fenced",
          "operationId.$": "$.operation.operationId",
        },
        ResultPath: "$.fence",
        // Recorded and notified already: a fence that cannot be done yet is tried again later.
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.fenceError", Next: "WaitToFence" }],
        Next: "Fenced?",
      }),
      "Fenced?": {
        Type: "Choice",
        Comment: "Done when fenced, or when another operation (a failback) owns the region now.",
        Choices: [
          {
            Or: [
              { Variable: "$.fence.fenced", BooleanEquals: true },
              { Variable: "$.fence.action", StringEquals: "skipped" },
            ],
            Next: "Succeeded",
          },
        ],
        Default: "WaitToFence",
      },
      WaitToFence: { Type: "Wait", Seconds: fenceRetrySeconds, Next: "CountFenceAttempt" },
      CountFenceAttempt: {
        Type: "Pass",
        Parameters: { "count.$": "States.MathAdd($.fenceAttempts.count, 1)" },
        ResultPath: "$.fenceAttempts",
        Next: "FenceAgain?",
      },
      "FenceAgain?": {
        Type: "Choice",
        Choices: [
          {
            Variable: "$.fenceAttempts.count",
            NumericGreaterThanEquals: maxFenceAttempts,
            Next: "Succeeded",
          },
        ],
        Default: "FenceSource",
      },
      RecordFailure: task(arns.finish, {
        ResultPath: "$.finish",
        Comment: "Records the failure, releases the lock and notifies; the execution then fails.",
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.finishError", Next: "Failed" }],
        Next: "Failed",
      }),
      Succeeded: { Type: "Succeed" },
      Failed: {
        Type: "Fail",
        Error: "OperationFailed",
        Cause:
          "The operation failed; its ledger record (GET /operations/{id}) and the alert say why.",
      },
    },
  };
}

/** Every Task state of a definition, including those inside Parallel branches, by name. */
export function taskStates(definition: StateMachineDefinition): Record<string, TaskState> {
  const tasks: Record<string, TaskState> = {};
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type === "Task") tasks[name] = state;
    if (state.Type === "Parallel") {
      for (const branchDefinition of state.Branches)
        Object.assign(tasks, taskStates(branchDefinition));
    }
  }
  return tasks;
}
