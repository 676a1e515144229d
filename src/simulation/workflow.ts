/**
 * Everything needed to run the automation's own workflow locally, shared by the scenario tests
 * (tests/support/local-state-machine.ts) and the local drill: finding the state machine and its
 * functions in a synthesized stack, binding each task to the handler in
 * functions/handlers/<name>.ts, and the Lambda runtime the handlers expect (environment,
 * simulated Date and `timers/promises`).
 */
import * as path from "node:path";
import {
  FUNCTION_NAMES as HANDLER_NAMES,
  type FunctionName as HandlerName,
  handlerEntry,
} from "../../functions/shared/function-names";
import { SETTINGS_VARIABLE } from "../../functions/shared/settings";
import type { LocalFunction } from "./lambda";
import {
  type ConnectOptions,
  connectStateMachine,
  type PreparedDefinition,
  prepareDefinition,
  type TaskFunction,
} from "./local-state-machine";
import type { RegionPair } from "./region-pair";

/** The Lambda handlers (functions/handlers/<name>.ts) and their settings variable. */
export { HANDLER_NAMES, type HandlerName, SETTINGS_VARIABLE };

/** The part of a synthesized stack's JSON this module reads. */
export interface SynthesizedResources {
  readonly resource: Readonly<
    Record<string, Readonly<Record<string, Readonly<Record<string, unknown>>>>>
  >;
}

/** The state machine definition and Lambda functions of a synthesized stack. */
export interface SynthesizedWorkflow {
  /** The definition as synthesized (JSON with `${aws_lambda_function.<id>.arn}` references). */
  readonly definition: string;
  /** Handler name of each `aws_lambda_function` logical id (from its function_name or id). */
  readonly handlersByLogicalId: ReadonlyMap<string, HandlerName>;
}

/**
 * Logical id part of the failover workflow's state machine (the Automation construct's
 * `workflow`), told apart from the drill's.
 */
export const FAILOVER_STATE_MACHINE_ID = "automation_workflow_";

/**
 * Finds a state machine of a synthesized stack (the one whose logical id contains
 * `stateMachineId`, by default the failover workflow's, or the only one) and the handler behind
 * each Lambda function.
 */
export function synthesizedWorkflow(
  stack: SynthesizedResources,
  stateMachineId?: string,
): SynthesizedWorkflow {
  const all = Object.keys(stack.resource.aws_sfn_state_machine ?? {});
  if (stateMachineId === undefined && all.length > 1) {
    return synthesizedWorkflow(stack, FAILOVER_STATE_MACHINE_ID);
  }
  const machines = Object.entries(stack.resource.aws_sfn_state_machine ?? {}).filter(
    ([id]) => stateMachineId === undefined || id.includes(stateMachineId),
  );
  const machine = machines[0];
  if (machines.length !== 1 || !machine) {
    throw new Error(
      `expected one aws_sfn_state_machine${stateMachineId ? ` matching ${stateMachineId}` : ""}, found ${machines.length}`,
    );
  }
  const definition = machine[1].definition;
  if (typeof definition !== "string")
    throw new Error("aws_sfn_state_machine.definition is not a string");
  const handlersByLogicalId = new Map<string, HandlerName>();
  for (const [id, resource] of Object.entries(stack.resource.aws_lambda_function ?? {})) {
    const name = handlerNameIn(String(resource.function_name ?? "")) ?? handlerNameIn(id);
    if (name) handlersByLogicalId.set(id, name);
  }
  return { definition, handlersByLogicalId };
}

/** The handler name a function name or logical id contains (longest match), if any. */
export function handlerNameIn(identifier: string): HandlerName | undefined {
  return [...HANDLER_NAMES]
    .sort((a, b) => b.length - a.length)
    .find((name) => identifier.includes(name));
}

/** Imports functions/handlers/<name>.ts (needs a TypeScript-aware loader: vitest, tsx). */
export async function loadHandler(name: HandlerName, root = process.cwd()): Promise<LocalFunction> {
  const module = (await import(path.join(root, handlerEntry(name)))) as {
    handler?: LocalFunction;
  };
  if (typeof module.handler !== "function") {
    throw new Error(`${handlerEntry(name)} does not export a handler function`);
  }
  return module.handler;
}

/**
 * Binds every task of a prepared definition to a handler: by the synthesized function's name when
 * the stack is known, else by the handler name the function reference contains. `overrides`
 * replace handlers by name.
 */
