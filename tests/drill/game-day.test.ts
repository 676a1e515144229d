/**
 * `npm run drill -- --local [--fault ...]`: the whole drill on this machine, the environment's
 * synthesized state machine run with the real handlers against the simulated regions, on
 * simulated time. Each fault must end in the report a real drill would write for it.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { DrillReport } from "../../functions/orchestration/drill-report";
import { runDrillCli } from "../../src/cli/drill";

const reportDir = mkdtempSync(join(tmpdir(), "game-day-"));
afterAll(() => rmSync(reportDir, { recursive: true, force: true }));

async function gameDay(...flags: string[]) {
  const dir = mkdtempSync(join(reportDir, "run-"));
  const out: string[] = [];
  const code = await runDrillCli(["--local", "--report-dir", dir, ...flags], {
    out: (line) => out.push(line),
    err: (line) => out.push(line),
  });
  const files = readdirSync(dir);
  const json = files.find((file) => file.endsWith(".json")) as string;
  const report = JSON.parse(readFileSync(join(dir, json), "utf8")) as DrillReport;
  const log = readFileSync(join(dir, json.replace(/\.json$/, ".log")), "utf8");
  return { code, out: out.join("\n"), report, files, log };
}

const operationsOf = (report: DrillReport, phase: string) =>
  report.phases.find((candidate) => candidate.name === phase)?.operations ?? [];

const since = (from: string, to: string | null | undefined) =>
  to == null ? Number.POSITIVE_INFINITY : (Date.parse(to) - Date.parse(from)) / 1000;

/**
 * The outage was measured from its start, its phases in order, and Region B accepted writes and
 * served the public name within the RTO target.
 */
function expectTakenOverWithinTarget(report: DrillReport): void {
  const outage = report.outage;
  expect(outage).toBeDefined();
  if (!outage) return;
  const { startedAt } = outage;
  expect(since(startedAt, outage.detectedAt)).toBeGreaterThan(0);
  expect(since(outage.detectedAt ?? startedAt, outage.decidedAt)).toBeGreaterThanOrEqual(0);
  expect(since(outage.decidedAt ?? startedAt, outage.writesAcceptedAt)).toBeGreaterThan(0);
  expect(since(startedAt, outage.writesAcceptedAt)).toBeLessThanOrEqual(report.targets.rtoSeconds);
  expect(since(startedAt, outage.servedAt)).toBeLessThanOrEqual(report.targets.rtoSeconds);
}

