import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, platform, release, totalmem } from "node:os";
import { join } from "node:path";

/**
 * Shared output for the benches. `bench/results.md` is a sequence of sections, each owned by one
 * bench and delimited by `<!-- section:<id> -->` markers, and `bench/results.json` holds one key
 * per section; a bench rewrites only its own section, so benches can run independently.
 */

const BENCH_DIR = __dirname;
const MARKDOWN_FILE = join(BENCH_DIR, "results.md");
const JSON_FILE = join(BENCH_DIR, "results.json");

const HEADER = `# Benchmarks

Measured figures for shopsmart-dr. Each section below is rewritten by the bench that owns it
(\`npm run bench\` runs them all: synth, Lambda bundles, failover timeline, local game day); the same figures are in \`bench/results.json\`.
`;

/** Where and when figures were taken; every section carries its own, as sections are written at different times. */
export interface Machine {
  date: string;
  cpu: string;
  cores: number;
  totalMemoryGB: number;
  node: string;
  platform: string;
  /** 1-minute load average when measuring started: others may share the machine. */
  loadAverage: number;
}

export function machine(): Machine {
  const cpuList = cpus();
  return {
    date: new Date().toISOString(),
    cpu: cpuList[0]?.model.trim() ?? "unknown",
    cores: cpuList.length,
    totalMemoryGB: round(totalmem() / 1e9, 1),
    node: process.version,
    platform: `${platform()} ${release()}`,
    loadAverage: round(loadavg()[0] ?? 0, 2),
  };
}

export function machineMarkdown(m: Machine): string {
  return [
    `- Date: ${m.date}`,
    `- Machine: ${m.cpu} × ${m.cores} cores, ${m.totalMemoryGB} GB RAM, ${m.platform}`,
    `- Node: ${m.node}; 1-min load average at start: ${m.loadAverage}`,
  ].join("\n");
}

/** Markdown table from a header row and data rows. */
export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** Replaces (or appends) section `id` in results.md and key `id` in results.json. */
export function writeSection(id: string, markdown: string, data: unknown): void {
  const start = `<!-- section:${id} -->`;
  const end = `<!-- /section:${id} -->`;
  const block = `${start}\n${markdown.trim()}\n${end}`;
  const current = existsSync(MARKDOWN_FILE) ? readFileSync(MARKDOWN_FILE, "utf8") : HEADER;
  const from = current.indexOf(start);
  const to = current.indexOf(end, from);
  const next =
    from >= 0 && to >= 0
      ? current.slice(0, from) + block + current.slice(to + end.length)
      : `${current.trimEnd()}\n\n${block}\n`;
  writeFileSync(MARKDOWN_FILE, next);

  const json: Record<string, unknown> = existsSync(JSON_FILE)
    ? JSON.parse(readFileSync(JSON_FILE, "utf8"))
    : {};
  json[id] = data;
  writeFileSync(JSON_FILE, `${JSON.stringify(json, null, 2)}\n`);
}

/**
 * Seconds of CPU the whole machine has spent busy (user, nice, system, irq, softirq) since boot,
 * from /proc/stat, or undefined where there is none (not Linux). The difference around a run
 * counts every process and thread it starts, which the run's own rusage misses for children it
 * does not wait for (esbuild's service). It also counts anything else running: see
 * {@link backgroundCpuPerSecond}.
 */
export function busyCpuSeconds(): number | undefined {
  try {
    const [, ...ticks] = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "")
      .trim()
      .split(/\s+/);
    const [user, nice, system, , , irq, softirq] = ticks.map(Number);
    const busy = [user, nice, system, irq, softirq].reduce<number>((sum, t) => sum + (t ?? 0), 0);
    return Number.isFinite(busy) ? busy / ticksPerSecond() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds per second the machine spends busy while this process sleeps for `seconds`: what
 * other processes add to every {@link busyCpuSeconds} difference.
 */
export function backgroundCpuPerSecond(seconds = 2): number | undefined {
  const before = busyCpuSeconds();
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, seconds * 1000);
  const after = busyCpuSeconds();
  return before === undefined || after === undefined ? undefined : (after - before) / seconds;
}

let clockTicks: number | undefined;
/** /proc/stat counts in clock ticks (USER_HZ): 100 a second on Linux, asked of getconf anyway. */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    const answer = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout?.trim());
    clockTicks = Number.isInteger(answer) && answer > 0 ? answer : 100;
  }
  return clockTicks;
}

export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
