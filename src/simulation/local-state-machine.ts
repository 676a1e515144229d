/**
 * Runs an Amazon States Language definition on this machine with aws-local-stepfunctions, each
 * Lambda task bound to a local function, and time on a {@link SimulatedClock}:
 * - Wait states sleep on the clock (they are run as local tasks so the clock, not a real timer,
 *   decides when they end);
 * - Retry back-offs (IntervalSeconds x BackoffRate^n, capped by MaxDelaySeconds, FULL jitter)
 *   elapse on the clock, not in real time;
 * - task results and errors take the shape Step Functions gives them: `lambda:invoke` results are
 *   `{ExecutedVersion, Payload, StatusCode, ...}`, a function error becomes a States error named
 *   by its `errorType` with the Lambda error JSON as `Cause`, payloads round-trip through JSON and
 *   more than 256 KB of output is `States.DataLimitExceeded`.
 *
 * Used by the scenario tests (tests/support/local-state-machine.ts) and the local drill.
 */
import { StateMachine, type StateMachineDefinition } from "aws-local-stepfunctions";
import type { SimulatedClock } from "./clock";
import { SimulatorUnsupportedError } from "./errors";
import { type LocalLambdaContext, lambdaContext } from "./lambda";
import { ensurePromiseWithResolvers } from "./promise-with-resolvers";
import type { RegionPair } from "./region-pair";
import type { HistoryEventInput } from "./step-functions";

/** A Lambda handler bound to a task. */
export type TaskFunction = (payload: unknown, context: LocalLambdaContext) => unknown;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

// ---------------------------------------------------------------------------------------------
// Preparing a synthesized definition

/** A definition whose Terraform references were replaced by ARNs the validator accepts. */
export interface PreparedDefinition {
  readonly definition: StateMachineDefinition;
  /**
   * The Lambda function a task invokes, by state name: the Terraform logical id of the
   * `aws_lambda_function` it referenced (e.g. `automation_read-topology_ABCD1234`), or the
   * function name of a literal ARN.
   */
  readonly taskFunctions: ReadonlyMap<string, string>;
  /** Every Terraform reference that was replaced, e.g. `aws_lambda_function.x.arn`. */
  readonly references: readonly string[];
}

export interface PrepareOptions {
  /** Region and account of the ARNs that replace references. @default us-west-2, 123456789012 */
  readonly region?: string;
  readonly accountId?: string;
}

const LAMBDA_INVOKE = /^arn:aws:states:::lambda:invoke(\.waitForTaskToken)?$/;
const LAMBDA_ARN =
  /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:([A-Za-z0-9_-]+)(:[A-Za-z0-9$_-]+)?$/;

/**
 * Parses a synthesized `aws_sfn_state_machine.definition` (JSON with `${aws_lambda_function.<id>.arn}`
 * interpolations) and replaces each reference by a function ARN named after the logical id.
 */
export function prepareDefinition(
  definition: string | StateMachineDefinition,
  options: PrepareOptions = {},
): PreparedDefinition {
  const region = options.region ?? "us-west-2";
  const accountId = options.accountId ?? "123456789012";
  const references: string[] = [];
  const text = typeof definition === "string" ? definition : JSON.stringify(definition);
  const replaced = text.replace(/\$\{([^}]+)\}/g, (_, reference: string) => {
    references.push(reference);
    const lambda =
      /^aws_lambda_function\.([^.]+)\.(arn|qualified_arn|invoke_arn|function_name)$/.exec(
        reference,
      );
    if (lambda) return `arn:aws:lambda:${region}:${accountId}:function:${lambda[1]}`;
    return `arn:aws:simulated:${region}:${accountId}:reference/${reference.replace(/[^A-Za-z0-9_.-]/g, "_")}`;
  });
  let parsed: StateMachineDefinition;
  try {
    parsed = JSON.parse(replaced) as StateMachineDefinition;
  } catch (error) {
    throw new SimulatorUnsupportedError(
      `the state machine definition is not JSON (${error instanceof Error ? error.message : String(error)}); ` +
        "build it with JSON.stringify, not Fn.jsonencode, so its synthesized form is JSON",
    );
  }
  const taskFunctions = new Map<string, string>();
  forEachState(parsed, (name, state) => {
    if (state.Type !== "Task") return;
    const functionName = taskFunctionName(state);
    if (functionName) taskFunctions.set(name, functionName);
  });
  return { definition: parsed, taskFunctions, references };
}

type AnyState = JsonObject & { Type: string };

