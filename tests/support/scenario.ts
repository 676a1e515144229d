/**
 * Shared fixtures of the scenario tests (tests/scenarios, and the stacks tests/simulation
 * reads): the synthesized prod stack (whose `aws_sfn_state_machine` definition every scenario
 * executes), a fresh simulated region pair bound to the SDK, HTTP API events, and readers for
 * calls and the ledger.
 *
 * The handlers read SHOPSMART_DR_SETTINGS = simulatedSettings() (envs/prod.json under the
 * stack's names, with made-up identifiers where AWS assigns them); the synthesized settings hold
 * Terraform references, which only exist after an apply.
 */
import { resolve } from "node:path";
import type {
  APIGatewayProxyEventV2WithIAMAuthorizer,
  APIGatewayProxyStructuredResultV2,
} from "aws-lambda";
import { Testing } from "cdktf";
import { afterAll, beforeAll } from "vitest";
import type { OperationInput, OperationRecord } from "../../functions/shared/operation";
import { loadEnvConfigs } from "../../src/config/load";
import type { EnvConfig } from "../../src/config/schema";
import {
  autoFailoverVariableOf,
  type CallFilter,
  type CallRecord,
  type LocalExecutionResult,
  RegionPair,
  type RegionPairOptions,
  simulatedSettings,
  simulateLambdaRuntime,
} from "../../src/simulation";
import { apiGatewayEvent } from "../../src/simulation/api-gateway-event";
import { EnvironmentStack } from "../../src/stacks/environment-stack";
import { loadHandler, runStateMachineScenario } from "./local-state-machine";
import { bindSimulatedAws, type SimulatedAws } from "./simulated-aws";
import { type SynthesizedStack, synth } from "./synth";

export const CALLER_ARN = "arn:aws:iam::123456789012:user/ops";
export const PRIMARY_REGION = "us-east-2";
export const SECONDARY_REGION = "us-west-2";

/**
 * Synthesized stacks by environment config, kept on `globalThis` so that they outlive the
 * per-file module reset (tests/support/fresh-modules.ts): the scenario files in one worker
 * synthesize each environment once. Each file gets its own copy, parsed from the JSON text.
 */
const workerGlobals = globalThis as { shopsmartScenarioStacks?: Map<string, string> };
workerGlobals.shopsmartScenarioStacks ??= new Map();
const synthesizedJson = workerGlobals.shopsmartScenarioStacks;
const stacks = new Map<string, SynthesizedStack>();

/** `<dir>/<environment>.json`, through the loader the app uses. */
function envConfig(dir: string, environment: string): EnvConfig {
  const config = loadEnvConfigs(resolve(__dirname, dir)).find(
    (candidate) => candidate.environment === environment,
  );
  if (!config) throw new Error(`no ${dir}/${environment}.json`);
  return config;
}

/** The EnvironmentStack of `<dir>/<environment>.json`, synthesized once per worker. */
function envStack(dir: string, environment: string): SynthesizedStack {
  const key = `${dir}/${environment}`;
  let stack = stacks.get(key);
  if (stack === undefined) {
    const config = envConfig(dir, environment);
    const configKey = JSON.stringify(config);
    let json = synthesizedJson.get(configKey);
    if (json === undefined) {
      json = JSON.stringify(synth(new EnvironmentStack(Testing.app(), { config })));
      synthesizedJson.set(configKey, json);
    }
    stack = JSON.parse(json) as SynthesizedStack;
    stacks.set(key, stack);
  }
  return stack;
}

/** The EnvironmentStack of envs/prod.json, synthesized once per worker. */
export function prodStack(): SynthesizedStack {
  return envStack("../../envs", "prod");
}

/** The seed's regions (primary us-east-1): tests/fixtures/envs/seed.json, once per worker. */
export function seedStack(): SynthesizedStack {
  return envStack("../fixtures/envs", "seed");
}

/** tests/fixtures/envs/seed.json, which {@link seedStack} synthesizes. */
export function seedConfig(): EnvConfig {
  return envConfig("../fixtures/envs", "seed");
}

/**
 * The synthesized auto-failover function's SHOPSMART_DR_AUTO_FAILOVER: the alarm that triggers
 * it and the EventBridge rule that delivers the event.
 */
export function autoFailoverVariable(stack: SynthesizedStack): string {
  const value = autoFailoverVariableOf(stack);
  if (value === undefined) throw new Error("prod has no auto-failover function");
  return value;
}

