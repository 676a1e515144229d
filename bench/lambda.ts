import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { unzipSync } from "fflate";
import { loadEnvConfigs } from "../src/config/load";
import {
  BUNDLE_FILE,
  bundleFunctions,
  clearProcessCache,
  type LambdaBundle,
  SOURCE_MAP_FILE,
} from "../src/constructs/automation/bundling";
import {
  FUNCTION_NAMES,
  type FunctionName,
  handlerEntries,
} from "../src/constructs/automation/functions";
import { prepareDefinition, simulatedSettings, synthesizedWorkflow } from "../src/simulation";
import { type Machine, machine, machineMarkdown, round, table, writeSection } from "./report";
import {
  asciiTimeline,
  type SimulationResult,
  type Span,
  simulateFailover,
  type WalkResult,
  walkDefinition,
} from "./timeline";

/**
 * Lambda bench, two sections of bench/results.md (and keys of bench/results.json):
 *
 * - `lambda`: every handler bundled exactly as synth bundles it (bundling.ts, the same options),
 *   its minified and zipped size, and its module init time: fresh `node -e` processes that
 *   `require()` the bundle between two `process.hrtime` readings (process start excluded), the
 *   median of several runs, on this machine; beside it, for reading only, where that time goes
 *   (Node built-ins loaded, compiling the bundle, evaluating its modules) and the init with
 *   `--enable-source-maps`, which the deployed functions run with;
 * - `timeline`: the failover's critical path through the synthesized state machine under
 *   modeled step latencies, next to the plain sum of the steps, and the same failover executed on
 *   the AWS simulation with the real handlers, each drawn as an ASCII timeline.
 *
 * Run with `npx tsx bench/lambda.ts`.
 */

const ROOT = resolve(__dirname, "..");
/** SPEC (issue 5, item 7): each bundle <= 400 KB minified, module init <= 100 ms (Node 20, here). */
const TARGET = { bundleKB: 400, initMs: 100 };
const INIT_WARMUPS = 2;
const INIT_RUNS = 15;
/** KB = 1000 bytes, as the targets are stated. */
const KB = 1000;

/** Modeled step latencies besides the two estimates of envs/prod.json (seconds). */
const MODEL = {
  preflightRead: 2,
  /** flip-dns's fence until Route 53's fence check follows it (the simulator's fenceHealthMs). */
  dnsFlip: 60,
  verify: 5,
  finish: 1,
  /** plan-operation: no AWS call, one warm invoke. */
  plan: 0.1,
};

interface Spread {
  median: number;
  min: number;
  max: number;
}

interface FunctionFigures {
  name: FunctionName;
  bundleBytes: number;
  zipBytes: number;
  sourceMapBytes: number;
  /** The SPEC's figure. `runs`: every measured run in order, space-separated. */
  initMs: Spread & { runs: string };
  /** Medians of the init's parts, measured in separate processes (see PHASES_SCRIPT). */
  phasesMs: { builtins: number; compile: number; evaluate: number };
  /** The same init with NODE_OPTIONS=--enable-source-maps, as the functions are deployed. */
  initWithSourceMapsMs: Spread;
  /** Largest contributors (package or source folder) to the minified bundle, in bytes. */
  largest: [string, number][];
}

// ------------------------------------------------------------------------------ bundles

function bundleAll(): { bundles: Record<FunctionName, LambdaBundle>; seconds: number } {
  const entries = handlerEntries();
  clearProcessCache();
  const started = performance.now();
  // No cache: a fresh build with the options synth uses.
  const bundles = bundleFunctions(entries, { cacheDir: false }) as Record<
    FunctionName,
    LambdaBundle
  >;
  return { bundles, seconds: (performance.now() - started) / 1000 };
}

/** What each package (node_modules/<pkg>) or source folder adds to the minified bundle. */
function largestParts(bundle: LambdaBundle, count = 3): [string, number][] {
  const groups = new Map<string, number>();
  for (const [input, bytes] of Object.entries(bundle.inputBytes)) {
    const pkg = /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1];
    const key = pkg ?? input.split("/").slice(0, 2).join("/");
    groups.set(key, (groups.get(key) ?? 0) + bytes);
  }
  return [...groups.entries()].sort((a, b) => b[1] - a[1]).slice(0, count);
}