describe("local game day", () => {
  it("without a fault: a planned switchover each way, no data loss, within the targets", async () => {
    const { code, report, files, log, out } = await gameDay();
    expect(code).toBe(0);
    expect(report).toMatchObject({ verdict: "passed", trigger: "local", mode: "planned" });
    expect(report.failover).toMatchObject({ dataLossSeconds: 0, attempts: 1 });
    expect(report.failover.rtoSeconds).toBeLessThanOrEqual(report.targets.rtoSeconds);
    expect(report.phases.map((phase) => [phase.name, phase.status])).toEqual([
      ["preflight", "succeeded"],
      ["failover", "succeeded"],
      ["verify-secondary", "succeeded"],
      ["hold", "succeeded"],
      ["failback", "succeeded"],
      ["verify-primary", "succeeded"],
    ]);
    // The failover workflow ran its steps (the synthesized definition's state names).
    expect(out).toMatch(/failover: PromoteDatabase succeeded/);
    expect(out).toMatch(/failback: FlipDns/);
    expect(files).toHaveLength(3);
    // The handlers' own logs go to the .log file, not the terminal.
    expect(log).toMatch(/"handler":"finish"/);
    expect(out).not.toMatch(/"handler":"finish"/);
  });

  it("primary-region-down: unplanned failover with the primary unreachable, data loss = the replication lag, failback once it is back", async () => {
    const { code, report, out } = await gameDay("--fault", "primary-region-down");
    expect(code).toBe(0);
    expect(report).toMatchObject({ verdict: "passed", mode: "unplanned" });
    expect(report.failover.dataLossSeconds).toBe(0.8);
    expect(report.failback.dataLossSeconds).toBe(0);
    // Nobody asked: the secondary detected the outage and failed over by itself.
    expect(out).toMatch(
      /failover: not requested; waiting for the standby side to detect the outage/,
    );
    expect(out).toMatch(/failover: the automatic failover op-\S+ started at/);
    expectTakenOverWithinTarget(report);
    expect(out).toMatch(/simulation: us-east-2 is back/);
  });

  it("web-tier-down: an unplanned failover while the primary database is healthy switches over: data loss 0, PASSED", async () => {
    const { code, report, out } = await gameDay("--fault", "web-tier-down");
    expect(code).toBe(0);
    expect(report).toMatchObject({ verdict: "passed", mode: "unplanned" });
    expect(report.failover.dataLossSeconds).toBe(0);
    expect(report.failback.dataLossSeconds).toBe(0);
    expect(out).toMatch(/failover: the automatic failover op-\S+ started at/);
    expectTakenOverWithinTarget(report);
    expect(out).toMatch(/simulation: the web tier in us-east-2 is back/);
  });

  it("throttle: the retries ride it out; the workflow takes longer than without it", async () => {
    const calm = (await gameDay()).report;
    const { code, report, out } = await gameDay("--fault", "throttle");
    expect(code).toBe(0);
    // The throttled step is named, though it runs in a Parallel branch next to ScaleTarget.
    expect(out).toMatch(/failover: PromoteDatabase failed: Retryable\.Throttled/);
    expect(out).not.toMatch(/ScaleTarget failed/);
    expect(report.verdict).toBe("passed");
    expect(report.failover.workflowRtoSeconds).toBeGreaterThan(
      calm.failover.workflowRtoSeconds ?? 0,
    );
  });

  it("slow-promotion: the drill completes but misses its RTO target, and exits 1", async () => {
    const { code, report } = await gameDay("--fault", "slow-promotion");
    expect(code).toBe(1);
    expect(report.verdict).toBe("missed-target");
    expect(report.misses[0]).toMatch(
      new RegExp(
        `^failover RTO \\d+(\\.\\d)? s is over the ${report.targets.rtoSeconds} s target$`,
      ),
    );
    expect(report.phases.every((phase) => phase.status === "succeeded")).toBe(true);
  });

  it("crash-mid-way: the dead execution is reported failed, the drill starts the failover again and it resumes", async () => {
    const { code, report } = await gameDay("--fault", "crash-mid-way");
    expect(code).toBe(0);
    const [dead, rerun] = operationsOf(report, "failover");
    expect(dead).toMatchObject({ status: "failed" });
    expect(dead?.error).toMatch(/its execution ended with status ABORTED/);
    expect(rerun).toMatchObject({ status: "succeeded", dataLossSeconds: 0 });
    expect(report.failover.attempts).toBe(2);
    expect(report.notes.join("\n")).toMatch(/the failover needed 2 operations/);
  });

  it("--dry-run: the plan of the environment's failover, nothing moved", async () => {
    // Another environment in the same process: each game day loads fresh handler bundles, so
    // no settings are left over from the staging runs (as no Lambda sandbox is shared).
    const { code, report } = await gameDay("--dry-run", "--env", "prod");
    expect(code).toBe(0);
    expect(report).toMatchObject({ dryRun: true, environment: "prod" });
    expect(report.plan?.steps[0]).toMatch(/^switch over the global database shopsmart-prod-global/);
    expect(operationsOf(report, "failover")).toHaveLength(0);
  });

  it("partition: the primary is up but unreachable from the automation, Route 53 sees it healthy: the plan refuses the data-loss failover, nothing changes, BLOCKED", async () => {
    const { code, report, out } = await gameDay("--fault", "partition");
    expect(code).toBe(1);
    expect(report).toMatchObject({ verdict: "blocked", mode: "unplanned" });
    const [refused] = operationsOf(report, "failover");
    expect(operationsOf(report, "failover")).toHaveLength(1);
    expect(refused).toMatchObject({ status: "failed", dataLossSeconds: 0 });
    expect(refused?.error).toMatch(/^PlanBlocked: .*that is a partition between the regions/);
    expect(report.notes).toContain(
      "the failover's plan refused it (see the failover phase): nothing was changed, and nothing needs undoing",
    );
    expect(out).toMatch(/BLOCKED \(refused by the plan, nothing changed\)/);
  });

  it("slow-switchover: a 90 s lag makes each switchover several times slower; the drill waits it out with the lock held and never records a false failure", async () => {
    const calm = (await gameDay()).report;
    const { report } = await gameDay("--fault", "slow-switchover");
    expect(["passed", "missed-target"]).toContain(report.verdict);
    expect(report.phases.every((phase) => phase.status === "succeeded")).toBe(true);
    expect(report.failover).toMatchObject({ dataLossSeconds: 0, attempts: 1 });
    // 60 s + 2 s per second of the 90 s lag, against 60 s + 1.6 s without the fault.
    expect(report.failover.workflowRtoSeconds).toBeGreaterThanOrEqual(
      (calm.failover.workflowRtoSeconds ?? 0) + 150,
    );
  });

  it("trigger-while-locked: the primary dies while the drill's planned failover holds the lock; the deferred automatic failover still happens and the old primary is fenced", async () => {
    const { code, report, out } = await gameDay("--fault", "trigger-while-locked");
    // The drill's own planned failover could not complete without the primary: it says so.
    expect(code).toBe(1);
    expect(report.verdict).toBe("failed");
    expect(out).toMatch(/auto-failover \{"action":"deferred","blockedBy":"op-/);
    expect(out).toMatch(/auto-failover \{"action":"started","operationId":"op-/);
    expect(report.notes).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^simulation: unplanned failover op-\S+ \(automatic\) succeeded$/),
        "simulation: database writer in secondary; the old primary's group at 0/0/0 (min/desired/max)",
      ]),
    );
  });

  describe("with the seed's regions (primary us-east-1, secondary us-west-2: tests/fixtures/envs/seed.json)", () => {
    const seed = ["--env", "tests/fixtures/envs/seed.json"];

    it("web-tier-down: switchover, data loss 0, PASSED", async () => {
      const { code, report } = await gameDay(...seed, "--fault", "web-tier-down");
      expect(code).toBe(0);
      expect(report).toMatchObject({
        verdict: "passed",
        regions: { primary: "us-east-1", secondary: "us-west-2" },
      });
      expect(report.failover.dataLossSeconds).toBe(0);
    });

    it("us-east-1-down: the primary is us-east-1, Route 53's API and us-east-1's CloudWatch go with it; Region B takes over by itself within the RTO, PASSED", async () => {
      const { code, report, out, log } = await gameDay(...seed, "--fault", "us-east-1-down");
      expect(code).toBe(0);
      expect(report).toMatchObject({ verdict: "passed", mode: "unplanned" });
      expectTakenOverWithinTarget(report);
      expect(out).toMatch(/failover: the automatic failover op-\S+ started at/);
      // The Markdown report pictures the outage's phases.
      expect(out).toMatch(/title Outage us-east-1 goes dark/);
      // probe-primary read Route 53's verdict from the DNS answer: us-east-1's metric was gone.
      expect(log).toMatch(/HealthCheckStatus unreadable in us-east-1/);
    });

    it("primary-region-down: the same, by itself, with us-east-1's services gone with the region", async () => {
      const { code, report, log } = await gameDay(...seed, "--fault", "primary-region-down");
      expect(code).toBe(0);
      expect(report.verdict).toBe("passed");
      expectTakenOverWithinTarget(report);
      expect(log).toMatch(/HealthCheckStatus unreadable in us-east-1/);
    });

    it("route53-api-down: the planned failover and failback still complete (traffic moves with the fence), PASSED", async () => {
      const { code, report } = await gameDay(...seed, "--fault", "route53-api-down");
      expect(code).toBe(0);
      expect(report).toMatchObject({ verdict: "passed", mode: "planned" });
      expect(report.outage).toBeUndefined();
    });

    it("partition: BLOCKED, nothing changed", async () => {
      const { report } = await gameDay(...seed, "--fault", "partition");
      expect(report.verdict).toBe("blocked");
      expect(operationsOf(report, "failover")[0]?.error).toMatch(/us-east-1/);
    });

    it("slow-switchover: waited out, no false failure", async () => {
      const { report } = await gameDay(...seed, "--fault", "slow-switchover");
      expect(report.phases.every((phase) => phase.status === "succeeded")).toBe(true);
      expect(report.failover.dataLossSeconds).toBe(0);
    });

    it("trigger-while-locked: the automatic failover happens", async () => {
      const { report } = await gameDay(...seed, "--fault", "trigger-while-locked");
      expect(report.notes).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/\(automatic\) succeeded$/),
          expect.stringMatching(/^simulation: database writer in secondary/),
        ]),
      );
    });
  });
});
