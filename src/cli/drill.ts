import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { parseArgs } from "node:util";
import { App } from "cdktf";
import {
  currentPhase,
  type DrillState,
  drillIdOf,
  newDrill,
  runDrill,
} from "../../functions/orchestration/drill";
import {
  type DrillReport,
  drillReport,
  drillSucceeded,
  renderDrillReportMarkdown,
  withOutage,
} from "../../functions/orchestration/drill-report";
import type { OperationMode } from "../../functions/shared/operation";
import type { OperationsApi } from "../../functions/shared/operations-api";
import { createOperationsApiClient } from "../../functions/shared/operations-api-client";
import type { EnvConfig } from "../config/schema";
import { UserInputError } from "../errors";
import {
  GAME_DAY_FAULT_DESCRIPTIONS,
  GAME_DAY_FAULTS,
  type GameDay,
  type GameDayFault,
  gameDayTimings,
  startGameDay,
} from "../simulation/game-day";
import { RegionPair } from "../simulation/region-pair";
import { simulatedSettings } from "../simulation/settings";
import type { SynthesizedResources } from "../simulation/workflow";
import { EnvironmentStack } from "../stacks/environment-stack";
import { environmentArgumentProblem, loadEnvironment } from "./environment-selection";
import { resolveOperationsEndpoint } from "./operations-api-endpoint";

/**
 * `npm run drill`: fail over, verify, hold, fail back, verify, and report the measured RTO and
 * RPO against the environment's targets.
 *
 *   npm run drill -- --env staging [--hold 5m] [--dry-run]      against a deployed stack
 *   npm run drill -- --local [--fault primary-region-down]      on this machine, simulated
 *
 * The report is printed and written as Markdown and JSON to --report-dir, named by the drill's
 * id, which is unique per run (`drill-<env>-<yyyymmddThhmmssZ>-<6 hex>`), so runs never overwrite
 * each other's report. Exit codes: 0 the drill passed, or a dry run's plan has no blockers; 1 it
 * failed, missed a target or (dry run) the plan has blockers (the report says which); 2 bad
 * flags, env file or API URL (nothing was changed).
 */

export const USAGE = [
  "usage: npm run drill -- --env <name> [options]       drill a deployed environment",
  "       npm run drill -- --local [--fault <fault>]    game day on this machine (simulated AWS)",
  "",
  "  --env <name|file>     environment: a name (envs/<name>.json, or in SHOPSMART_ENVS_DIR) or",
  "                        the path of an env file; with --local, default staging",
  "  --hold <duration>     how long to stay failed over: 5m, 90s, 1h, or a number of minutes",
  "                        (default: drill.holdMinutes of the env file)",
  "  --dry-run             preflight and the failover plan only; nothing changes",
  "  --report-dir <dir>    where the Markdown and JSON reports go (default drill-reports), as",
  "                        <drill id>.md/.json; the id is unique per run, so none is overwritten",
  "  --api-url <url>       the operations API (default: SHOPSMART_DR_API_URL, then the stack's",
  "                        Terraform outputs)",
  "  --app-url <url>       the app's public URL (default: SHOPSMART_DR_APP_URL, app_url output,",
  "                        then https://<dns.domainName>/)",
  "  --poll <seconds>      seconds between reads of a running operation (default 10)",
  "  --verify-timeout <duration>  how long verification may take to pass (default 5m)",
  "  --timeout <seconds>   per API request (default 30)",
  "  --local               run against a simulated pair of regions, on simulated time",
  `  --fault <fault>       with --local: ${GAME_DAY_FAULTS.join(", ")}`,
].join("\n");

const DEFAULT_REPORT_DIR = "drill-reports";
const ROOT = resolve(__dirname, "../..");

export interface DrillCliOptions {
  env: string;
  holdSeconds: number | undefined;
  dryRun: boolean;
  reportDir: string;
  apiUrl?: string;
  appUrl?: string;
  pollSeconds: number;
  verifyTimeoutSeconds: number | undefined;
  /** Per API request. */
  requestTimeoutSeconds: number;
  local: boolean;
  fault?: GameDayFault;
}