/** A Lambda-like environment: region, credentials and settings set, nothing else of this shell. */
function lambdaEnvironment(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? "",
    AWS_REGION: "us-west-2",
    AWS_DEFAULT_REGION: "us-west-2",
    AWS_ACCESS_KEY_ID: "AKIDBENCH0000000001",
    AWS_SECRET_ACCESS_KEY: "bench/secret",
    AWS_SESSION_TOKEN: "bench-session-token",
    SHOPSMART_DR_SETTINGS: JSON.stringify(simulatedSettings()),
    SHOPSMART_DR_AUTO_FAILOVER: JSON.stringify({
      alarmName: "shopsmart-prod-primary-endpoint-health",
      alarmRegion: "us-east-2",
      ruleName: "shopsmart-prod-auto-failover",
    }),
  };
}

const INIT_SCRIPT = `
const started = process.hrtime.bigint();
require(process.env.BENCH_BUNDLE);
const finished = process.hrtime.bigint();
process.stdout.write(String(Number(finished - started) / 1e6));
`;

/**
 * What the automation construct sets on every function (src/constructs/automation/index.ts): Node
 * then reads and parses the bundle's source map while it loads the bundle.
 */
const DEPLOYED_NODE_OPTIONS = "--enable-source-maps";

/**
 * The `require()` of INIT_SCRIPT taken apart, for reading where its time goes (the SPEC's figure
 * stays INIT_SCRIPT's): the loader's steps done by hand. Node 20's CommonJS loader compiles a
 * module the same way (V8's CompileFunction, the same five wrapper parameters).
 * - builtins: time inside the `require()` of Node built-in modules the bundle makes while it is
 *   evaluated (node:https, node:crypto, ...; a built-in's first load compiles and runs it);
 * - compile: `compileFunction` of the bundle's source (V8 parses the whole file, compiles the
 *   top-level code and pre-parses every function);
 * - evaluate: running the bundle's top-level code, built-ins excluded: the modules' bodies, the
 *   lazy compilation of the functions they call, their garbage collection.
 */
const PHASES_SCRIPT = `
const { readFileSync } = require("node:fs");
const Module = require("node:module");
const { dirname } = require("node:path");
const { compileFunction } = require("node:vm");
const file = process.env.BENCH_BUNDLE;
const source = readFileSync(file, "utf8");
let builtinsNs = 0n;
const load = Module._load;
Module._load = function (request, ...rest) {
  if (!Module.isBuiltin(request)) return load.call(this, request, ...rest);
  const started = process.hrtime.bigint();
  try {
    return load.call(this, request, ...rest);
  } finally {
    builtinsNs += process.hrtime.bigint() - started;
  }
};
const bundle = new Module(file, module);
bundle.filename = file;
bundle.paths = Module._nodeModulePaths(dirname(file));
const started = process.hrtime.bigint();
const wrapper = compileFunction(source, ["exports", "require", "module", "__filename", "__dirname"], { filename: file });
const compiled = process.hrtime.bigint();
wrapper.call(bundle.exports, bundle.exports, (id) => bundle.require(id), bundle, file, dirname(file));
const finished = process.hrtime.bigint();
const ms = (ns) => Number(ns) / 1e6;
process.stdout.write([ms(builtinsNs), ms(compiled - started), ms(finished - compiled - builtinsNs)].join(" "));
`;

/** Runs `script` in a fresh process and returns the numbers it prints. */
function runScript(script: string, bundlePath: string, env: NodeJS.ProcessEnv): number[] {
  const result = spawnSync(process.execPath, ["-e", script], {
    env: { ...env, BENCH_BUNDLE: bundlePath },
    encoding: "utf8",
  });
  const values = result.stdout.trim().split(" ").map(Number);
  if (result.status !== 0 || values.length === 0 || !values.every(Number.isFinite)) {
    throw new Error(`requiring ${bundlePath} failed (exit ${result.status}):\n${result.stderr}`);
  }
  return values;
}

