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
/** The faults also run with the seed's regions (issue 12's and issue 13's). */
const SEED_FAULTS = [
  "primary-region-down",
  "us-east-1-down",
  "route53-api-down",
  "web-tier-down",
  "partition",
  "slow-switchover",
  "trigger-while-locked",
];

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
  /** Outage faults: seconds from the outage to each milestone (null: never). */
  outage: {
    detected: number | null;
    decided: number | null;
    writesAccepted: number | null;
    served: number | null;
  } | null;
}

function since(from: string, to: string | null): number | null {
  return to === null ? null : (Date.parse(to) - Date.parse(from)) / 1000;
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
      outage: report.outage
        ? {
            detected: since(report.outage.startedAt, report.outage.detectedAt),
            decided: since(report.outage.startedAt, report.outage.decidedAt),
            writesAccepted: since(report.outage.startedAt, report.outage.writesAcceptedAt),
            served: since(report.outage.startedAt, report.outage.servedAt),
          }
        : null,
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
        "Outage to detected / decided (s)",
        "Outage to writes in B (s)",
        "Outage to name served from B (s)",
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
        r.outage ? `${seconds(r.outage.detected)} / ${seconds(r.outage.decided)}` : "",
        r.outage ? seconds(r.outage.writesAccepted) : "",
        r.outage ? seconds(r.outage.served) : "",
      ]),
    ),
    "",
    "RTO failover/failback: from the drill's request (planned faults) or, for the outage faults " +
      "(primary-region-down, web-tier-down, us-east-1-down with the primary in us-east-1), from " +
      "the outage: nobody requests those failovers, the standby side detects the outage and " +
      "starts it. The outage columns split that: the primary-down alarm in ALARM and the " +
      "automatic execution started (detection, decision), the app in Region B accepting writes " +
      "(promotion), and the public name answering from Region B (traffic: Route 53's health " +
      "checks act without the automation).",
    "",
  ].join("\n");
  writeSection("game-day", markdown, { machine: where, runs });
  console.log(markdown);
}

main();
