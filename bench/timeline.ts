/**
 * The failover timeline, two ways, for bench/lambda.ts:
 *
 * - **model**: a walk of the state machine definition with a modeled latency per Task and Wait
 *   state (a sequence adds up, a Parallel state lasts as long as its slowest branch), next to the
 *   plain sum of the same latencies;
 * - **simulation**: the definition executed on the AWS simulation (src/simulation) with the real
 *   handlers of functions/handlers, simulated time, the AWS-side durations set to the same
 *   estimates (promotion, instance warm-up, DNS propagation) and the remaining step latencies
 *   injected per state.
 *
 * Both give spans (start/end per state, in seconds from the execution start) that
 * {@link asciiTimeline} draws.
 */
import type { OperationInput } from "../functions/shared/operation";
import type { AutomationSettings } from "../functions/shared/settings";
import {
  bindWorkflowFunctions,
  installSimulatedDataPlane,
  installSimulatedTransport,
  type LocalExecutionResult,
  type PreparedDefinition,
  RegionPair,
  runLocalStateMachine,
  type SimulationTimings,
  type SynthesizedWorkflow,
  simulateLambdaRuntime,
  type TaskFunction,
} from "../src/simulation";

/** One bar of a timeline. */
export interface Span {
  readonly label: string;
  /** Task/Wait/Parallel: a state; aws: AWS-side work after a call returned (promotion, DNS, ...). */
  readonly kind: "Task" | "Wait" | "Parallel" | "aws";
  /** Nesting: 0 for top-level states, 1 inside a Parallel branch. */
  readonly depth: number;
  /** Seconds from the execution start; several when a state runs more than once (a loop). */
  readonly intervals: readonly (readonly [number, number])[];
}

// ------------------------------------------------------------------------------ the ASL walk

interface AslState {
  readonly Type: string;
  readonly Next?: string;
  readonly End?: boolean;
  readonly Seconds?: number;
  readonly Branches?: readonly AslMachine[];
  readonly Choices?: readonly { readonly Next: string }[];
  readonly Default?: string;
}

interface AslMachine {
  readonly StartAt: string;
  readonly States: Readonly<Record<string, AslState>>;
}

export interface WalkModel {
  /** Seconds each Task state takes (a Wait state takes its `Seconds`); a Task missing is an error. */
  readonly taskSeconds: Readonly<Record<string, number>>;
  /** The Next each Choice state takes, by name (checked against the state's choices). */
  readonly choices: Readonly<Record<string, string>>;
}

export interface WalkResult {
  readonly spans: Span[];
  /** End of the walk: the critical path through the definition. */
  readonly criticalPathSeconds: number;
  /** Every Task and Wait latency on the walked path added up, as if nothing ran in parallel. */
  readonly sumSeconds: number;
}

/**
 * Walks the definition from StartAt along `model.choices`: a Task or Wait state lasts its modeled
 * time, a Pass state none, a Parallel state from the start of its branches to the end of the
 * slowest one. Ends at a Succeed or Fail state.
 */
export function walkDefinition(definition: AslMachine, model: WalkModel): WalkResult {
  const spans: Span[] = [];
  let sum = 0;
  const walk = (machine: AslMachine, start: number, depth: number): number => {
    let name: string | undefined = machine.StartAt;
    let time = start;
    for (let steps = 0; name !== undefined; steps++) {
      if (steps > 1000) throw new Error(`the walk does not end (at ${name}): check model.choices`);
      const state: AslState | undefined = machine.States[name];
      if (!state) throw new Error(`the definition has no state ${name}`);
      if (state.Type === "Task" || state.Type === "Wait") {
        const seconds = state.Type === "Wait" ? (state.Seconds ?? 0) : model.taskSeconds[name];
        if (seconds === undefined) throw new Error(`no modeled latency for the Task state ${name}`);
        spans.push({
          label: name,
          kind: state.Type,
          depth,
          intervals: [[time, time + seconds]],
        });
        sum += seconds;
        time += seconds;
      } else if (state.Type === "Parallel") {
        const index = spans.length;
        const ends = (state.Branches ?? []).map((branch) => walk(branch, time, depth + 1));
        const end = Math.max(time, ...ends);
        spans.splice(index, 0, {
          label: name,
          kind: "Parallel",
          depth,
          intervals: [[time, end]],
        });
        time = end;
      } else if (state.Type === "Choice") {
        const next: string | undefined = model.choices[name];
        const allowed: (string | undefined)[] = [
          ...(state.Choices ?? []).map((choice) => choice.Next),
          state.Default,
        ];
        if (next === undefined || !allowed.includes(next)) {
          throw new Error(`Choice ${name} goes to ${allowed.join(" | ")}; the model says ${next}`);
        }
        name = next;
        continue;
      } else if (state.Type === "Succeed" || state.Type === "Fail") {
        return time;
      } else if (state.Type !== "Pass") {
        throw new Error(`the walk does not handle ${state.Type} states (${name})`);
      }
      if (state.End) return time;
      name = state.Next;
    }
    return time;
  };
  const end = walk(definition, 0, 0);
  return { spans: mergeRepeats(spans), criticalPathSeconds: end, sumSeconds: sum };
}