/** Milliseconds the `require()` of one bundle takes in a fresh process. */
function initOnce(bundlePath: string, env: NodeJS.ProcessEnv): number {
  return runScript(INIT_SCRIPT, bundlePath, env)[0] as number;
}

/** The milliseconds of PHASES_SCRIPT's parts: builtins, compile, evaluate. */
function phasesOnce(bundlePath: string, env: NodeJS.ProcessEnv): number[] {
  return runScript(PHASES_SCRIPT, bundlePath, env);
}

function measureFunctions(
  bundles: Record<FunctionName, LambdaBundle>,
  work: string,
): FunctionFigures[] {
  const paths = {} as Record<FunctionName, string>;
  for (const name of FUNCTION_NAMES) {
    // As Lambda unpacks it: /var/task/index.js (+ map), nothing else beside it.
    const dir = join(work, name);
    mkdirSync(dir, { recursive: true });
    const files = unzipSync(readFileSync(bundles[name].zipPath));
    writeFileSync(join(dir, BUNDLE_FILE), files[BUNDLE_FILE] as Uint8Array);
    writeFileSync(join(dir, SOURCE_MAP_FILE), files[SOURCE_MAP_FILE] as Uint8Array);
    paths[name] = join(dir, BUNDLE_FILE);
  }
  const env = lambdaEnvironment();
  const deployedEnv = { ...env, NODE_OPTIONS: DEPLOYED_NODE_OPTIONS };
  const perFunction = () =>
    Object.fromEntries(FUNCTION_NAMES.map((name) => [name, [] as number[]])) as Record<
      FunctionName,
      number[]
    >;
  const runs = perFunction();
  const withSourceMaps = perFunction();
  const phases = { builtins: perFunction(), compile: perFunction(), evaluate: perFunction() };
  // Round-robin over the functions, so drift in the machine's load spreads over all of them.
  for (let round = 0; round < INIT_WARMUPS + INIT_RUNS; round++) {
    for (const name of FUNCTION_NAMES) {
      const ms = initOnce(paths[name], env);
      const deployedMs = initOnce(paths[name], deployedEnv);
      const [builtins, compile, evaluate] = phasesOnce(paths[name], env) as [
        number,
        number,
        number,
      ];
      if (round < INIT_WARMUPS) continue;
      runs[name].push(ms);
      withSourceMaps[name].push(deployedMs);
      phases.builtins[name].push(builtins);
      phases.compile[name].push(compile);
      phases.evaluate[name].push(evaluate);
    }
    process.stdout.write(".");
  }
  process.stdout.write("\n");
  return FUNCTION_NAMES.map((name) => ({
    name,
    bundleBytes: bundles[name].bundleBytes,
    zipBytes: bundles[name].zipBytes,
    sourceMapBytes: bundles[name].sourceMapBytes,
    initMs: {
      ...spread(runs[name]),
      runs: runs[name].map((value) => round(value, 1)).join(" "),
    },
    phasesMs: {
      builtins: round(median(phases.builtins[name]), 1),
      compile: round(median(phases.compile[name]), 1),
      evaluate: round(median(phases.evaluate[name]), 1),
    },
    initWithSourceMapsMs: spread(withSourceMaps[name]),
    largest: largestParts(bundles[name]),
  }));
}

function spread(values: number[]): Spread {
  return {
    median: round(median(values), 1),
    min: round(Math.min(...values), 1),
    max: round(Math.max(...values), 1),
  };
}