export interface Scenario {
  readonly pair: RegionPair;
  readonly aws: SimulatedAws;
}

/** Two healthy regions in prod's shape, the primary active, the SDK answered by them. */
export function newScenario(options: Partial<Omit<RegionPairOptions, "settings">> = {}): Scenario {
  const pair = new RegionPair({ settings: simulatedSettings(), ...options });
  return { pair, aws: bindSimulatedAws(pair) };
}

/**
 * Lets Route 53's health checkers notice what just changed (their failure threshold of checks,
 * plus the round in progress), as in AWS, where an outage reaches DNS and the checkers' verdict
 * interval x threshold later. The plan refuses a data-loss failover while Route 53 still sees
 * the unreachable primary healthy (a partition), so an unplanned request waits for this.
 */
export async function untilRoute53Notices(pair: RegionPair): Promise<void> {
  const { healthCheckIntervalMs, healthCheckFailureThreshold } = pair.timings;
  await pair.clock.advance(healthCheckIntervalMs * (healthCheckFailureThreshold + 1));
}

/** An execution input as operations-api writes it, requested now (simulated time). */
export function operationInput(
  pair: RegionPair,
  overrides: Partial<OperationInput> = {},
): OperationInput {
  const kind = overrides.kind ?? "failover";
  return {
    operationId: "op-20260105T090000Z-5ce7a1",
    kind,
    mode: "planned",
    reason: "scenario test",
    requestedAt: pair.clock.isoString(),
    requestedBy: CALLER_ARN,
    source: kind === "failover" ? "primary" : "secondary",
    target: kind === "failover" ? "secondary" : "primary",
    ...overrides,
  };
}

/** An HTTP API (payload 2.0) request signed by {@link CALLER_ARN}, as API Gateway delivers it. */
export function apiRequest(
  method: "GET" | "POST",
  path: string,
  body?: unknown,
): APIGatewayProxyEventV2WithIAMAuthorizer {
  return apiGatewayEvent(method, path, body, CALLER_ARN);
}

export interface ApiResponse {
  readonly statusCode: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies of several shapes, asserted per test
  readonly body: any;
}

/**
 * Sends a request to the real operations-api handler. Call it while the Lambda runtime is
 * simulated (connectWorkflow, or {@link withLambdaRuntime}).
 */
export async function callApi(
  event: APIGatewayProxyEventV2WithIAMAuthorizer,
): Promise<ApiResponse> {
  const handler = await loadHandler("operations-api");
  const response = (await handler(event, undefined as never)) as APIGatewayProxyStructuredResultV2;
  return {
    statusCode: response.statusCode ?? 0,
    body: response.body === undefined ? undefined : JSON.parse(response.body),
  };
}

/** Runs `action` with the Lambda environment, Date and timers of `pair` in place. */
export async function withLambdaRuntime<T>(pair: RegionPair, action: () => Promise<T>): Promise<T> {
  const restore = simulateLambdaRuntime(pair);
  try {
    return await action();
  } finally {
    restore();
  }
}

/** GET /operations/{id} through operations-api: the recorded operation. */
export async function recordedOperation(
  pair: RegionPair,
  operationId: string,
): Promise<OperationRecord> {
  const response = await withLambdaRuntime(pair, () =>
    callApi(apiRequest("GET", `/operations/${operationId}`)),
  );
  if (response.statusCode !== 200) {
    throw new Error(
      `GET /operations/${operationId}: ${response.statusCode} ${JSON.stringify(response.body)}`,
    );
  }
  return response.body as OperationRecord;
}

/** Ledger items whose key starts with `OPERATION#`. */
export function operationKeys(pair: RegionPair): string[] {
  return pair.dynamodb
    .items(pair.settings.ledgerTableName)
    .map((item) => String((item.pk as { S?: string }).S))
    .filter((key) => key.startsWith("OPERATION#"));
}

/** Whether the ledger LOCK item exists. */
export function lockHeld(pair: RegionPair): boolean {
  return pair.dynamodb.item(pair.settings.ledgerTableName, "LOCK") !== undefined;
}

/** `service:Operation@region` of each call matching `filter`, in order. */
export function callLog(pair: RegionPair, filter: CallFilter = {}): string[] {
  return pair.callsTo(filter).map((call) => `${call.service}:${call.operation}@${call.region}`);
}