export async function bindWorkflowFunctions(
  prepared: PreparedDefinition,
  workflow: Pick<SynthesizedWorkflow, "handlersByLogicalId"> | undefined,
  overrides: Partial<Record<HandlerName, TaskFunction>> = {},
  root = process.cwd(),
): Promise<(functionName: string, stateName: string) => TaskFunction | undefined> {
  const bound = new Map<string, TaskFunction>();
  for (const functionName of new Set(prepared.taskFunctions.values())) {
    const name = workflow?.handlersByLogicalId.get(functionName) ?? handlerNameIn(functionName);
    if (!name)
      throw new Error(`no handler in functions/handlers matches Lambda function ${functionName}`);
    bound.set(functionName, overrides[name] ?? (await loadHandler(name, root)));
  }
  return (functionName) => bound.get(functionName);
}

/**
 * Sets what a deployed failover Lambda finds in its environment: SHOPSMART_DR_SETTINGS (the
 * pair's settings) and AWS_REGION (the secondary region, where the functions run). Handlers cache
 * settings and clients per sandbox, so set it before a handler first runs. Returns the function
 * that restores the previous values.
 */
export function setLambdaEnvironment(
  pair: RegionPair,
  region = pair.settings.regions.secondary.region,
): () => void {
  const previous = { settings: process.env[SETTINGS_VARIABLE], region: process.env.AWS_REGION };
  process.env[SETTINGS_VARIABLE] = JSON.stringify(pair.settings);
  process.env.AWS_REGION = region;
  return () => {
    restoreVariable(SETTINGS_VARIABLE, previous.settings);
    restoreVariable("AWS_REGION", previous.region);
  };
}

/**
 * The Lambda environment plus simulated `new Date()`/`Date.now()` and simulated `setTimeout` of
 * `node:timers/promises`, until the returned function restores them all.
 */
export function simulateLambdaRuntime(pair: RegionPair): () => void {
  const restoreEnvironment = setLambdaEnvironment(pair);
  const restoreDate = pair.clock.installAsGlobalDate();
  const restoreTimers = pair.clock.installAsTimersPromises();
  return () => {
    restoreTimers();
    restoreDate();
    restoreEnvironment();
  };
}

function restoreVariable(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

/** Options of {@link connectWorkflow}. */
export interface ConnectWorkflowOptions {
  /** The synthesized stack whose state machine runs (the only one, or `stateMachineId`)... */
  readonly stack?: SynthesizedResources;
  /** ...or a definition (JSON), its tasks bound by the handler name their function contains. */
  readonly definition?: string;
  readonly stateMachineId?: string;
  /** Replace some handlers, e.g. to make one fail. */
  readonly handlers?: Partial<Record<HandlerName, TaskFunction>>;
  /** Per execution, where to simulate a crash (e.g. only for the first one). */
  readonly crash?: ConnectOptions["crash"];
  /** Jitter draw in [0, 1] for FULL jitter back-offs. @default - always 1 (longest) */
  readonly jitter?: () => number;
  /** Where functions/ lives. @default process.cwd() */
  readonly root?: string;
}

/**
 * Makes the pair's StartExecution run the stack's synthesized state machine locally (each task
 * bound to its handler in functions/handlers) and registers read-topology and read-traffic for
 * Lambda Invoke under the settings' function names, with the Lambda runtime (environment,
 * simulated Date and timers) in place until the returned function undoes it all. Await
 * `pair.stepFunctions.settled()` for executions to end. The SDK must already be answered by the
 * pair (installSimulatedTransport).
 */
export async function connectWorkflow(
  pair: RegionPair,
  options: ConnectWorkflowOptions,
): Promise<() => void> {
  const workflow = options.stack
    ? synthesizedWorkflow(options.stack, options.stateMachineId)
    : undefined;
  const definition = workflow?.definition ?? options.definition;
  if (definition === undefined) throw new Error("connectWorkflow needs a stack or a definition");
  const prepared = prepareDefinition(definition, {
    region: pair.settings.regions.secondary.region,
  });
  const restoreRuntime = simulateLambdaRuntime(pair);
  try {
    const resolveFunction = await bindWorkflowFunctions(
      prepared,
      workflow,
      options.handlers,
      options.root,
    );
    for (const [name, functionName] of [
      ["read-topology", pair.settings.readTopologyFunctionName],
      ["read-traffic", pair.settings.readTrafficFunctionName],
    ] as const) {
      pair.registerFunction(
        functionName,
        options.handlers?.[name] ?? (await loadHandler(name, options.root)),
      );
    }
    const disconnect = connectStateMachine(pair, {
      definition: prepared,
      resolveFunction,
      ...(options.jitter ? { jitter: options.jitter } : {}),
      ...(options.crash ? { crash: options.crash } : {}),
    });
    return () => {
      disconnect();
      restoreRuntime();
    };
  } catch (error) {
    restoreRuntime();
    throw error;
  }
}
