import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { budgetProblems, computeBudgets } from "../../src/budget/dr-budget";
import { runBudgetCli } from "../../src/cli/budget";
import { parseEnvConfig } from "../../src/config/load";

const ROOT = resolve(__dirname, "../..");

/** envs/<env>.json with changes applied (dotted paths). */
function envWith(environment: string, changes: Record<string, unknown> = {}) {
  const raw = JSON.parse(readFileSync(resolve(ROOT, "envs", `${environment}.json`), "utf8"));
  for (const [path, value] of Object.entries(changes)) {
    const keys = path.split(".");
    const last = keys.pop() as string;
    const parent = keys.reduce((node, key) => node[key], raw);
    parent[last] = value;
  }
  return parseEnvConfig(raw, `envs/${environment}.json`);
}

describe("DR budget", () => {
  it("adds the standby side's detection, the alarm wait, the trigger, the slower of promotion and scale-up, the fence and DNS caches for prod", () => {
    const { rto } = computeBudgets(envWith("prod"));
    expect(rto.terms.map((t) => [t.name, t.seconds])).toEqual([
      ["detection", 60],
      ["decision", 120],
      ["trigger", 10],
      ["scale-up", 90],
      ["traffic fence", 60],
      ["DNS caches", 60],
    ]);
    expect(rto.terms[0].source).toBe(
      "probe-primary runs every 60 s in the secondary region: the first probe after the outage",
    );
    expect(rto.totalSeconds).toBe(400);
    expect(rto.targetSeconds).toBe(420);
    expect(rto.met).toBe(true);
    expect(rto.notes).toEqual([
      "database promotion (60 s) runs in parallel with scale-up",
      "370 s when Route 53's checkers see the primary down first (DNS already answers from the secondary)",
    ]);
  });

  it("counts no Route 53 API call on the recovery path", () => {
    for (const environment of ["dev", "staging", "prod"]) {
      const { rto } = computeBudgets(envWith(environment));
      for (const term of rto.terms) expect(term.source).not.toMatch(/API|propagat|INSYNC/i);
    }
  });

  it("puts the database promotion on the critical path when it is the slower parallel step", () => {
    const { rto } = computeBudgets(
      envWith("prod", { "dr.estimates": { databasePromotionSeconds: 100, scaleUpSeconds: 40 } }),
    );
    expect(rto.terms.map((t) => t.name)).toEqual([
      "detection",
      "decision",
      "trigger",
      "database promotion",
      "traffic fence",
      "DNS caches",
    ]);
    expect(rto.totalSeconds).toBe(60 + 120 + 10 + 100 + 60 + 60);
  });

  it("takes the Route 53 path when Route 53's own detection is slower than the fence: the probes wait for its verdict", () => {
    const { rto } = computeBudgets(
      envWith("prod", {
        "dns.healthCheck": { intervalSeconds: 30, failureThreshold: 3, path: "/health" },
      }),
    );
    expect(rto.terms.map((t) => [t.name, t.seconds])).toEqual([
      ["Route 53 detection", 90],
      ["DNS caches before Route 53's veto lifts", 60],
      ["detection", 60],
      ["decision", 120],
      ["trigger", 10],
      ["scale-up", 90],
    ]);
    expect(rto.totalSeconds).toBe(430);
    expect(rto.notes[1]).toBe("400 s when Route 53 cannot tell and the fence moves the traffic");
  });

  it("keeps web traffic on DNS failover alone within 90 s in prod", () => {
    expect(computeBudgets(envWith("prod")).dnsOnlyRto.totalSeconds).toBe(90);
  });

  it("counts from the operator's trigger when automatic failover is off", () => {
    const { rto } = computeBudgets(envWith("dev"));
    expect(rto.terms.map((t) => [t.name, t.seconds])).toEqual([
      ["scale-up", 90],
      ["traffic fence", 60],
      ["DNS caches", 60],
    ]);
    expect(rto.notes[0]).toBe(
      "automaticFailover is off: the budget counts from the operator's trigger; the time to decide is not bounded",
    );
  });

  it("bounds database data loss by the lag alarm threshold plus one alarm period", () => {
    const { databaseRpo } = computeBudgets(
      envWith("prod", { "dr.replicationLagAlarmSeconds": 45 }),
    );
    expect(databaseRpo.totalSeconds).toBe(105);
  });

  it("meets every target with the shipped environments", () => {
    for (const environment of ["dev", "staging", "prod"]) {
      expect(budgetProblems(envWith(environment))).toEqual([]);
    }
  });

  it("fails an RTO naming the largest term and the field to change", () => {
    expect(budgetProblems(envWith("prod", { "automaticFailover.alarmMinutes": 5 }))).toEqual([
      'RTO (worst case): 580 s > dr.rtoSeconds (420 s). Largest term: decision 300 s from automaticFailover.alarmMinutes (5): the primary-down alarm needs that many minutes of "down" verdicts. Change automaticFailover.alarmMinutes, or raise dr.rtoSeconds.',
    ]);
  });

  it("fails an assets RPO below the S3 replication SLA", () => {
    expect(budgetProblems(envWith("prod", { "dr.assetsRpoSeconds": 300 }))).toEqual([
      "RPO, assets (S3 objects): 900 s > dr.assetsRpoSeconds (300 s). Largest term: S3 replication window 900 s from S3 Replication Time Control SLA (15 minutes for 99.99% of objects). AWS fixes that term, so raise dr.assetsRpoSeconds.",
    ]);
  });
});

describe("npm run budget", () => {
  it("prints the breakdown tables and exits 0 when every target is met", () => {
    const { output, exitCode } = runBudgetCli(["--env", "prod"]);
    expect(exitCode).toBe(0);
    expect(output).toContain("### RTO (worst case): 400 s of 420 s (met)");
    expect(output).toContain(
      '| decision | 120 | automaticFailover.alarmMinutes (2): the primary-down alarm needs that many minutes of "down" verdicts |',
    );
  });

  it("fails without --env, with the usage", () => {
    expect(runBudgetCli([])).toEqual({
      output: "--env is required\nusage: npm run budget -- --env <name> [--envs-dir envs]",
      exitCode: 2,
    });
  });

  it("fails on an unknown flag", () => {
    const { output, exitCode } = runBudgetCli(["--env", "prod", "--verbose"]);
    expect(exitCode).toBe(2);
    expect(output).toContain("usage: npm run budget");
  });
});