function forEachState(
  machine: { States: Record<string, unknown> },
  visit: (name: string, state: AnyState) => void,
): void {
  for (const [name, raw] of Object.entries(machine.States)) {
    const state = raw as AnyState;
    visit(name, state);
    for (const branch of (state.Branches as unknown as
      | { States: Record<string, unknown> }[]
      | undefined) ?? []) {
      forEachState(branch, visit);
    }
    const processor = (state.ItemProcessor ?? state.Iterator) as unknown as
      | { States: Record<string, unknown> }
      | undefined;
    if (processor) forEachState(processor, visit);
  }
}

function taskFunctionName(state: AnyState): string | undefined {
  const resource = String(state.Resource);
  if (LAMBDA_INVOKE.test(resource)) {
    const parameters = (state.Parameters ?? {}) as JsonObject;
    const target = parameters.FunctionName;
    if (typeof target !== "string") return undefined;
    return LAMBDA_ARN.exec(target)?.[1] ?? target;
  }
  return LAMBDA_ARN.exec(resource)?.[1];
}

// ---------------------------------------------------------------------------------------------
// Running

export type LocalExecutionStatus = "SUCCEEDED" | "FAILED" | "ABORTED";

export interface LocalExecutionResult {
  readonly status: LocalExecutionStatus;
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
  /** Step Functions-shaped history (ExecutionStarted, TaskStateEntered, TaskFailed, ...). */
  readonly history: readonly HistoryEventInput[];
  /** Names of the states entered, in order (retries of a task are not repeated). */
  readonly statesEntered: readonly string[];
}

export interface LocalExecutionOptions {
  readonly definition: PreparedDefinition;
  /** The function bound to each Lambda task, by function (logical id) and state name. */
  readonly resolveFunction: (functionName: string, stateName: string) => TaskFunction | undefined;
  readonly clock: SimulatedClock;
  readonly input: unknown;
  /** @default "local-execution" */
  readonly executionName?: string;
  /** @default - an ARN in the prepared definition's region */
  readonly stateMachineArn?: string;
  /**
   * Jitter draw for `JitterStrategy: FULL`, in [0, 1]: the back-off is delay x draw.
   * @default - always 1, the longest back-off, so runs are reproducible
   */
  readonly jitter?: () => number;
  /** Called with every history event as it happens. */
  readonly onEvent?: (event: HistoryEventInput) => void;
  /** Simulates the execution dying just before this Task/Wait state starts. */
  readonly crashBefore?: string;
  /** Simulates the execution dying right after this Task state's function returned. */
  readonly crashAfter?: string;
  /** Abort from outside (StopExecution). */
  readonly stopSignal?: AbortSignal;
}

/** Payload limit of Step Functions state input/output (256 KB). */
const MAX_PAYLOAD_BYTES = 262_144;

/** The execution died: neither Retry nor Catch may handle this. */
class SimulatedCrash extends Error {
  readonly isRetryable = false;
  readonly isCatchable = false;
  constructor() {
    super("the execution was stopped by the simulation");
    this.name = "Simulated.Crash";
  }
}

/** A task failure as Step Functions reports it: Error = errorType, Cause = the Lambda error JSON. */
class TaskFailure extends Error {
  constructor(errorType: string, cause: string) {
    super(cause);
    this.name = errorType;
  }
}

interface Retrier {
  readonly ErrorEquals: readonly string[];
  readonly IntervalSeconds?: number;
  readonly MaxAttempts?: number;
  readonly BackoffRate?: number;
  readonly MaxDelaySeconds?: number;
  readonly JitterStrategy?: "FULL" | "NONE";
}

/** Definitions (as JSON text) that passed the ASL validation in this process. */
const validatedDefinitions = new Set<string>();