export type ParsedDrillArgs =
  | { kind: "run"; options: DrillCliOptions }
  | { kind: "help" }
  | { kind: "error"; message: string };

/** Parses and checks the flags; every problem names the flag and what it accepts. */
export function parseDrillArgs(argv: readonly string[]): ParsedDrillArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        env: { type: "string" },
        hold: { type: "string" },
        "dry-run": { type: "boolean", default: false },
        "report-dir": { type: "string", default: DEFAULT_REPORT_DIR },
        "api-url": { type: "string" },
        "app-url": { type: "string" },
        poll: { type: "string" },
        "verify-timeout": { type: "string" },
        timeout: { type: "string" },
        local: { type: "boolean", default: false },
        fault: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return { kind: "error", message: (error as Error).message };
  }
  if (values.help) return { kind: "help" };
  const local = values.local === true;
  const env = typeof values.env === "string" ? values.env : local ? "staging" : undefined;
  if (env === undefined) {
    return {
      kind: "error",
      message: "--env is required (e.g. --env staging), or --local for a game day on this machine",
    };
  }
  const envProblem = environmentArgumentProblem(env);
  if (envProblem !== undefined) return { kind: "error", message: envProblem };
  let fault: GameDayFault | undefined;
  if (values.fault !== undefined) {
    if (!local) {
      return {
        kind: "error",
        message: "--fault needs --local: faults are injected into the simulation only",
      };
    }
    if (!(GAME_DAY_FAULTS as readonly string[]).includes(String(values.fault))) {
      return {
        kind: "error",
        message: `--fault must be one of ${GAME_DAY_FAULTS.join(", ")}; got "${values.fault}"`,
      };
    }
    fault = values.fault as GameDayFault;
  }
  if (local && (values["api-url"] !== undefined || values["app-url"] !== undefined)) {
    return {
      kind: "error",
      message: "--api-url and --app-url are for a deployed stack; drop them with --local",
    };
  }

  const durations: Partial<Record<"hold" | "verify-timeout" | "poll" | "timeout", number>> = {};
  for (const [flag, unit] of [
    ["hold", "minutes"],
    ["verify-timeout", "minutes"],
    ["poll", "seconds"],
    ["timeout", "seconds"],
  ] as const) {
    const raw = values[flag];
    if (typeof raw !== "string") continue;
    const seconds = parseDuration(raw, unit);
    if (seconds === undefined) {
      return {
        kind: "error",
        message: `--${flag} must be a duration such as 5m, 90s or 1h (a bare number is ${unit}); got "${raw}"`,
      };
    }
    durations[flag] = seconds;
  }
  for (const flag of ["poll", "timeout"] as const) {
    if (durations[flag] !== undefined && (durations[flag] ?? 0) <= 0) {
      return { kind: "error", message: `--${flag} must be more than 0 seconds` };
    }
  }
  return {
    kind: "run",
    options: {
      env,
      holdSeconds: durations.hold,
      dryRun: values["dry-run"] === true,
      reportDir: String(values["report-dir"]),
      ...(typeof values["api-url"] === "string" ? { apiUrl: values["api-url"] } : {}),
      ...(typeof values["app-url"] === "string" ? { appUrl: values["app-url"] } : {}),
      pollSeconds: durations.poll ?? 10,
      verifyTimeoutSeconds: durations["verify-timeout"],
      requestTimeoutSeconds: durations.timeout ?? 30,
      local,
      ...(fault ? { fault } : {}),
    },
  };
}

/** `5m` / `90s` / `1h` / `1.5h` / a bare number in `bareUnit`; undefined when not a duration >= 0. */
export function parseDuration(text: string, bareUnit: "minutes" | "seconds"): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(text.trim());
  if (!match) return undefined;
  const value = Number(match[1]);
  const unit = match[2] ?? (bareUnit === "minutes" ? "m" : "s");
  const seconds = value * { s: 1, m: 60, h: 3600 }[unit as "s" | "m" | "h"];
  return Number.isFinite(seconds) ? Math.round(seconds) : undefined;
}