/** Seconds of simulated time from `start` (epoch ms or ISO) to the call. */
export function secondsAfter(start: number | string, call: CallRecord | undefined): number {
  if (!call) throw new Error("no such call");
  return (call.at - (typeof start === "string" ? Date.parse(start) : start)) / 1000;
}

/** The one call matching `filter` (fails when there are none or several). */
export function onlyCall(pair: RegionPair, filter: CallFilter): CallRecord {
  const calls = pair.callsTo(filter);
  if (calls.length !== 1) {
    throw new Error(`expected one call matching ${JSON.stringify(filter)}, got ${calls.length}`);
  }
  return calls[0] as CallRecord;
}

/** Index in `pair.calls` of a call (for ordering assertions). */
export function indexOf(pair: RegionPair, call: CallRecord): number {
  return pair.calls.indexOf(call);
}

/** The output of each exit of a state, parsed, in order (from the execution history). */
export function stateOutputs(result: LocalExecutionResult, stateName: string): unknown[] {
  return result.history
    .filter(
      (event) =>
        event.type?.endsWith("StateExited") && event.stateExitedEventDetails?.name === stateName,
    )
    .map((event) => JSON.parse(event.stateExitedEventDetails?.output ?? "null") as unknown);
}

/** The simulated time (epoch ms) of the first history event of `type` for `stateName`. */
export function stateEventAt(
  result: LocalExecutionResult,
  type: "Entered" | "Exited",
  stateName: string,
  occurrence: "first" | "last" = "first",
): number {
  const events = result.history.filter(
    (event) =>
      event.type?.endsWith(`State${type}`) &&
      (type === "Entered"
        ? event.stateEnteredEventDetails?.name
        : event.stateExitedEventDetails?.name) === stateName,
  );
  const event = occurrence === "first" ? events[0] : events.at(-1);
  if (!event?.timestamp) throw new Error(`no ${stateName} ${type} event`);
  return event.timestamp.getTime();
}

/** How long a scenario run once for its describe may take: the tests' own timeout. */
export const SCENARIO_TIMEOUT_MS = 60_000;

/** Registers what to undo after the describe's last test ({@link sharedScenario}). */
export type OnCleanup = (cleanup: () => void) => void;

/**
 * Runs a scenario once for the enclosing `describe` (in `beforeAll`), so that each of its tests
 * checks one behaviour of the same run; what `run` registers with `onCleanup` is undone after
 * the describe's last test (`afterAll`, in reverse order), so one scenario's simulator does not
 * serve the next describe. Returns a reader of what `run` returned.
 */
export function sharedScenario<T>(run: (onCleanup: OnCleanup) => Promise<T>): () => T {
  let outcome: { readonly value: T } | undefined;
  const cleanups: (() => void)[] = [];
  beforeAll(async () => {
    outcome = { value: await run((cleanup) => cleanups.push(cleanup)) };
  }, SCENARIO_TIMEOUT_MS);
  afterAll(() => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  });
  return () => {
    if (outcome === undefined) throw new Error("the describe's scenario did not run");
    return outcome.value;
  };
}

/** {@link newScenario}, unbound from the SDK with the describe's cleanups. */
export function scenarioPair(
  onCleanup: OnCleanup,
  options: Partial<Omit<RegionPairOptions, "settings">> = {},
): RegionPair {
  const { pair, aws } = newScenario(options);
  onCleanup(() => aws.restore());
  return pair;
}

/**
 * One execution of prod's synthesized workflow, run once for the describe
 * ({@link sharedScenario}): on the pair `pair` makes (two healthy regions unless given), with the
 * input `input` makes (a planned failover unless given), and the operation it recorded.
 */
export function executionScenario(
  options: {
    readonly pair?: (onCleanup: OnCleanup) => RegionPair | Promise<RegionPair>;
    readonly input?: (pair: RegionPair) => OperationInput;
    readonly jitter?: () => number;
  } = {},
) {
  return sharedScenario(async (onCleanup) => {
    const pair = await (options.pair ?? scenarioPair)(onCleanup);
    const input = (options.input ?? operationInput)(pair);
    const result = await runStateMachineScenario({
      pair,
      stack: prodStack(),
      input,
      ...(options.jitter ? { jitter: options.jitter } : {}),
    });
    // The recorded operation (GET /operations/{id}). The execution was started directly, not
    // through the API, so finish wrote the whole record.
    const record = await recordedOperation(pair, input.operationId);
    return { pair, input, result, record };
  });
}
