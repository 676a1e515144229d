import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { type Machine, machine, machineMarkdown, round, table, writeSection } from "./report";

/**
 * Synth benchmark: wall time and peak memory of `npm run synth` for the shipped environments, and
 * how both grow with the number of environments. Run with `npm run bench`; writes the `synth`
 * section of bench/results.md and bench/results.json.
 */

const ROOT = resolve(__dirname, "..");
const WORK = join(__dirname, ".work"); // git-ignored
const RSS_FILE = join(WORK, "rss"); // peak RSS of the last run, in KiB
const WARMUPS = 1; // the first run also fills tsx's transform cache, so it is not representative
const RUNS = 7;
const SCALING_COUNTS = [1, 3, 9];
const TARGET = { wallSeconds: 3, peakMB: 300 }; // SPEC: "<= 3 s wall and <= 300 MB peak"

interface Run {
  wallSeconds: number;
  peakMB: number;
}

interface Scenario {
  label: string;
  envs: number;
  warmupSeconds: number[];
  runs: Run[];
  wall: { median: number; min: number; max: number };
  peakMB: { median: number; max: number };
}

/** How a run is launched; either way the run leaves its peak RSS in RSS_FILE. */
interface Launcher {
  command: string;
  /** What the figures are, for the report. */
  method: string;
  argv: string[];
}

/**
 * GNU time reports ru_maxrss from wait4, which covers the whole process tree, so it sees the node
 * process that tsx's CLI spawns to do the actual synth. Without it, run that node process directly
 * (`node --import tsx`, what the CLI does too) and have it report its own maxRSS on exit.
 */
function launcher(): Launcher {
  const probe = join(WORK, "probe-rss");
  const gnuTime = "/usr/bin/time";
  if (
    existsSync(gnuTime) &&
    spawnSync(gnuTime, ["-f", "%M", "-o", probe, "true"]).status === 0 &&
    /^\d+\s*$/.test(readFileSync(probe, "utf8"))
  ) {
    return {
      command: "CHECKPOINT_DISABLE=1 node_modules/.bin/tsx main.ts",
      method:
        "as `npm run synth` runs it; peak memory is the max RSS over the process tree (GNU time), i.e. of the node process tsx spawns to synthesize",
      argv: [gnuTime, "-f", "%M", "-o", RSS_FILE, "node_modules/.bin/tsx", "main.ts"],
    };
  }
  const reportRss = `data:text/javascript,import { writeFileSync } from "node:fs"; process.on("exit", () => writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)));`;
  return {
    command: "CHECKPOINT_DISABLE=1 node --import tsx main.ts",
    method:
      "the process `npm run synth` spawns, without the tsx CLI wrapper in front (no GNU time here); peak memory is its own maxRSS",
    argv: [process.execPath, "--import", "tsx", "--import", reportRss, "main.ts"],
  };
}

/** One synth into a fresh output dir; fails loudly unless it produced one stack per environment. */
function synthOnce(how: Launcher, envsDir: string | undefined, envs: number): Run {
  const outDir = join(WORK, "cdktf.out");
  rmSync(outDir, { recursive: true, force: true });
  rmSync(RSS_FILE, { force: true });
  // Start from the caller's environment minus the app's own settings, so results don't depend on them.
  const { SHOPSMART_ENVS_DIR: _dir, SHOPSMART_STATE_LOCATION: _state, ...inherited } = process.env;
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    CHECKPOINT_DISABLE: "1",
    CDKTF_OUTDIR: outDir,
    BENCH_RSS_FILE: RSS_FILE,
    ...(envsDir ? { SHOPSMART_ENVS_DIR: envsDir } : {}),
  };
  const [file, ...args] = how.argv;
  const started = performance.now();
  const result = spawnSync(file as string, args, { cwd: ROOT, env, encoding: "utf8" });
  const wallSeconds = (performance.now() - started) / 1000;
  if (result.status !== 0) {
    throw new Error(`synth failed (exit ${result.status}):\n${result.stderr}${result.stdout}`);
  }
  const manifest = JSON.parse(readFileSync(join(outDir, "manifest.json"), "utf8"));
  const stacks = Object.keys(manifest.stacks).length;
  if (stacks !== envs) throw new Error(`expected ${envs} stacks in manifest, got ${stacks}`);
  const peakKiB = Number(readFileSync(RSS_FILE, "utf8").trim());
  return { wallSeconds: round(wallSeconds, 3), peakMB: round((peakKiB * 1024) / 1e6, 1) };
}

function measure(
  how: Launcher,
  label: string,
  envsDir: string | undefined,
  envs: number,
): Scenario {
  const warmupSeconds: number[] = [];
  for (let i = 0; i < WARMUPS; i++) warmupSeconds.push(synthOnce(how, envsDir, envs).wallSeconds);
  const runs: Run[] = [];
  for (let i = 0; i < RUNS; i++) {
    runs.push(synthOnce(how, envsDir, envs));
    process.stdout.write(".");
  }
  const walls = runs.map((r) => r.wallSeconds);
  const peaks = runs.map((r) => r.peakMB);
  const scenario: Scenario = {
    label,
    envs,
    warmupSeconds,
    runs,
    wall: { median: median(walls), min: Math.min(...walls), max: Math.max(...walls) },
    peakMB: { median: median(peaks), max: Math.max(...peaks) },
  };
  console.log(
    ` ${label}: median ${scenario.wall.median.toFixed(2)} s, peak ${scenario.peakMB.max.toFixed(0)} MB`,
  );
  return scenario;
}