export interface DrillCliIo {
  out(line: string): void;
  err(line: string): void;
}

export interface DrillCliDependencies {
  /** Project root: envs/, functions/. @default the repository root */
  root?: string;
  /** The process environment: SHOPSMART_ENVS_DIR, SHOPSMART_DR_API_URL... @default process.env */
  environment?: NodeJS.ProcessEnv;
  /** For tests: the API to drill (instead of the SigV4 client). */
  api?: OperationsApi;
  /** For tests: the clock of a drill against a deployed stack. */
  now?: () => Date;
  /**
   * For tests: the real clock of a local game day, whose drill runs on simulated time: the
   * drill id's timestamp and the report's "in N s" note. With {@link randomIdSuffix} fixed too,
   * two game days write byte-identical reports.
   * @default - the system clock
   */
  wallClock?: () => Date;
  /**
   * For tests: the last part of the drill id, which makes it unique per run.
   * @default - 6 random hex digits
   */
  randomIdSuffix?: () => string;
  sleep?: (seconds: number) => Promise<void>;
  /** Aborted on Ctrl-C: the drill stops, writes its report and says what to do. */
  signal?: AbortSignal;
}

/** Runs the CLI; returns the exit code. */
export async function runDrillCli(
  argv: readonly string[],
  io: DrillCliIo,
  dependencies: DrillCliDependencies = {},
): Promise<number> {
  const parsed = parseDrillArgs(argv);
  if (parsed.kind === "help") {
    io.out(USAGE);
    return 0;
  }
  if (parsed.kind === "error") {
    io.err(`${parsed.message}\n\n${USAGE}`);
    return 2;
  }
  const { options } = parsed;
  const root = dependencies.root ?? ROOT;
  try {
    const { config } = loadEnvironment(options.env, {
      root,
      ...(dependencies.environment ? { environment: dependencies.environment } : {}),
    });
    const { report, logs } = options.local
      ? await localDrill(options, config, io, root, dependencies)
      : { report: await deployedDrill(options, config, io, dependencies), logs: undefined };
    writeReport(report, options.reportDir, io, logs);
    return drillSucceeded(report) ? 0 : 1;
  } catch (error) {
    if (error instanceof UserInputError) {
      io.err(error.message);
      return 2;
    }
    throw error;
  }
}

function drillOptions(options: DrillCliOptions, config: EnvConfig, mode: OperationMode) {
  return {
    environment: config.environment,
    holdSeconds: options.holdSeconds ?? config.drill.holdMinutes * 60,
    dryRun: options.dryRun,
    mode,
    targets: { rtoSeconds: config.dr.rtoSeconds, rpoSeconds: config.dr.rpoSeconds },
    regions: { primary: config.regions.primary, secondary: config.regions.secondary },
    pollSeconds: options.pollSeconds,
    ...(options.verifyTimeoutSeconds === undefined
      ? {}
      : { verifyTimeoutSeconds: options.verifyTimeoutSeconds }),
  };
}

async function deployedDrill(
  options: DrillCliOptions,
  config: EnvConfig,
  io: DrillCliIo,
  dependencies: DrillCliDependencies,
): Promise<DrillReport> {
  let api = dependencies.api;
  if (api === undefined) {
    const endpoint = await resolveOperationsEndpoint({
      env: options.env,
      ...(options.apiUrl ? { apiUrl: options.apiUrl } : {}),
      ...(options.appUrl ? { appUrl: options.appUrl } : {}),
      ...(dependencies.root ? { root: dependencies.root } : {}),
      ...(dependencies.environment ? { environment: dependencies.environment } : {}),
    });
    const appUrl = endpoint.appUrl ?? `https://${config.dns.domainName}/`;
    io.out(`operations API ${endpoint.apiBaseUrl} (from ${endpoint.source}); app ${appUrl}`);
    api = createOperationsApiClient({
      apiBaseUrl: endpoint.apiBaseUrl,
      appUrl,
      ...(endpoint.healthPath ? { healthPath: endpoint.healthPath } : {}),
      requestTimeoutMs: options.requestTimeoutSeconds * 1000,
    });
  }
  const now = dependencies.now ?? (() => new Date());
  const { signal } = dependencies;
  const sleep =
    dependencies.sleep ??
    ((seconds: number) =>
      delay(seconds * 1000, undefined, signal ? { signal } : {}).catch(() => undefined));
  const startedAt = now();
  const state = newDrill(
    { ...drillOptions(options, config, "planned"), trigger: "cli" },
    startedAt,
    uniqueDrillId(config, startedAt, dependencies),
  );
  io.out(drillHeader(state));
  const final = await runDrill(api, state, {
    now,
    sleep,
    onTick: (tick) => printProgress(io, tick.state, tick.progress, now()),
    ...(signal ? { signal } : {}),
  });
  return drillReport(final);
}