/** Spans of the same state (a loop) become one row with several intervals. */
function mergeRepeats(spans: readonly Span[]): Span[] {
  const rows = new Map<string, Span>();
  for (const span of spans) {
    const key = `${span.depth}:${span.label}`;
    const row = rows.get(key);
    rows.set(key, row ? { ...row, intervals: [...row.intervals, ...span.intervals] } : span);
  }
  return [...rows.values()];
}

// ------------------------------------------------------------------------------ the simulation

export interface SimulationOptions {
  readonly workflow: SynthesizedWorkflow;
  readonly prepared: PreparedDefinition;
  readonly settings: AutomationSettings;
  readonly timings: Partial<SimulationTimings>;
  /** Extra seconds a state's function takes before it runs (simulated time), by state name. */
  readonly injectedSeconds: Readonly<Record<string, number>>;
  readonly mode: OperationInput["mode"];
  /** Take the source region down first (calls to it time out after this many ms). */
  readonly sourceDownCallMs?: number;
}

export interface SimulationResult {
  readonly status: LocalExecutionResult["status"];
  readonly error?: string;
  readonly cause?: string;
  readonly spans: Span[];
  /** Execution start to end. */
  readonly executionSeconds: number;
  /** When the target serves: DNS INSYNC and its capacity InService, whichever is later. */
  readonly targetReadySeconds: number;
  readonly notes: string[];
}

/**
 * Runs one failover of the definition on a fresh simulated region pair, each task bound to the
 * real handler (from source, with the SDK answered by the simulation), and returns its timeline.
 */
export async function simulateFailover(options: SimulationOptions): Promise<SimulationResult> {
  const { settings } = options;
  const pair = new RegionPair({ settings, timings: options.timings });
  const restoreDataPlane = installSimulatedDataPlane(pair);
  if (options.sourceDownCallMs !== undefined) {
    pair.regionDown("primary", { callMs: options.sourceDownCallMs });
    // Route 53's checkers need their failure threshold to see the outage; until then the plan
    // would take the unreachable primary for a partition and refuse a data-loss failover.
    const { healthCheckIntervalMs, healthCheckFailureThreshold } = pair.timings;
    await pair.clock.advance(healthCheckIntervalMs * (healthCheckFailureThreshold + 1));
  }
  const start = pair.clock.now();
  const compactTime = new Date(start).toISOString().replace(/[-:]|\.\d+/g, "");
  const input: OperationInput = {
    operationId: `op-${compactTime}-${options.mode === "planned" ? "b0b0b0" : "c0c0c0"}`,
    kind: "failover",
    mode: options.mode,
    reason: "bench: failover timeline",
    requestedAt: new Date(start).toISOString(),
    requestedBy: "bench",
    source: "primary",
    target: "secondary",
  };
  const restoreTransport = installSimulatedTransport(pair);
  const restoreRuntime = simulateLambdaRuntime(pair);
  const quiet = silenceConsole();
  let result: LocalExecutionResult;
  try {
    const bound = await bindWorkflowFunctions(options.prepared, options.workflow);
    const resolveFunction = (functionName: string, stateName: string): TaskFunction | undefined => {
      const real = bound(functionName, stateName);
      const seconds = options.injectedSeconds[stateName] ?? 0;
      if (!real || seconds === 0) return real;
      return async (payload, context) => {
        await pair.clock.sleep(seconds * 1000, `bench latency ${stateName}`);
        return real(payload, context);
      };
    };
    result = await runLocalStateMachine({
      definition: options.prepared,
      resolveFunction,
      clock: pair.clock,
      input,
      executionName: input.operationId,
      stateMachineArn: settings.stateMachineArn,
    });
  } finally {
    quiet();
    restoreRuntime();
    restoreTransport();
    restoreDataPlane();
  }
  const end = pair.clock.now();
  const seconds = (at: number) => (at - start) / 1000;

  const spans = spansFromHistory(result.history, start);
  const notes: string[] = [];
  // AWS-side work, from the simulation's own records.
  for (const promotion of pair.rds.promotions) {
    spans.push({
      label: `(aws) ${promotion.kind} ${promotion.outcome}`,
      kind: "aws",
      depth: 0,
      intervals: [[seconds(promotion.startedAt), seconds(promotion.finishedAt)]],
    });
  }
  const target = pair.autoScaling.group("secondary");
  const warmupMs = pair.timings.instanceWarmupMs;
  const scaleCall = pair.callsTo({ operation: "UpdateAutoScalingGroup" })[0];
  const launched = target.instances.filter((i) => i.launchedAt > start);
  const capacityAt = Math.max(start, ...launched.map((i) => i.launchedAt + warmupMs));
  if (scaleCall) {
    spans.push({
      label: `(aws) scale-up to ${target.desiredCapacity} InService`,
      kind: "aws",
      depth: 0,
      intervals: [[seconds(scaleCall.at), seconds(capacityAt)]],
    });
  }
  // The traffic fence: Route 53's fence check follows the TrafficFenced datapoint.
  const change = pair.callsTo({ operation: "PutMetricData" }).find((call) => call.outcome === "ok");
  const insyncAt = change ? change.at + pair.timings.fenceHealthMs : end;
  if (change) {
    spans.push({
      label: "(aws) Route 53 follows the fence",
      kind: "aws",
      depth: 0,
      intervals: [[seconds(change.at), seconds(insyncAt)]],
    });
  }
  if (target.inService < target.desiredCapacity) {
    notes.push(
      `at the end ${target.inService} of ${target.desiredCapacity} target instances were InService`,
    );
  }
  return {
    status: result.status,
    ...(result.error === undefined ? {} : { error: result.error }),
    ...(result.cause === undefined ? {} : { cause: result.cause }),
    spans,
    executionSeconds: seconds(end),
    targetReadySeconds: seconds(Math.max(insyncAt, capacityAt)),
    notes,
  };
}