function lambdaSection(
  m: Machine,
  figures: FunctionFigures[],
  bundleSeconds: number,
  loadAverageAfter: number,
) {
  const kb = (bytes: number) => (bytes / KB).toFixed(1);
  const sizeMet = figures.every((f) => f.bundleBytes <= TARGET.bundleKB * KB);
  const initMet = figures.every((f) => f.initMs.median <= TARGET.initMs);
  const largestBundle = figures.reduce((a, b) => (b.bundleBytes > a.bundleBytes ? b : a));
  const slowestInit = figures.reduce((a, b) => (b.initMs.median > a.initMs.median ? b : a));
  const markdown = `
## Lambda bundles and module init

${machineMarkdown(m)}
- Bundles: \`bundleFunctions\` of src/constructs/automation/bundling.ts with the options synth
  uses, built fresh (no cache) in ${bundleSeconds.toFixed(1)} s for all ${figures.length} handlers.
  KB = 1000 bytes.
- Init: the time \`require()\` of the unpacked \`index.js\` takes in a fresh \`node -e\` process
  (two \`process.hrtime.bigint()\` readings around it, so process start is excluded), in a
  Lambda-like environment (AWS_REGION, credentials and settings set). ${INIT_WARMUPS} warm-up +
  ${INIT_RUNS} measured runs per function, round-robin over the functions; median, min and max.
  This machine, not Lambda (arm64, CPU share by memory size): compare bundles with each other.
  1-min load average after the init runs: ${loadAverageAfter.toFixed(2)} (the runs themselves
  keep about one core busy; anything above that is other processes, which lengthen every figure
  alike, as the round-robin spreads them over all functions).

### SPEC targets

${table(
  ["Target", "Measured", "Met"],
  [
    [
      `each bundle <= ${TARGET.bundleKB} KB minified`,
      `largest: ${largestBundle.name} ${kb(largestBundle.bundleBytes)} KB`,
      sizeMet ? "yes" : "**no**",
    ],
    [
      `module init <= ${TARGET.initMs} ms (Node 20, here)`,
      `slowest median: ${slowestInit.name} ${slowestInit.initMs.median.toFixed(1)} ms`,
      initMet ? "yes" : "**no**",
    ],
  ],
)}

### Figures

${table(
  [
    "Function",
    "Minified (KB)",
    "Zip (KB)",
    "Source map (KB)",
    "Init median (ms)",
    "Init min – max (ms)",
    "Largest parts (KB)",
  ],
  figures.map((f) => [
    f.name,
    kb(f.bundleBytes),
    kb(f.zipBytes),
    kb(f.sourceMapBytes),
    f.initMs.median.toFixed(1),
    `${f.initMs.min.toFixed(1)} – ${f.initMs.max.toFixed(1)}`,
    f.largest.map(([part, bytes]) => `${part} ${kb(bytes)}`).join(", "),
  ]),
)}

### Where init goes

Medians of the init's parts, each run in its own fresh process beside the init runs (the loader's
steps done by hand, see \`PHASES_SCRIPT\`): the Node built-ins the bundle loads (node:https with
tls and http, node:crypto, node:zlib, ...: the AWS SDK needs them all), compiling the bundle (V8
parses the whole file: grows with its size) and evaluating its modules (their bodies, lazy
compilation of what they call, garbage collection). Their sum is about 90% of the init; the rest
is the loader's own work (resolving, reading and wrapping the file: about 3 ms for an empty
module). The last column is the init with \`NODE_OPTIONS=${DEPLOYED_NODE_OPTIONS}\`, which the
deployed functions run with (stack traces into the TypeScript sources): Node then reads and
parses the source map as it loads the bundle. For reading only; the SPEC's figure is the init
above.

${table(
  [
    "Function",
    "Built-ins (ms)",
    "Compile (ms)",
    "Evaluate (ms)",
    "Init median (ms)",
    `Init with ${DEPLOYED_NODE_OPTIONS}, median (ms)`,
  ],
  figures.map((f) => [
    f.name,
    f.phasesMs.builtins.toFixed(1),
    f.phasesMs.compile.toFixed(1),
    f.phasesMs.evaluate.toFixed(1),
    f.initMs.median.toFixed(1),
    f.initWithSourceMapsMs.median.toFixed(1),
  ]),
)}

The SDK's credential providers after the environment provider (SSO, shared config files,
\`credential_process\`, web identity, container credentials) are not in the bundles: Lambda's
environment credentials answer first, and those links would load the runtime's own SDK
(see \`EXTERNAL_CREDENTIAL_PROVIDERS\` in bundling.ts).
`;
  const data = {
    machine: m,
    loadAverageAfterInitRuns: loadAverageAfter,
    target: TARGET,
    met: { bundleSize: sizeMet, init: initMet },
    bundleSeconds: round(bundleSeconds, 2),
    initRuns: { warmups: INIT_WARMUPS, runs: INIT_RUNS },
    functions: figures,
  };
  return { markdown, data };
}

