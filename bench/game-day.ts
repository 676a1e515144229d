/**
 * The local game day as a user runs it: `npm run drill -- --local [--fault <fault>]`, one fresh
 * process per fault (synthesis, bundles from the cache, the simulated drill), timed from the
 * outside; the simulated duration and the verdict come from the report the run wrote.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import type { DrillReport } from "../functions/orchestration/drill-report";
import { GAME_DAY_FAULTS } from "../src/simulation/game-day";
import { machine, machineMarkdown, round, table, writeSection } from "./report";

const ROOT = resolve(__dirname, "..");
const TSX = join(ROOT, "node_modules", ".bin", "tsx");

/** The seed's regions (primary us-east-1, secondary us-west-2). */
const SEED_ENV = "tests/fixtures/envs/seed.json";
/** The issue-12 faults, also run with the seed's regions. */
const SEED_FAULTS = ["web-tier-down", "partition", "slow-switchover", "trigger-while-locked"];

interface Run {
  env: string;
  fault: string;
  exitCode: number;
  wallSeconds: number;
  simulatedSeconds: number;
  verdict: string;
  failoverRtoSeconds: number | null;
  failbackRtoSeconds: number | null;
  rpoSeconds: number | null;
}

function run(fault: string | undefined, env?: string): Run {
  const dir = mkdtempSync(join(tmpdir(), "bench-game-day-"));
  try {
    const args = ["src/cli/drill.ts", "--local", "--report-dir", dir];
    if (fault) args.push("--fault", fault);
    if (env) args.push("--env", env);
    const started = performance.now();
    const child = spawnSync(TSX, args, { cwd: ROOT, encoding: "utf8" });
    const wallSeconds = (performance.now() - started) / 1000;
    const json = readdirSync(dir).find((file) => file.endsWith(".json"));
    if (!json) throw new Error(`no report from --fault ${fault ?? "(none)"}: ${child.stderr}`);
    const report = JSON.parse(readFileSync(join(dir, json), "utf8")) as DrillReport;
    return {
      env: env ?? "staging",
      fault: fault ?? "(none)",
      exitCode: child.status ?? -1,
      wallSeconds: round(wallSeconds, 2),
      simulatedSeconds:
        (Date.parse(report.finishedAt ?? report.startedAt) - Date.parse(report.startedAt)) / 1000,
      verdict: report.verdict,
      failoverRtoSeconds: report.failover.rtoSeconds,
      failbackRtoSeconds: report.failback.rtoSeconds,
      rpoSeconds: report.rpoSeconds,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main(): void {
  const where = machine();
  // The first run may bundle the Lambda functions (cold cache); it is reported, not hidden.
  const runs = [
    ...[undefined, ...GAME_DAY_FAULTS].map((fault) => run(fault)),
    ...SEED_FAULTS.map((fault) => run(fault, SEED_ENV)),
  ];
  const seconds = (value: number | null) => (value === null ? "n/a" : String(value));
  const markdown = [
    "## Local game day",
    "",
    machineMarkdown(where),
    "- Command: `npm run drill -- --local [--fault <fault>] [--env <env>]` (staging, primary us-east-2; and `" +
      SEED_ENV +
      "`, the seed's regions, primary us-east-1; hold 5 min), one fresh process each; wall time taken around the process, so it includes synthesizing the stack.",
    "",
    table(
      [
        "Env",
        "Fault",
        "Exit",
        "Verdict",
        "Wall (s)",
        "Simulated (s)",
        "RTO failover (s)",
        "RTO failback (s)",
        "RPO (s)",
      ],
      runs.map((r) => [
        r.env,
        r.fault,
        String(r.exitCode),
        r.verdict,
        String(r.wallSeconds),
        String(r.simulatedSeconds),
        seconds(r.failoverRtoSeconds),
        seconds(r.failbackRtoSeconds),
        seconds(r.rpoSeconds),
      ]),
    ),
    "",
  ].join("\n");
  writeSection("game-day", markdown, { machine: where, runs });
  console.log(markdown);
}

main();