/** Runs the definition once; the result never rejects (failures are a FAILED result). */
export async function runLocalStateMachine(
  options: LocalExecutionOptions,
): Promise<LocalExecutionResult> {
  ensurePromiseWithResolvers();
  const { clock } = options;
  const history: HistoryEventInput[] = [];
  const statesEntered: string[] = [];
  const stateTypes = new Map<string, string>();
  let crashed = false;
  let abortExecution: () => void = () => undefined;
  const record = (event: HistoryEventInput) => {
    if (crashed && event.type !== "ExecutionAborted") return;
    const stamped = { ...event, timestamp: new Date(clock.now()) };
    history.push(stamped);
    options.onEvent?.(stamped);
  };
  const crash = (): never => {
    if (!crashed) {
      crashed = true;
      abortExecution();
    }
    throw new SimulatedCrash();
  };

  const definition = structuredClone(options.definition.definition) as unknown as {
    States: Record<string, unknown>;
  };
  const localHandlers: Record<string, (input: Json) => Promise<Json>> = {};
  const retryOverrides: Record<string, number> = {};
  const machineArn =
    options.stateMachineArn ??
    "arn:aws:states:us-west-2:123456789012:stateMachine:local-state-machine";
  const executionName = options.executionName ?? "local-execution";
  const executionArn = `${machineArn.replace(":stateMachine:", ":execution:")}:${executionName}`;

  forEachState(definition, (name, state) => {
    stateTypes.set(name, state.Type);
    if (state.Retry) retryOverrides[name] = 0;
    if (state.Type === "Wait") {
      localHandlers[name] = waitHandler(
        name,
        state,
        clock,
        () => crashed || name === options.crashBefore,
        crash,
      );
      convertWaitToTask(state);
    } else if (state.Type === "Task") {
      const functionName = options.definition.taskFunctions.get(name);
      const fn =
        functionName === undefined ? undefined : options.resolveFunction(functionName, name);
      if (!fn) {
        throw new SimulatorUnsupportedError(
          `Task state "${name}" (Resource ${String(state.Resource)}) has no local function bound` +
            (functionName ? ` (function ${functionName})` : ""),
        );
      }
      localHandlers[name] = taskHandler({
        stateName: name,
        functionName: functionName as string,
        fn,
        invokeIntegration: LAMBDA_INVOKE.test(String(state.Resource)),
        retriers: (state.Retry as unknown as Retrier[] | undefined) ?? [],
        clock,
        jitter: options.jitter ?? (() => 1),
        executionArn,
        isCrashed: () => crashed,
        crash,
        crashBefore: options.crashBefore === name,
        crashAfter: options.crashAfter === name,
        record,
      });
    }
  });

  // aws-local-stepfunctions validates a definition against the ASL schema each time a machine is
  // made (asl-validator compiles its ajv schemas anew): about 0.3 s an execution. A definition
  // this process has found valid once is not validated again.
  const definitionText = JSON.stringify(definition);
  const machine = new StateMachine(
    definition as unknown as StateMachineDefinition,
    validatedDefinitions.has(definitionText) ? { validationOptions: { noValidate: true } } : {},
  );
  validatedDefinitions.add(definitionText);
  const execution = machine.run(options.input as Json, {
    overrides: { taskResourceLocalHandlers: localHandlers, retryIntervalOverrides: retryOverrides },
    noThrowOnAbort: true,
    context: {
      Execution: { Id: executionArn, Name: executionName, StartTime: clock.isoString() },
      StateMachine: { Id: machineArn, Name: machineArn.split(":").pop() },
    },
  });
  abortExecution = execution.abort;
  const onStop = () => {
    crashed = true;
    execution.abort();
  };
  options.stopSignal?.addEventListener("abort", onStop);

  const consumeEvents = (async () => {
    for await (const event of execution.eventLogs) {
      const converted = convertEvent(event as unknown as LibraryEvent, stateTypes);
      if (converted) record(converted);
      if (event.type === "StateEntered" && !crashed) {
        statesEntered.push((event as unknown as LibraryEvent).state?.name ?? "");
      }
    }
  })();

  try {
    const output = await execution.result;
    if (crashed) {
      history.push({ type: "ExecutionAborted", timestamp: new Date(clock.now()) });
      return { status: "ABORTED", history, statesEntered };
    }
    await consumeEvents;
    return { status: "SUCCEEDED", output, history, statesEntered };
  } catch (error) {
    await consumeEvents.catch(() => undefined);
    const cause = (error as { cause?: unknown }).cause;
    const failure =
      cause instanceof Error ? cause : error instanceof Error ? error : new Error(String(error));
    return {
      status: "FAILED",
      error: failure.name,
      cause: failure.message,
      history,
      statesEntered,
    };
  } finally {
    options.stopSignal?.removeEventListener("abort", onStop);
  }
}

interface TaskHandlerOptions {
  readonly stateName: string;
  readonly functionName: string;
  readonly fn: TaskFunction;
  readonly invokeIntegration: boolean;
  readonly retriers: readonly Retrier[];
  readonly clock: SimulatedClock;
  readonly jitter: () => number;
  readonly executionArn: string;
  readonly isCrashed: () => boolean;
  readonly crash: () => never;
  readonly crashBefore: boolean;
  readonly crashAfter: boolean;
  readonly record: (event: HistoryEventInput) => void;
}

/**
 * The local function of one Task state: calls the bound function like Lambda would and, when the
 * error will be retried, lets the retrier's back-off elapse on the simulated clock first (the
 * library's own pause is overridden to 0).
 */