// ------------------------------------------------------------------------------ timeline

/** Synthesizes the app as `npm run synth` does and returns the prod stack's Terraform JSON. */
function synthProdStack(work: string): { stack: unknown; stackName: string } {
  const outDir = join(work, "cdktf.out");
  const { SHOPSMART_ENVS_DIR: _dir, SHOPSMART_STATE_LOCATION: _state, ...inherited } = process.env;
  const result = spawnSync(process.execPath, ["--import", "tsx", "main.ts"], {
    cwd: ROOT,
    env: { ...inherited, CHECKPOINT_DISABLE: "1", CDKTF_OUTDIR: outDir },
    encoding: "utf8",
  });
  if (result.status !== 0) {
    throw new Error(`synth failed (exit ${result.status}):\n${result.stderr}${result.stdout}`);
  }
  const manifest = JSON.parse(readFileSync(join(outDir, "manifest.json"), "utf8")) as {
    stacks: Record<string, { synthesizedStackPath: string }>;
  };
  const entry = Object.entries(manifest.stacks).find(([name]) => name.endsWith("-prod"));
  if (!entry) throw new Error("the synthesized app has no prod stack");
  return {
    stackName: entry[0],
    stack: JSON.parse(readFileSync(join(outDir, entry[1].synthesizedStackPath), "utf8")),
  };
}