/**
 * `count` clones of envs/prod.json (the largest shape: 3 AZs, NAT per AZ), named bench01..., each
 * with its own VPC ranges; the name must match the file name or the app rejects the file.
 */
function generateEnvs(count: number): string {
  const prod = JSON.parse(readFileSync(join(ROOT, "envs", "prod.json"), "utf8"));
  const dir = join(WORK, `envs-${count}`);
  mkdirSync(dir, { recursive: true });
  for (let i = 1; i <= count; i++) {
    const name = `bench${String(i).padStart(2, "0")}`;
    const env = structuredClone(prod);
    env.environment = name;
    env.network.vpcCidr = {
      primary: `10.${100 + 2 * i}.0.0/16`,
      secondary: `10.${101 + 2 * i}.0.0/16`,
    };
    writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(env, null, 2)}\n`);
  }
  return dir;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function section(how: Launcher, m: Machine, shipped: Scenario, scaling: Scenario[]) {
  const first = scaling[0] as Scenario;
  const last = scaling[scaling.length - 1] as Scenario;
  const extraEnvs = last.envs - first.envs;
  // Increment per environment from the smallest to the largest generated set; the rest is fixed cost.
  const perEnv = {
    wallSeconds: (last.wall.median - first.wall.median) / extraEnvs,
    peakMB: (last.peakMB.median - first.peakMB.median) / extraEnvs,
  };
  const fixed = {
    wallSeconds: first.wall.median - perEnv.wallSeconds,
    peakMB: first.peakMB.median - perEnv.peakMB,
  };
  const loadAtEnd = round(loadavg()[0] ?? 0, 2);
  const wallMet = shipped.wall.median <= TARGET.wallSeconds;
  const peakMet = shipped.peakMB.max <= TARGET.peakMB;

  const s = (v: number) => v.toFixed(2);
  const mb = (v: number) => v.toFixed(0);
  const row = (x: Scenario) => [
    x.label,
    String(x.envs),
    x.warmupSeconds.map(s).join(", "),
    s(x.wall.median),
    `${s(x.wall.min)} – ${s(x.wall.max)}`,
    mb(x.peakMB.median),
    mb(x.peakMB.max),
  ];

  const markdown = `
## Synth

${machineMarkdown(m)}
- 1-min load average at end: ${loadAtEnd} (the machine is shared: compare with the start figure).
- Command: \`${how.command}\` (repository root, \`CDKTF_OUTDIR\` = a fresh temporary directory)
- Method: ${how.method}.
- Runs: ${WARMUPS} warm-up + ${RUNS} measured per row; wall time is taken around the child process;
  MB = 10^6 bytes.

### SPEC targets

Synth of all environments: <= ${TARGET.wallSeconds} s wall and <= ${TARGET.peakMB} MB peak on the 2-core machine.

${table(
  ["Target", "Measured (shipped envs)", "Met"],
  [
    [
      `wall <= ${TARGET.wallSeconds} s`,
      `median ${s(shipped.wall.median)} s (max ${s(shipped.wall.max)} s)`,
      wallMet ? "yes" : "**no**",
    ],
    [`peak <= ${TARGET.peakMB} MB`, `max ${mb(shipped.peakMB.max)} MB`, peakMet ? "yes" : "**no**"],
  ],
)}

### Figures

${table(
  [
    "Environments",
    "Envs",
    "Warm-up run (s)",
    "Median wall (s)",
    "Min – max wall (s)",
    "Median peak (MB)",
    "Max peak (MB)",
  ],
  [row(shipped), ...scaling.map(row)],
)}

Generated environments are clones of \`envs/prod.json\` (the largest shape) with their own names
and VPC ranges. From ${first.envs} to ${last.envs} of them, each environment adds **${s(perEnv.wallSeconds)} s**
and **${mb(perEnv.peakMB)} MB**; the fixed part, which does not grow with environments (process start,
loading tsx, cdktf and the provider bindings), is about ${s(fixed.wallSeconds)} s and ${mb(fixed.peakMB)} MB.
`;

  const data = {
    machine: m,
    loadAverageAtEnd: loadAtEnd,
    command: how.command,
    method: how.method,
    warmups: WARMUPS,
    runs: RUNS,
    target: TARGET,
    met: { wall: wallMet, peak: peakMet },
    shipped,
    scaling,
    perEnv: { wallSeconds: round(perEnv.wallSeconds, 3), peakMB: round(perEnv.peakMB, 1) },
    fixed: { wallSeconds: round(fixed.wallSeconds, 3), peakMB: round(fixed.peakMB, 1) },
  };
  return { markdown, data };
}

function main(): void {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  try {
    const m = machine(); // before measuring, so the load average shows what else was running
    const how = launcher();
    console.log(`Measuring: ${how.command}`);
    const shippedCount = readdirSync(join(ROOT, "envs")).filter((f) => f.endsWith(".json")).length;
    // No SHOPSMART_ENVS_DIR: exactly what `npm run synth` reads.
    const shipped = measure(how, "shipped envs/", undefined, shippedCount);
    const scaling = SCALING_COUNTS.map((n) => measure(how, `${n} generated`, generateEnvs(n), n));
    const { markdown, data } = section(how, m, shipped, scaling);
    writeSection("synth", markdown, data);
    console.log("Wrote bench/results.md and bench/results.json");
  } finally {
    rmSync(WORK, { recursive: true, force: true });
  }
}

main();