function taskHandler(options: TaskHandlerOptions): (input: Json) => Promise<Json> {
  const attempts = options.retriers.map(() => 0);
  let invocation = 0;
  return async (input) => {
    if (options.isCrashed() || options.crashBefore) options.crash();
    const payload = options.invokeIntegration ? ((input as JsonObject).Payload ?? {}) : input;
    invocation += 1;
    const context = lambdaContext(
      options.functionName,
      `arn:aws:lambda:us-west-2:123456789012:function:${options.functionName}`,
      `${options.executionArn.split(":").pop()}-${options.stateName}-${invocation}`,
    );
    let result: unknown;
    try {
      result = await options.fn(roundTrip(payload), context);
    } catch (error) {
      if (options.isCrashed()) options.crash();
      const failure = toTaskFailure(error);
      options.record({
        type: "TaskFailed",
        stateName: options.stateName,
        taskFailedEventDetails: {
          resourceType: "lambda",
          resource: options.invokeIntegration ? "invoke" : options.functionName,
          error: failure.name,
          cause: failure.message,
        },
      });
      const delay = retryDelay(options.retriers, attempts, failure.name, options.jitter);
      if (delay === undefined) attempts.fill(0);
      else if (delay > 0) await options.clock.sleep(delay, `retry ${options.stateName}`);
      throw failure;
    }
    attempts.fill(0);
    if (options.isCrashed()) options.crash();
    if (options.crashAfter) options.crash();
    const output = roundTrip(result === undefined ? null : result);
    const wrapped: Json = options.invokeIntegration
      ? {
          ExecutedVersion: "$LATEST",
          Payload: output,
          SdkHttpMetadata: { HttpStatusCode: 200 },
          SdkResponseMetadata: { RequestId: context.awsRequestId },
          StatusCode: 200,
        }
      : output;
    if (Buffer.byteLength(JSON.stringify(wrapped)) > MAX_PAYLOAD_BYTES) {
      throw new TaskFailure(
        "States.DataLimitExceeded",
        `The state/task '${options.stateName}' returned a result with a size exceeding the maximum number of bytes service limit.`,
      );
    }
    return wrapped;
  };
}

/**
 * The back-off before the retry Step Functions will make for this error, in ms, or undefined when
 * it will not retry. Mirrors the States Language: the first retrier whose ErrorEquals matches
 * decides; past its MaxAttempts there is no retry.
 */