async function timelineSection(m: Machine, work: string) {
  const prod = loadEnvConfigs(join(ROOT, "envs")).find((config) => config.environment === "prod");
  if (!prod) throw new Error("envs/prod.json is missing");
  const { databasePromotionSeconds: promotion, scaleUpSeconds: scaleUp } = prod.dr.estimates;
  const { stack, stackName } = synthProdStack(work);
  const workflow = synthesizedWorkflow(stack as Parameters<typeof synthesizedWorkflow>[0]);
  const settings = simulatedSettings();
  // As the environment stack sets them: every region runs prod's primary sizes when it serves
  // and its secondary sizes as the warm standby.
  const sizesOf = (sizes: { minSize: number; desiredCapacity: number; maxSize: number }) => ({
    minSize: sizes.minSize,
    desiredCapacity: sizes.desiredCapacity,
    maxSize: sizes.maxSize,
  });
  for (const role of ["primary", "secondary"] as const) {
    settings.regions[role].activeCapacity = sizesOf(prod.compute.primary);
    settings.regions[role].standbyCapacity = sizesOf(prod.compute.secondary);
  }
  const prepared = prepareDefinition(workflow.definition, {
    region: settings.regions.secondary.region,
  });
  const definition = prepared.definition as unknown as Parameters<typeof walkDefinition>[0];

  // The model: promotion and scale-up as the durations of their steps (as the RTO budget counts
  // them), the writer found at the first check after one wait.
  const model = walkDefinition(definition, {
    taskSeconds: {
      ReadTopology: MODEL.preflightRead,
      ReadTraffic: MODEL.preflightRead,
      BuildPlan: MODEL.plan,
      PromoteDatabase: promotion,
      ScaleTarget: scaleUp,
      CheckWriter: 0,
      FlipDns: MODEL.dnsFlip,
      VerifyWriter: MODEL.verify,
      VerifyTraffic: MODEL.verify,
      RecordSuccess: MODEL.finish,
    },
    choices: {
      EvaluatePlan: "PromoteAndScale",
      "WriterReady?": "FlipDns",
      "Healthy?": "RecordSuccess",
      "FenceSource?": "Succeeded",
    },
  });
  const slowestParallel = Math.max(promotion, scaleUp);

  // The simulation: AWS-side durations from the same estimates, the rest injected per state.
  const common = {
    workflow,
    prepared,
    settings,
    timings: {
      switchoverMs: promotion * 1000,
      failoverMs: promotion * 1000,
      detachMs: promotion * 1000,
      instanceWarmupMs: scaleUp * 1000,
      fenceHealthMs: MODEL.dnsFlip * 1000,
    },
    injectedSeconds: {
      ReadTopology: MODEL.preflightRead,
      ReadTraffic: MODEL.preflightRead,
      BuildPlan: MODEL.plan,
      VerifyWriter: MODEL.verify,
      VerifyTraffic: MODEL.verify,
      RecordSuccess: MODEL.finish,
    },
  };
  const planned = await simulateFailover({ ...common, mode: "planned" });
  const unplanned = await simulateFailover({
    ...common,
    mode: "unplanned",
    sourceDownCallMs: 5_000,
  });
  for (const [name, run] of [
    ["planned", planned],
    ["unplanned", unplanned],
  ] as const) {
    if (run.status !== "SUCCEEDED") {
      throw new Error(`the simulated ${name} failover ${run.status}: ${run.error} ${run.cause}`);
    }
  }
  const s = (value: number) => value.toFixed(1);
  const criticalMet = model.criticalPathSeconds < model.sumSeconds;
  const writerWait = definition.States.WaitForWriter?.Seconds ?? 0;
  const startOf = (run: SimulationResult, label: string) =>
    run.spans.find((span) => span.label === label)?.intervals[0]?.[0];
  const endOf = (run: SimulationResult, prefix: string) =>
    run.spans.find((span) => span.label.startsWith(prefix))?.intervals.at(-1)?.[1];
  const flipAt = startOf(planned, "FlipDns");
  const capacityAt = endOf(planned, "(aws) scale-up");

  const simulated = (title: string, run: SimulationResult, setup: string) => `
#### ${title}

${setup} Execution: **${s(run.executionSeconds)} s**; the target serves (DNS INSYNC and its
capacity InService, whichever is later) at **${s(run.targetReadySeconds)} s**.${run.notes.length ? ` Note: ${run.notes.join("; ")}.` : ""}

\`\`\`text
${asciiTimeline(run.spans)}
\`\`\`
`;

  const markdown = `
## Failover timeline

${machineMarkdown(m)}
- Definition: the \`aws_sfn_state_machine\` of the synthesized \`${stackName}\` stack
  (\`npm run synth\`), its function references bound as the local runner binds them.
- Modeled latencies: database promotion ${promotion} s and scale-up ${scaleUp} s
  (envs/prod.json \`dr.estimates\`, what the RTO budget uses); preflight reads ${MODEL.preflightRead} s each;
  writer checks every ${writerWait} s (the definition's \`WaitForWriter\`); DNS flip (the traffic fence) ${MODEL.dnsFlip} s until Route 53 follows it;
  verify ${MODEL.verify} s; finish ${MODEL.finish} s; other status reads 0 s.
- Bars: \`#\` task, \`.\` wait, \`=\` parallel state, \`~\` AWS-side work after the call returned
  (simulation only); \`xN\` a state entered N times. Times in seconds from the execution start.

### SPEC target

Critical path = the slowest parallel step + DNS flip, not their sum.

${table(
  ["", "Critical path (s)", "Sum of the steps (s)", "Met"],
  [
    [
      "PromoteAndScale + DNS flip",
      `${slowestParallel} + ${MODEL.dnsFlip} = ${slowestParallel + MODEL.dnsFlip}`,
      `${promotion} + ${scaleUp} + ${MODEL.dnsFlip} = ${promotion + scaleUp + MODEL.dnsFlip}`,
      slowestParallel + MODEL.dnsFlip < promotion + scaleUp + MODEL.dnsFlip ? "yes" : "**no**",
    ],
    [
      "whole workflow (model)",
      s(model.criticalPathSeconds),
      s(model.sumSeconds),
      criticalMet ? "yes" : "**no**",
    ],
    [
      "whole workflow (simulated, planned)",
      s(planned.executionSeconds),
      s(model.sumSeconds),
      planned.executionSeconds < model.sumSeconds ? "yes" : "**no**",
    ],
  ],
)}

The simulated execution is shorter than the model's critical path because the workflow does not
wait for the scale-up: \`ScaleTarget\` returns once UpdateAutoScalingGroup is accepted and the DNS
flip starts as soon as the new writer is found (planned: at ${flipAt === undefined ? "?" : s(flipAt)} s), while the new
instances come InService in the background (planned: at ${capacityAt === undefined ? "?" : s(capacityAt)} s); until then the
target serves on its standby capacity. The promotion is on the critical path, rounded up to the
next writer check (every ${writerWait} s).

### Model: walk of the definition

Sequence = sum, Parallel = its slowest branch; promotion and scale-up counted as the durations of
their steps, as the RTO budget counts them.

\`\`\`text
${asciiTimeline(model.spans)}
\`\`\`

### Simulation: the workflow executed

The definition run by the local runner (aws-local-stepfunctions, src/simulation) with the real
handlers on the simulated region pair and clock: the promotion, the new instances' warm-up and
the DNS change take the modeled times inside the simulated services; preflight reads, verify and
finish get their latencies injected before the handler runs. Here the promotion and scale-up
tasks return once their call is accepted: the promotion is waited for by the \`WaitForWriter\` /
\`CheckWriter\` loop, and the scale-up finishes in the background.
${simulated("Planned failover, both regions healthy", planned, "SwitchoverGlobalCluster.")}
${simulated(
  "Unplanned failover, every call to the primary region timing out after 5 s",
  unplanned,
  "FailoverGlobalCluster with AllowDataLoss.",
)}`;
  const data = {
    machine: m,
    stack: stackName,
    modeled: { ...MODEL, databasePromotion: promotion, scaleUp, writerCheckInterval: writerWait },
    model: summary(model),
    simulation: { planned: simulationSummary(planned), unplanned: simulationSummary(unplanned) },
    met: { criticalPathBelowSum: criticalMet },
  };
  return { markdown, data };
}