/** The Task, Wait and Parallel states of an execution history as spans (Pass, Choice take none). */
function spansFromHistory(history: LocalExecutionResult["history"], start: number): Span[] {
  const rows = new Map<string, { span: Span; open: number[] }>();
  const depthOf = new Map<string, number>();
  let openParallels = 0;
  for (const event of history) {
    const type = String(event.type);
    const at = ((event.timestamp?.getTime() ?? start) - start) / 1000;
    const match = /^(Task|Wait|Parallel)State(Entered|Exited)$/.exec(type);
    if (!match) continue;
    const kind = match[1] as "Task" | "Wait" | "Parallel";
    const name =
      (match[2] === "Entered"
        ? event.stateEnteredEventDetails?.name
        : event.stateExitedEventDetails?.name) ?? "?";
    if (match[2] === "Entered") {
      if (!depthOf.has(name)) depthOf.set(name, kind === "Parallel" ? 0 : openParallels);
      const row = rows.get(name) ?? {
        span: { label: name, kind, depth: depthOf.get(name) ?? 0, intervals: [] },
        open: [],
      };
      row.open.push(at);
      rows.set(name, row);
      if (kind === "Parallel") openParallels++;
    } else {
      const row = rows.get(name);
      const began = row?.open.pop();
      if (row && began !== undefined) {
        row.span = { ...row.span, intervals: [...row.span.intervals, [began, at]] };
      }
      if (kind === "Parallel") openParallels--;
    }
  }
  return [...rows.values()].map((row) => row.span);
}

/** Handlers log a JSON line per call; the bench output is the report. */
function silenceConsole(): () => void {
  const saved = { log: console.log, info: console.info, warn: console.warn };
  console.log = () => undefined;
  console.info = () => undefined;
  console.warn = () => undefined;
  return () => Object.assign(console, saved);
}

// ------------------------------------------------------------------------------ drawing

const BAR: Record<Span["kind"], string> = { Task: "#", Wait: ".", Parallel: "=", aws: "~" };

/**
 * An ASCII chart, one row per span: its label, start and end (of the first and last interval, in
 * s) and a bar on a common scale. `#` task, `.` wait, `=` parallel state, `~` AWS-side work.
 */
export function asciiTimeline(spans: readonly Span[], width = 72): string {
  const total = Math.max(1, ...spans.flatMap((span) => span.intervals.map(([, end]) => end)));
  const scale = width / total;
  const label = (span: Span) => {
    const count = span.intervals.length > 1 ? ` x${span.intervals.length}` : "";
    return `${"  ".repeat(span.depth)}${span.label}${count}`;
  };
  const labelWidth = Math.max(...spans.map((span) => label(span).length), 5);
  const number = (value: number) => value.toFixed(1).padStart(6);
  const rows = spans.map((span) => {
    const cells = Array.from({ length: width + 1 }, () => " ");
    for (const [from, to] of span.intervals) {
      const first = Math.min(width, Math.floor(from * scale));
      const last = Math.max(first, Math.min(width, Math.ceil(to * scale) - 1));
      for (let cell = first; cell <= last; cell++) cells[cell] = BAR[span.kind];
      if (to === from) cells[first] = "|";
    }
    const first = span.intervals[0]?.[0] ?? 0;
    const last = span.intervals[span.intervals.length - 1]?.[1] ?? 0;
    return `${label(span).padEnd(labelWidth)} ${number(first)} ${number(last)}  ${cells.join("").trimEnd()}`;
  });
  // Axis: a tick every `step` seconds.
  const step = [5, 10, 15, 20, 30, 60, 120, 300].find((s) => total / s <= 10) ?? 600;
  const axis = Array.from({ length: width + 1 }, () => "-");
  const labels = Array.from({ length: width + 8 }, () => " ");
  for (let t = 0; t <= total; t += step) {
    const cell = Math.min(width, Math.round(t * scale));
    axis[cell] = "+";
    const text = `${t}`;
    for (let i = 0; i < text.length; i++) labels[cell + i] = text[i] as string;
  }
  const pad = " ".repeat(labelWidth + 16);
  const header = `${"state".padEnd(labelWidth)}  start    end  (s)`;
  return [header, ...rows, `${pad}${axis.join("")}`, `${pad}${labels.join("").trimEnd()} s`].join(
    "\n",
  );
}