function retryDelay(
  retriers: readonly Retrier[],
  attempts: number[],
  errorName: string,
  jitter: () => number,
): number | undefined {
  const index = retriers.findIndex((retrier) =>
    retrier.ErrorEquals.some(
      (name) => name === errorName || name === "States.ALL" || name === "States.TaskFailed",
    ),
  );
  if (index < 0) return undefined;
  const retrier = retriers[index] as Retrier;
  const used = attempts[index] as number;
  if (used >= (retrier.MaxAttempts ?? 3)) return undefined;
  attempts[index] = used + 1;
  const base = (retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** used;
  const capped = Math.min(base, retrier.MaxDelaySeconds ?? Number.POSITIVE_INFINITY) * 1000;
  return retrier.JitterStrategy === "FULL"
    ? Math.round(capped * Math.min(1, Math.max(0, jitter())))
    : capped;
}

function toTaskFailure(error: unknown): TaskFailure {
  const failure = error instanceof Error ? error : new Error(String(error));
  const cause = JSON.stringify({
    errorMessage: failure.message,
    errorType: failure.name,
    trace: (failure.stack ?? "").split("\n"),
  });
  return new TaskFailure(failure.name, cause);
}

function roundTrip(value: unknown): Json {
  return JSON.parse(JSON.stringify(value ?? null)) as Json;
}

/** A Wait state run as a local task: sleeps on the clock, passes its input through. */
function waitHandler(
  name: string,
  state: AnyState,
  clock: SimulatedClock,
  shouldCrash: () => boolean,
  crash: () => never,
): (input: Json) => Promise<Json> {
  // Read now: the state is turned into a Task (without these fields) before it runs.
  const { Seconds, SecondsPath, Timestamp, TimestampPath } = state;
  return async (input) => {
    if (shouldCrash()) crash();
    let delayMs = 0;
    if (typeof Seconds === "number") delayMs = Seconds * 1000;
    else if (typeof SecondsPath === "string") delayMs = Number(readPath(input, SecondsPath)) * 1000;
    else if (typeof Timestamp === "string") delayMs = Date.parse(Timestamp) - clock.now();
    else if (typeof TimestampPath === "string") {
      delayMs = Date.parse(String(readPath(input, TimestampPath))) - clock.now();
    }
    await clock.sleep(Math.max(0, delayMs), `wait ${name}`);
    return input;
  };
}

function convertWaitToTask(state: AnyState): void {
  for (const field of ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"]) delete state[field];
  state.Type = "Task";
  state.Resource = "arn:aws:lambda:us-west-2:123456789012:function:simulated-wait";
}

/** `$.a.b` paths only (what SecondsPath/TimestampPath use here). */
function readPath(input: Json, path: string): Json | undefined {
  if (!/^\$(\.[A-Za-z0-9_]+)*$/.test(path)) {
    throw new SimulatorUnsupportedError(`Wait path ${path}: only $.a.b paths are modelled`);
  }
  let current: Json | undefined = input;
  for (const segment of path.split(".").slice(1)) {
    current =
      current && typeof current === "object" && !Array.isArray(current)
        ? current[segment]
        : undefined;
  }
  return current;
}

// ---------------------------------------------------------------------------------------------
// History

interface LibraryEvent {
  readonly type: string;
  readonly state?: { name: string; type: string; input?: unknown; output?: unknown };
  readonly index?: number;
  readonly input?: unknown;
  readonly output?: unknown;
  readonly Error?: string;
  readonly Cause?: unknown;
}

function convertEvent(
  event: LibraryEvent,
  stateTypes: ReadonlyMap<string, string>,
): HistoryEventInput | undefined {
  const stateType = event.state ? (stateTypes.get(event.state.name) ?? event.state.type) : "";
  switch (event.type) {
    case "ExecutionStarted":
      return {
        type: "ExecutionStarted",
        executionStartedEventDetails: { input: JSON.stringify(event.input ?? null) },
      };
    case "ExecutionSucceeded":
      return {
        type: "ExecutionSucceeded",
        executionSucceededEventDetails: { output: JSON.stringify(event.output ?? null) },
      };
    case "ExecutionFailed":
      return {
        type: "ExecutionFailed",
        executionFailedEventDetails: { error: event.Error, cause: causeText(event.Cause) },
      };
    case "StateEntered":
      return {
        type: `${stateType}StateEntered` as HistoryEventInput["type"],
        stateEnteredEventDetails: {
          name: event.state?.name,
          input: JSON.stringify(event.state?.input ?? null),
        },
      };
    case "StateExited":
      return {
        type: `${stateType}StateExited` as HistoryEventInput["type"],
        stateExitedEventDetails: {
          name: event.state?.name,
          output: JSON.stringify(event.state?.output ?? null),
        },
      };
    default:
      return undefined;
  }
}

function causeText(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return typeof cause === "string" ? cause : JSON.stringify(cause ?? null);
}

// ---------------------------------------------------------------------------------------------
// StartExecution -> local run

export interface ConnectOptions {
  readonly definition: PreparedDefinition;
  readonly resolveFunction: LocalExecutionOptions["resolveFunction"];
  readonly jitter?: () => number;
  /** Per execution, where to simulate a crash (e.g. only for the first one). */
  readonly crash?: (executionName: string) => { before?: string; after?: string } | undefined;
  /** Called with each finished execution's result. */
  readonly onFinished?: (executionName: string, result: LocalExecutionResult) => void;
}

/**
 * Makes the simulated StartExecution run the definition locally: each execution gets the
 * StartExecution input, its history is what GetExecutionHistory returns, StopExecution aborts it.
 * Returns the function that disconnects it.
 */
export function connectStateMachine(pair: RegionPair, options: ConnectOptions): () => void {
  pair.stepFunctions.setExecutor(async (handle) => {
    const { execution } = handle;
    const crash = options.crash?.(execution.name);
    const result = await runLocalStateMachine({
      definition: options.definition,
      resolveFunction: options.resolveFunction,
      clock: pair.clock,
      input: JSON.parse(execution.input) as unknown,
      executionName: execution.name,
      stateMachineArn: execution.stateMachineArn,
      onEvent: handle.recordEvent,
      stopSignal: handle.stopSignal,
      ...(options.jitter ? { jitter: options.jitter } : {}),
      ...(crash?.before ? { crashBefore: crash.before } : {}),
      ...(crash?.after ? { crashAfter: crash.after } : {}),
    });
    options.onFinished?.(execution.name, result);
    return {
      status: result.status,
      ...(result.output === undefined ? {} : { output: result.output }),
      ...(result.error === undefined ? {} : { error: result.error }),
      ...(result.cause === undefined ? {} : { cause: result.cause }),
    };
  });
  return () => pair.stepFunctions.setExecutor(undefined);
}
