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
} from "../../functions/shared/function-names";
import { SETTINGS_VARIABLE } from "../../functions/shared/settings";
import type { LocalFunction } from "./lambda";
import type { PreparedDefinition, TaskFunction } from "./local-state-machine";
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
 * Finds the state machine of a synthesized stack (the only one, or the one whose logical id
 * contains `stateMachineId`) and the handler behind each Lambda function.
 */
export function synthesizedWorkflow(
  stack: SynthesizedResources,
  stateMachineId?: string,
): SynthesizedWorkflow {
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
  const module = (await import(path.join(root, "functions", "handlers", `${name}.ts`))) as {
    handler?: LocalFunction;
  };
  if (typeof module.handler !== "function") {
    throw new Error(`functions/handlers/${name}.ts does not export a handler function`);
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