/** One line per span in results.json: `"PromoteDatabase": "2-62"` (seconds, intervals by commas). */
function compactSpans(spans: readonly Span[]): Record<string, string> {
  return Object.fromEntries(
    spans.map((span) => [
      span.label,
      span.intervals.map(([from, to]) => `${round(from, 3)}-${round(to, 3)}`).join(","),
    ]),
  );
}

function summary(result: WalkResult) {
  return {
    criticalPathSeconds: result.criticalPathSeconds,
    sumSeconds: result.sumSeconds,
    spans: compactSpans(result.spans),
  };
}

function simulationSummary(run: SimulationResult) {
  return {
    executionSeconds: run.executionSeconds,
    targetReadySeconds: run.targetReadySeconds,
    spans: compactSpans(run.spans),
    notes: run.notes,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "shopsmart-bench-lambda-"));
  try {
    const m = machine(); // before measuring, so the load average shows what else was running
    console.log("Bundling the handlers ...");
    const { bundles, seconds } = bundleAll();
    console.log(`Measuring module init (${INIT_WARMUPS} + ${INIT_RUNS} runs per function) `);
    const figures = measureFunctions(bundles, join(work, "task"));
    const loadAverageAfter = round(loadavg()[0] ?? 0, 2);
    for (const f of figures) {
      console.log(
        `  ${f.name.padEnd(17)} ${(f.bundleBytes / KB).toFixed(1).padStart(6)} KB  ` +
          `zip ${(f.zipBytes / KB).toFixed(1).padStart(6)} KB  init ${f.initMs.median.toFixed(1).padStart(6)} ms`,
      );
    }
    const lambda = lambdaSection(m, figures, seconds, loadAverageAfter);
    writeSection("lambda", lambda.markdown, lambda.data);

    console.log("Synthesizing and simulating the failover ...");
    const timeline = await timelineSection(machine(), work);
    writeSection("timeline", timeline.markdown, timeline.data);
    console.log(
      "Wrote the lambda and timeline sections of bench/results.md and bench/results.json",
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