/**
 * The system clock's Date, taken when this module loads: a game day installs its simulated clock
 * as the global Date while it runs (src/simulation/clock.ts), and the "in N s" note measures
 * real time.
 */
const SystemDate = globalThis.Date;

async function localDrill(
  options: DrillCliOptions,
  config: EnvConfig,
  io: DrillCliIo,
  root: string,
  dependencies: DrillCliDependencies,
): Promise<{ report: DrillReport; logs: string[] }> {
  const wallClock = dependencies.wallClock ?? (() => new SystemDate());
  const started = wallClock();
  const drillId = uniqueDrillId(config, started, dependencies);
  io.out(`local game day for ${config.environment}: synthesizing its stack...`);
  const stack = await synthesizeStack(config);
  const pair = new RegionPair({
    settings: simulatedSettings({ config }),
    timings: gameDayTimings(config.dr.estimates, config.dns.healthCheck),
  });
  const fault = options.fault;
  io.out(
    `simulated ${config.regions.primary} (primary) and ${config.regions.secondary} (secondary); ` +
      `time is simulated${fault ? `; fault ${fault}: ${GAME_DAY_FAULT_DESCRIPTIONS[fault]}` : ""}`,
  );
  let gameDay: GameDay | undefined;
  // The handlers log JSON lines as they would to CloudWatch Logs; they go to the .log file.
  const logs: string[] = [];
  const restoreConsole = captureConsole(logs);
  try {
    gameDay = await startGameDay({ pair, stack, root, ...(fault ? { fault } : {}) });
    const day = gameDay;
    const state = newDrill(
      {
        ...drillOptions(options, config, day.mode),
        trigger: "local",
        awaitAutomatic: day.awaitAutomatic && !options.dryRun,
      },
      day.now(),
      drillId,
    );
    io.out(drillHeader(state));
    const final = await runDrill(day.api, state, {
      now: () => day.now(),
      sleep: (seconds) => day.sleep(seconds),
      onTick: (tick) => {
        const world = day.onPhase(currentPhase(tick.state));
        printProgress(io, tick.state, [...tick.progress, ...world], day.now());
      },
    });
    const world = await day.afterDrill();
    if (world.length > 0) printProgress(io, final, world, day.now());
    const outage = day.outage();
    const report = outage ? withOutage(drillReport(final), outage) : drillReport(final);
    report.notes.push(...world);
    const simulatedSeconds =
      (Date.parse(final.finishedAt ?? final.startedAt) - Date.parse(final.startedAt)) / 1000;
    report.notes.push(
      `local game day: AWS simulated${fault ? `, fault ${fault}` : ""}; ${simulatedSeconds} s of ` +
        `simulated time in ${((wallClock().getTime() - started.getTime()) / 1000).toFixed(1)} s`,
    );
    return { report, logs };
  } finally {
    gameDay?.close();
    restoreConsole();
  }
}

/**
 * The id of a drill this CLI starts: {@link drillIdOf} `at` with a random suffix, so two runs in
 * the same second, and local game days (whose simulated clock starts at the same instant every
 * run), never share an id or a report file.
 */
function uniqueDrillId(config: EnvConfig, at: Date, dependencies: DrillCliDependencies): string {
  const suffix = dependencies.randomIdSuffix?.() ?? randomBytes(3).toString("hex");
  return drillIdOf(config.environment, at, suffix);
}

