/**
 * Step Functions of the simulated pair: the failover state machine's executions. StartExecution
 * records the execution and, when an executor is set (the local state machine runner), runs it;
 * DescribeExecution, ListExecutions and GetExecutionHistory read what it recorded.
 *
 * Sources (Step Functions API Reference, StartExecution): for a Standard workflow a name can't be
 * reused for 90 days; "When the original execution is open and the execution input from the new
 * call is identical, the Success message is returned", different input or a closed execution is
 * ExecutionAlreadyExists; names are 1-80 characters without whitespace, brackets, wildcards or
 * `" # % \ ^ | ~ ` $ & , ; : /` (InvalidName); input must be JSON (InvalidExecutionInput);
 * StateMachineDoesNotExist, ExecutionDoesNotExist.
 *
 * When an execution ends, the listeners set with {@link StepFunctionsSimulation.onExecutionEnded}
 * run (the EventBridge "Step Functions Execution Status Change" rules of the stack, see
 * {@link executionStatusChangeEvent}), and `settled()` waits for them too.
 */
import type {
  DescribeExecutionInput,
  GetExecutionHistoryInput,
  HistoryEvent,
  ListExecutionsInput,
  StartExecutionInput,
  StopExecutionInput,
} from "@aws-sdk/client-sfn";
import type { SimulatedClock } from "./clock";
import { SimulatorUnsupportedError, serviceError } from "./errors";

export type ExecutionStatus = "RUNNING" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED";

/** An execution's history event without the id fields, which the model assigns. */
export type HistoryEventInput = Omit<HistoryEvent, "id" | "previousEventId" | "timestamp"> & {
  timestamp?: Date;
  /**
   * The state an event without a state name in its details belongs to (a TaskFailed): its
   * `previousEventId` then points at that state's last event, as in Step Functions, where the
   * events of parallel branches interleave but each chains back through its own branch.
   */
  stateName?: string;
};

export interface SimulatedExecution {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly input: string;
  readonly startDate: number;
  status: ExecutionStatus;
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
  readonly history: HistoryEvent[];
}

/** What an executor reports when the execution ends. */
export interface ExecutionOutcome {
  readonly status: Exclude<ExecutionStatus, "RUNNING">;
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
}

/** Given to an executor: the execution, a way to append history, and a stop signal. */
export interface ExecutionHandle {
  readonly execution: Readonly<SimulatedExecution>;
  recordEvent(event: HistoryEventInput): void;
  /** Aborted by StopExecution. */
  readonly stopSignal: AbortSignal;
}

export type Executor = (handle: ExecutionHandle) => Promise<ExecutionOutcome>;

/** Runs when an execution ends, as an EventBridge rule on its status change would. */
export type ExecutionEndedListener = (execution: Readonly<SimulatedExecution>) => Promise<unknown>;

/**
 * The "Step Functions Execution Status Change" event Step Functions sends to the default bus for
 * a standard workflow's execution (https://docs.aws.amazon.com/step-functions/latest/dg/eventbridge-integration.html):
 * the fields of `detail` the automation reads, plus the envelope.
 */
export function executionStatusChangeEvent(
  execution: Readonly<SimulatedExecution>,
  account: string,
  region: string,
): Record<string, unknown> {
  return {
    version: "0",
    "detail-type": "Step Functions Execution Status Change",
    source: "aws.states",
    account,
    region,
    time: new Date(execution.stopDate ?? execution.startDate).toISOString(),
    resources: [execution.executionArn],
    detail: {
      executionArn: execution.executionArn,
      stateMachineArn: execution.stateMachineArn,
      name: execution.name,
      status: execution.status,
      startDate: execution.startDate,
      stopDate: execution.stopDate ?? null,
    },
  };
}

