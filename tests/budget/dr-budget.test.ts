import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { budgetProblems, computeBudgets, firstDownVerdict } from "../../src/budget/dr-budget";
import { runBudgetCli } from "../../src/cli/budget";
import { parseEnvConfig } from "../../src/config/load";
import { SHIPPED_ENVIRONMENTS } from "../support/shipped-environments";

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
  it("takes the slower of the web-traffic and database paths for prod: first verdict, decision, trigger and the slower of promotion and scale-up", () => {
    const { rto } = computeBudgets(envWith("prod"));
    expect(rto.terms.map((t) => [t.name, t.seconds])).toEqual([
      ["first down verdict", 65],
      ["decision", 120],
      ["trigger", 10],
      ["scale-up", 90],
    ]);
    expect(rto.terms[0].source).toBe(
      `probe-primary's schedule (60 s) + its probes timing out on the dark primary (5 s) + max(0, Route 53 detection 30 s + reread interval 5 s - veto recheck 40 s): the first run after the outage rereads Route 53's view while its "up" alone holds the verdict back`,
    );
    expect(rto.terms[0].lever).toBeUndefined();
    expect(rto.totalSeconds).toBe(285);
    expect(rto.targetSeconds).toBe(300);
    expect(rto.met).toBe(true);
    expect(rto.notes).toEqual([
      "database promotion (60 s) runs in parallel with scale-up",
      "web traffic (DNS path) runs in parallel: 90 s (Route 53 detection 30 s + DNS caches 60 s)",
      "405 s if Route 53's view cannot be read from the secondary region at all (the probes decide alone in 65 s, and traffic follows flip-dns's fence after the scale-up: + traffic fence 60 s + DNS caches 60 s); not an outage's path: in an outage Route 53's checkers move DNS by themselves",
    ]);
  });

  it("keeps the traffic fence off an automatic failover's path", () => {
    for (const environment of ["staging", "prod"]) {
      const { rto } = computeBudgets(envWith(environment));
      expect(rto.terms.map((t) => t.name)).not.toContain("traffic fence");
    }
  });

  it("counts no Route 53 API call on the recovery path", () => {
    for (const environment of SHIPPED_ENVIRONMENTS) {
      const { rto } = computeBudgets(envWith(environment));
      for (const term of rto.terms) expect(term.source).not.toMatch(/API|propagat|INSYNC/i);
    }
  });

  it("puts the database promotion on the critical path when it is the slower parallel step", () => {
    const { rto } = computeBudgets(
      envWith("prod", { "dr.estimates": { databasePromotionSeconds: 100, scaleUpSeconds: 40 } }),
    );
    expect(rto.terms.map((t) => t.name)).toEqual([
      "first down verdict",
      "decision",
      "trigger",
      "database promotion",
    ]);
    expect(rto.totalSeconds).toBe(65 + 120 + 10 + 100);
    expect(rto.notes[0]).toBe("scale-up (40 s) runs in parallel with database promotion");
  });

  it("delays the first verdict by the part of Route 53's detection the veto recheck does not cover", () => {
    const { rto } = computeBudgets(
      envWith("prod", {
        "dns.healthCheck": { intervalSeconds: 30, failureThreshold: 3, path: "/health" },
      }),
    );
    expect(rto.terms.map((t) => [t.name, t.seconds])).toEqual([
      ["first down verdict", 120],
      ["decision", 120],
      ["trigger", 10],
      ["scale-up", 90],
    ]);
    expect(rto.terms[0].source).toBe(
      `probe-primary's schedule (60 s) + its probes timing out on the dark primary (5 s) + max(0, Route 53 detection 90 s + reread interval 5 s - veto recheck 40 s): the first run after the outage rereads Route 53's view while its "up" alone holds the verdict back`,
    );
    expect(rto.terms[0].lever).toBe(
      "dns.healthCheck.intervalSeconds or dns.healthCheck.failureThreshold",
    );
    expect(rto.totalSeconds).toBe(340);
    expect(rto.notes.slice(1)).toEqual([
      "web traffic (DNS path) runs in parallel: 150 s (Route 53 detection 90 s + DNS caches 60 s)",
      "405 s if Route 53's view cannot be read from the secondary region at all (the probes decide alone in 65 s, and traffic follows flip-dns's fence after the scale-up: + traffic fence 60 s + DNS caches 60 s); not an outage's path: in an outage Route 53's checkers move DNS by themselves",
    ]);
  });

  it("bounds the first verdict by the probe schedule and the veto recheck window", () => {
    expect(
      [0, 10, 30, 35, 36, 60, 90, 300].map((seconds) => firstDownVerdict(seconds).seconds),
    ).toEqual([65, 65, 65, 65, 66, 90, 120, 330]);
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
    for (const environment of SHIPPED_ENVIRONMENTS) {
      expect(budgetProblems(envWith(environment))).toEqual([]);
    }
  });

  it("fails an RTO naming the largest term and the field to change", () => {
    expect(budgetProblems(envWith("prod", { "automaticFailover.alarmMinutes": 5 }))).toEqual([
      'RTO (worst case): 465 s > dr.rtoSeconds (300 s). Largest term: decision 300 s from automaticFailover.alarmMinutes (5) x 60 s: the primary-down alarm\'s further "down" verdicts, one a minute, and its once-a-minute evaluation. Change automaticFailover.alarmMinutes, or raise dr.rtoSeconds.',
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
    expect(output).toContain("### RTO (worst case): 285 s of 300 s (met)");
    expect(output).toContain(
      '| decision | 120 | automaticFailover.alarmMinutes (2) x 60 s: the primary-down alarm\'s further "down" verdicts, one a minute, and its once-a-minute evaluation |',
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