const CONSOLE_METHODS = ["log", "info", "warn", "error", "debug"] as const;

function captureConsole(lines: string[]): () => void {
  const originals = CONSOLE_METHODS.map((method) => [method, console[method]] as const);
  for (const method of CONSOLE_METHODS) {
    console[method] = (...args: unknown[]) => {
      lines.push(
        args.map((arg) => (typeof arg === "string" ? arg : JSON.stringify(arg))).join(" "),
      );
    };
  }
  return () => {
    for (const [method, original] of originals) console[method] = original;
  };
}

/**
 * Synthesizes the environment's stack into a scratch directory and reads its Terraform JSON: the
 * state machine that runs is the one `cdktf deploy` would create. Synthesis is deterministic, so
 * a process that runs several game days of one environment (the tests) synthesizes it once.
 */
async function synthesizeStack(config: EnvConfig): Promise<SynthesizedResources> {
  const key = JSON.stringify(config);
  const known = synthesizedStacks.get(key);
  if (known) return structuredClone(known);
  const stack = await synthesizeStackOnce(config);
  synthesizedStacks.set(key, stack);
  return structuredClone(stack);
}

const synthesizedStacks = new Map<string, SynthesizedResources>();

async function synthesizeStackOnce(config: EnvConfig): Promise<SynthesizedResources> {
  const outdir = mkdtempSync(join(tmpdir(), "shopsmart-game-day-"));
  try {
    const app = new App({ outdir });
    const stack = new EnvironmentStack(app, { config });
    app.synth();
    const file = join(outdir, "stacks", stack.node.id, "cdk.tf.json");
    return JSON.parse(readFileSync(file, "utf8")) as SynthesizedResources;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function drillHeader(state: DrillState): string {
  const { options } = state;
  return (
    `drill ${state.drillId}: ${options.mode} failover ${options.regions.primary} -> ` +
    `${options.regions.secondary}, hold ${options.holdSeconds} s, fail back` +
    `${options.dryRun ? " (dry run: plan only)" : ""}; targets RTO ${options.targets.rtoSeconds} s, ` +
    `RPO ${options.targets.rpoSeconds} s`
  );
}

function printProgress(io: DrillCliIo, state: DrillState, lines: string[], now: Date): void {
  const elapsed = Math.max(0, Math.round((now.getTime() - Date.parse(state.startedAt)) / 1000));
  const stamp = `[+${String(Math.floor(elapsed / 60)).padStart(2, "0")}:${String(elapsed % 60).padStart(2, "0")}]`;
  for (const line of lines) io.out(`${stamp} ${line}`);
}

function writeReport(
  report: DrillReport,
  reportDir: string,
  io: DrillCliIo,
  logs: string[] | undefined,
): void {
  const markdown = renderDrillReportMarkdown(report);
  io.out("");
  io.out(markdown);
  mkdirSync(reportDir, { recursive: true });
  const base = join(reportDir, report.drillId);
  writeFileSync(`${base}.md`, markdown);
  writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  const written = [".md", ".json"];
  if (logs !== undefined) {
    writeFileSync(`${base}.log`, logs.map((line) => `${line}\n`).join(""));
    written.push(".log (the handlers' logs)");
  }
  io.out(`report written to ${relative(process.cwd(), base)}{${written.join(", ")}}`);
}

if (require.main === module) {
  // Ctrl-C once: stop following, write the report (it says whether to fail back by hand).
  // Twice: leave at once.
  const interrupt = new AbortController();
  process.on("SIGINT", () => {
    if (interrupt.signal.aborted) process.exit(130);
    process.stderr.write(
      "\nstopping the drill (an operation already started goes on in AWS); Ctrl-C again to quit now\n",
    );
    interrupt.abort();
  });
  // Straight to the streams: the local game day captures console.* (the handlers' logs).
  runDrillCli(
    process.argv.slice(2),
    {
      out: (line) => process.stdout.write(`${line}\n`),
      err: (line) => process.stderr.write(`${line}\n`),
    },
    { signal: interrupt.signal },
  ).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