const INVALID_NAME = /[\s<>{}[\]?*"#%\\^|~`$&,;:/]|\p{Cc}/u;

export class StepFunctionsSimulation {
  readonly executions: SimulatedExecution[] = [];
  private readonly stateMachineArns: readonly string[];
  private readonly clock: SimulatedClock;
  private executor: Executor | undefined;
  private readonly endedListeners: ExecutionEndedListener[] = [];
  /** Per execution: the id of each state's latest event, for previousEventId chains. */
  private readonly lastEventOfState = new WeakMap<SimulatedExecution, Map<string, number>>();
  private readonly running = new Map<
    string,
    { promise: Promise<void>; controller: AbortController }
  >();

  constructor(stateMachineArns: readonly string[], clock: SimulatedClock) {
    this.stateMachineArns = stateMachineArns;
    this.clock = clock;
  }

  /** Runs every execution StartExecution creates from now on (e.g. the local runner). */
  setExecutor(executor: Executor | undefined): void {
    this.executor = executor;
  }

  /** Calls `listener` whenever an execution ends; returns the function that removes it. */
  onExecutionEnded(listener: ExecutionEndedListener): () => void {
    this.endedListeners.push(listener);
    return () => {
      const index = this.endedListeners.indexOf(listener);
      if (index >= 0) this.endedListeners.splice(index, 1);
    };
  }

  /** Resolves when every execution started so far has ended. */
  async settled(): Promise<void> {
    while (this.running.size > 0) {
      await Promise.all([...this.running.values()].map((entry) => entry.promise));
    }
  }

  handle(operation: string, input: Record<string, unknown>, region: string): unknown {
    switch (operation) {
      case "StartExecution":
        return this.startExecution(input as unknown as StartExecutionInput, region);
      case "DescribeExecution":
        return this.describeExecution(input as unknown as DescribeExecutionInput);
      case "ListExecutions":
        return this.listExecutions(input as unknown as ListExecutionsInput, region);
      case "GetExecutionHistory":
        return this.getExecutionHistory(input as unknown as GetExecutionHistoryInput);
      case "StopExecution":
        return this.stopExecution(input as unknown as StopExecutionInput);
      default:
        throw new SimulatorUnsupportedError(`Step Functions ${operation} is not modelled`);
    }
  }

  private startExecution(input: StartExecutionInput, region: string) {
    const stateMachineArn = this.requireStateMachine(input.stateMachineArn, region);
    const name = input.name ?? `simulated-${this.executions.length + 1}`;
    if (name.length < 1 || name.length > 80 || INVALID_NAME.test(name)) {
      throw serviceError("sfn", "InvalidName", `Invalid Name: '${name}'`);
    }
    const executionInput = input.input ?? "{}";
    try {
      JSON.parse(executionInput);
    } catch {
      throw serviceError(
        "sfn",
        "InvalidExecutionInput",
        `Invalid State Machine Execution Input: '${executionInput}'`,
      );
    }
    const executionArn = `${stateMachineArn.replace(":stateMachine:", ":execution:")}:${name}`;
    const existing = this.executions.find((execution) => execution.executionArn === executionArn);
    if (existing) {
      if (existing.status === "RUNNING" && existing.input === executionInput) {
        return { executionArn, startDate: new Date(existing.startDate) };
      }
      throw serviceError(
        "sfn",
        "ExecutionAlreadyExists",
        `Execution Already Exists: '${executionArn}'`,
      );
    }
    const execution: SimulatedExecution = {
      executionArn,
      stateMachineArn,
      name,
      input: executionInput,
      startDate: this.clock.now(),
      status: "RUNNING",
      history: [],
    };
    this.executions.push(execution);
    this.run(execution);
    return { executionArn, startDate: new Date(execution.startDate) };
  }

  private run(execution: SimulatedExecution): void {
    const executor = this.executor;
    if (!executor) return;
    const controller = new AbortController();
    const handle: ExecutionHandle = {
      execution,
      recordEvent: (event) => this.appendEvent(execution, event),
      stopSignal: controller.signal,
    };
    const promise = executor(handle)
      .then(
        (outcome) => this.finish(execution, outcome),
        (error: unknown) =>
          this.finish(execution, {
            status: "FAILED",
            error: "States.Runtime",
            cause: error instanceof Error ? error.message : String(error),
          }),
      )
      .then(() => this.notifyEnded(execution))
      .finally(() => this.running.delete(execution.executionArn));
    this.running.set(execution.executionArn, { promise, controller });
  }

  private finish(execution: SimulatedExecution, outcome: ExecutionOutcome): void {
    if (execution.status !== "RUNNING") return;
    execution.status = outcome.status;
    execution.stopDate = this.clock.now();
    if (outcome.output !== undefined) execution.output = JSON.stringify(outcome.output);
    if (outcome.error !== undefined) execution.error = outcome.error;
    if (outcome.cause !== undefined) execution.cause = outcome.cause;
  }

  private async notifyEnded(execution: SimulatedExecution): Promise<void> {
    for (const listener of [...this.endedListeners]) await listener(execution);
  }

  private appendEvent(execution: SimulatedExecution, input: HistoryEventInput): void {
    const { stateName: hint, ...event } = input;
    const id = execution.history.length + 1;
    const stateName =
      hint ?? event.stateEnteredEventDetails?.name ?? event.stateExitedEventDetails?.name;
    const lastOfState = this.lastEventOfState.get(execution) ?? new Map<string, number>();
    this.lastEventOfState.set(execution, lastOfState);
    const previousEventId = hint !== undefined ? (lastOfState.get(hint) ?? id - 1) : id - 1;
    if (stateName !== undefined) lastOfState.set(stateName, id);
    execution.history.push({
      ...event,
      timestamp: event.timestamp ?? new Date(this.clock.now()),
      id,
      previousEventId,
    } as HistoryEvent);
  }

  private describeExecution(input: DescribeExecutionInput) {
    const execution = this.requireExecution(input.executionArn);
    return {
      executionArn: execution.executionArn,
      stateMachineArn: execution.stateMachineArn,
      name: execution.name,
      status: execution.status,
      startDate: new Date(execution.startDate),
      ...(execution.stopDate === undefined ? {} : { stopDate: new Date(execution.stopDate) }),
      input: execution.input,
      inputDetails: { included: true },
      ...(execution.output === undefined
        ? {}
        : { output: execution.output, outputDetails: { included: true } }),
      ...(execution.error === undefined ? {} : { error: execution.error }),
      ...(execution.cause === undefined ? {} : { cause: execution.cause }),
    };
  }

  private listExecutions(input: ListExecutionsInput, region: string) {
    const stateMachineArn = this.requireStateMachine(input.stateMachineArn, region);
    const executions = this.executions
      .filter(
        (execution) =>
          execution.stateMachineArn === stateMachineArn &&
          (input.statusFilter === undefined || execution.status === input.statusFilter),
      )
      .sort((a, b) => b.startDate - a.startDate)
      .slice(0, input.maxResults || 100)
      .map((execution) => ({
        executionArn: execution.executionArn,
        stateMachineArn: execution.stateMachineArn,
        name: execution.name,
        status: execution.status,
        startDate: new Date(execution.startDate),
        ...(execution.stopDate === undefined ? {} : { stopDate: new Date(execution.stopDate) }),
      }));
    return { executions };
  }

  private getExecutionHistory(input: GetExecutionHistoryInput) {
    const execution = this.requireExecution(input.executionArn);
    const events = input.reverseOrder ? [...execution.history].reverse() : [...execution.history];
    const start = input.nextToken ? Number(input.nextToken) : 0;
    const pageSize = input.maxResults || 1000;
    const page = events.slice(start, start + pageSize);
    const next = start + pageSize < events.length ? String(start + pageSize) : undefined;
    return { events: structuredClone(page), ...(next ? { nextToken: next } : {}) };
  }

  private stopExecution(input: StopExecutionInput) {
    const execution = this.requireExecution(input.executionArn);
    if (execution.status === "RUNNING") {
      this.finish(execution, {
        status: "ABORTED",
        ...(input.error === undefined ? {} : { error: input.error }),
        ...(input.cause === undefined ? {} : { cause: input.cause }),
      });
      this.running.get(execution.executionArn)?.controller.abort();
    }
    return { stopDate: new Date(execution.stopDate ?? this.clock.now()) };
  }

  private requireStateMachine(arn: string | undefined, region: string): string {
    if (!arn || !this.stateMachineArns.includes(arn) || arn.split(":")[3] !== region) {
      throw serviceError(
        "sfn",
        "StateMachineDoesNotExist",
        `State Machine Does Not Exist: '${arn}'`,
      );
    }
    return arn;
  }

  private requireExecution(arn: string | undefined): SimulatedExecution {
    const execution = this.executions.find((candidate) => candidate.executionArn === arn);
    if (!execution) {
      throw serviceError("sfn", "ExecutionDoesNotExist", `Execution Does Not Exist: '${arn}'`);
    }
    return execution;
  }
}
