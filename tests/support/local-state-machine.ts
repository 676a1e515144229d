/**
 * Runs the synthesized failover state machine locally against a {@link RegionPair}: the
 * `aws_sfn_state_machine.definition` of a synthesized stack (or a definition), each Lambda task
 * bound to the real handler in functions/handlers/<name>.ts, Wait states and retry back-offs on
 * the pair's simulated clock, the SDK answered by the simulation (bind it first with
 * bindSimulatedAws).
 *
 *   const aws = bindSimulatedAws(pair);
 *   const result = await runStateMachineScenario({ pair, stack: synth(stack), input });
 *   expect(result.status).toBe("SUCCEEDED");
 *
 * While a scenario runs, the Lambda environment is set and `new Date()`/`Date.now()` and
 * `setTimeout` of `node:timers/promises` read the simulated clock, so handler timestamps and
 * poll waits are in simulated time. The building blocks live in src/simulation (the drill uses
 * them too).
 */
import type { OperationInput } from "../../functions/shared/operation";
import {
  bindWorkflowFunctions,
  connectWorkflow as connectSimulatedWorkflow,
  type HandlerName,
  type LocalExecutionResult,
  prepareDefinition,
  type RegionPair,
  runLocalStateMachine,
  simulateLambdaRuntime,
  synthesizedWorkflow,
  type TaskFunction,
} from "../../src/simulation";
import type { SynthesizedStack } from "./synth";

export {
  HANDLER_NAMES,
  type HandlerName,
  handlerNameIn,
  loadHandler,
  simulateLambdaRuntime,
  synthesizedWorkflow,
} from "../../src/simulation";

export interface ScenarioOptions {
  readonly pair: RegionPair;
  /** The synthesized stack holding the state machine (or give `definition`). */
  readonly stack?: SynthesizedStack;
  /** A definition (object or synthesized JSON) instead of a stack. */
  readonly definition?: string | object;
  readonly input: OperationInput;
  /** Replace some handlers, e.g. to make one fail. */
  readonly handlers?: Partial<Record<HandlerName, TaskFunction>>;
  /** Simulates the execution dying just before / right after this state. */
  readonly crashBefore?: string;
  readonly crashAfter?: string;
  /** Jitter draw in [0, 1] for FULL jitter back-offs. @default - always 1 (longest) */
  readonly jitter?: () => number;
}

function prepare(options: Pick<ScenarioOptions, "pair" | "stack" | "definition">) {
  const workflow = options.stack ? synthesizedWorkflow(options.stack) : undefined;
  const source = workflow?.definition ?? options.definition;
  if (source === undefined)
    throw new Error("give the scenario a synthesized stack or a definition");
  const prepared = prepareDefinition(typeof source === "string" ? source : JSON.stringify(source), {
    region: options.pair.settings.regions.secondary.region,
  });
  return { workflow, prepared };
}

/**
 * Runs the workflow once with `input` as the execution input (the execution is named after its
 * operationId), with the Lambda runtime simulated for the duration.
 */
export async function runStateMachineScenario(
  options: ScenarioOptions,
): Promise<LocalExecutionResult> {
  const { pair } = options;
  const { workflow, prepared } = prepare(options);
  const restore = simulateLambdaRuntime(pair);
  try {
    return await runLocalStateMachine({
      definition: prepared,
      resolveFunction: await bindWorkflowFunctions(prepared, workflow, options.handlers),
      clock: pair.clock,
      input: options.input,
      executionName: options.input.operationId,
      stateMachineArn: pair.settings.stateMachineArn,
      ...(options.crashBefore ? { crashBefore: options.crashBefore } : {}),
      ...(options.crashAfter ? { crashAfter: options.crashAfter } : {}),
      ...(options.jitter ? { jitter: options.jitter } : {}),
    });
  } finally {
    restore();
  }
}

/**
 * Makes the simulated StartExecution run the workflow locally (for scenarios that go through
 * operations-api or auto-failover): src/simulation's connectWorkflow, with this file's options.
 */
export async function connectWorkflow(
  options: Omit<ScenarioOptions, "input" | "crashBefore" | "crashAfter"> & {
    readonly crash?: (executionName: string) => { before?: string; after?: string } | undefined;
  },
): Promise<() => void> {
  const { pair, stack, definition, ...rest } = options;
  return connectSimulatedWorkflow(pair, {
    ...rest,
    ...(stack ? { stack } : {}),
    ...(definition === undefined
      ? {}
      : { definition: typeof definition === "string" ? definition : JSON.stringify(definition) }),
  });
}
