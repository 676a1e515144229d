/**
 * The drill driver (functions/orchestration/drill.ts) and its report, against a scripted API on
 * a clock that moves only when the drill waits.
 */
import { describe, expect, it } from "vitest";
import {
  advanceDrill,
  type DrillOptions,
  type DrillState,
  newDrill,
  runDrill,
} from "../../functions/orchestration/drill";
import {
  drillMetrics,
  drillNotification,
  drillReport,
  drillSucceeded,
  renderDrillReportMarkdown,
  timelineChart,
  verdictText,
  withOutage,
} from "../../functions/orchestration/drill-report";
import { OperationsApiError } from "../../functions/shared/operations-api";
import {
  FakeWorld,
  type FakeWorldOptions,
  fakeClock,
  REGIONS,
} from "../support/fake-operations-api";

const OPTIONS: DrillOptions = {
  environment: "staging",
  holdSeconds: 300,
  dryRun: false,
  targets: { rtoSeconds: 300, rpoSeconds: 300 },
  regions: REGIONS,
  trigger: "cli",
};

async function drill(world: FakeWorldOptions = {}, options: Partial<DrillOptions> = {}) {
  const api = new FakeWorld(world);
  const clock = fakeClock();
  const progress: string[] = [];
  const state = await runDrill(api, newDrill({ ...OPTIONS, ...options }, clock.now()), {
    ...clock,
    onTick: (tick) => {
      progress.push(...tick.progress);
      // Each tick's state is what a Step Functions state carries between Lambda calls.
      expect(JSON.parse(JSON.stringify(tick.state))).toEqual(tick.state);
    },
  });
  return { api, state, report: drillReport(state), progress };
}

const statuses = (state: DrillState) =>
  Object.fromEntries(state.phases.map((phase) => [phase.name, phase.status]));

describe("a drill that goes well", () => {
  it("fails over, verifies the secondary, holds, fails back, verifies the primary, and passes", async () => {
    const { api, state, report } = await drill();
    expect(statuses(state)).toEqual({
      preflight: "succeeded",
      failover: "succeeded",
      "verify-secondary": "succeeded",
      hold: "succeeded",
      failback: "succeeded",
      "verify-primary": "succeeded",
    });
    expect(api.active).toBe("primary");
    expect(api.calls.filter((call) => call === "failover" || call === "failback")).toEqual([
      "failover",
      "failback",
    ]);
    expect(report.verdict).toBe("passed");
    // POST at +0 s, three polls 10 s apart, verified on the third: 30 s.
    expect(report.failover).toMatchObject({
      rtoSeconds: 30,
      workflowRtoSeconds: 95,
      dataLossSeconds: 0,
      replicationLagBeforeSeconds: 0.5,
      attempts: 1,
    });
    expect(report.phases.find((phase) => phase.name === "hold")?.seconds).toBe(300);
    expect(report.rpoSeconds).toBe(0.5);
  });

  it("keeps verifying until the public name answers from the new region (DNS TTL), and counts that in the RTO", async () => {
    const { report, progress } = await drill({ dnsLagReads: 3 });
    expect(report.verdict).toBe("passed");
    // Three more health reads, 10 s apart.
    expect(report.failover.rtoSeconds).toBe(60);
    expect(progress).toContain(
      "verify secondary: waiting (public name answers from the region: HTTP 200 from us-east-2 (instance role primary))",
    );
  });

  it("keeps verifying until the app that answers can write there (it sees the writer in its own region)", async () => {
    const { report, progress } = await drill({ appWriterLagReads: 2 });
    expect(report.verdict).toBe("passed");
    expect(progress).toContain(
      "verify secondary: waiting (app can write there: the app sees the writer elsewhere and its database reachable)",
    );
    // Verified at 30 s without the lag; two more reads, 10 s apart.
    expect(report.failover.rtoSeconds).toBe(50);
  });

  it("does not fail an app that cannot tell where the writer is (writer unknown)", async () => {
    const { report } = await drill({ appWriter: "unknown" });
    expect(report.verdict).toBe("passed");
    const verify = report.phases.find((phase) => phase.name === "verify-secondary");
    expect(verify?.checks.find((check) => check.name === "app can write there")).toMatchObject({
      ok: true,
      detail: "the app sees the writer unknown and its database reachable",
    });
  });

  it("runs the hold as one wait, so a long hold costs one Wait state, not a poll loop", async () => {
    const api = new FakeWorld();
    const clock = fakeClock();
    let state = newDrill({ ...OPTIONS, holdSeconds: 3600 }, clock.now());
    const waits: number[] = [];
    for (;;) {
      const tick = await advanceDrill(api, state, clock.now);
      state = tick.state;
      if (tick.done) break;
      waits.push(tick.waitSeconds);
      await clock.sleep(tick.waitSeconds);
    }
    expect(waits).toContain(3600);
    expect(waits.length).toBeLessThan(12);
  });
});

describe("a drill that must not start", () => {
  it("stops at preflight when the environment is already failed over, and changes nothing", async () => {
    const { api, state, report } = await drill({ activeRegion: "secondary" });
    expect(statuses(state)).toMatchObject({
      preflight: "failed",
      failover: "skipped",
      hold: "skipped",
    });
    expect(api.calls).not.toContain("failover");
    expect(report.verdict).toBe("failed");
    expect(report.misses[0]).toMatch(/fail back first \(npm run failback\)/);
  });

  it("stops at preflight while an operation runs, naming it", async () => {
    const { report } = await drill({ runningOperationId: "op-running" });
    expect(report.misses[0]).toMatch(/operation op-running \(failover\) is running/);
  });

  it("stops at preflight when the API belongs to another environment (a wrong --api-url)", async () => {
    const { api, report } = await drill({}, { environment: "prod" });
    expect(api.calls).not.toContain("failover");
    expect(report.misses[0]).toMatch(/the API serves staging, not prod: check --api-url/);
  });

  it("a planned drill needs both regions healthy", async () => {
    const { report } = await drill({ health: { primary: "unhealthy" } });
    expect(report.misses[0]).toMatch(/primary endpoint's health check is unhealthy/);
  });

  it("reports an API failure (e.g. 403) as a failed drill with the API's message", async () => {
    const { report } = await drill({
      statusError: new OperationsApiError(
        "forbidden",
        "403: allow execute-api:Invoke on GET /status",
      ),
    });
    expect(report.verdict).toBe("failed");
    expect(report.error).toMatch(/allow execute-api:Invoke/);
  });
});

describe("dry run", () => {
  it("reads the plan and skips every other phase; nothing is started", async () => {
    const { api, state, report, progress } = await drill({}, { dryRun: true });
    expect(api.calls).toEqual(["status", "failover (dry run)"]);
    expect(statuses(state)).toMatchObject({
      preflight: "succeeded",
      failover: "skipped",
      "verify-primary": "skipped",
    });
    expect(report.verdict).toBe("dry-run");
    expect(drillSucceeded(report)).toBe(true);
    expect(report.plan?.steps).toHaveLength(2);
    expect(progress).toContain("  1. switch over the global database");
  });

  it("says DRY RUN and no blockers, never PASSED, in the report, the notification and the metrics", async () => {
    const { report } = await drill({}, { dryRun: true });
    const markdown = renderDrillReportMarkdown(report);
    expect(markdown.split("\n")[0]).toBe(
      "### DR drill staging: DRY RUN (plan only, nothing changed): no blockers",
    );
    expect(markdown).not.toContain("PASSED");
    expect(report.misses).toEqual([]);
    expect(drillNotification(report).subject).toBe(
      "DR drill staging: DRY RUN (plan only, nothing changed): no blockers",
    );
    expect(drillMetrics(report)).toEqual([]);
  });

  it("fails when the plan has blockers: the verdict is DRY RUN with each blocker", async () => {
    const { report } = await drill(
      { blockers: ["the secondary cluster is not a member", "replication lag 90 s"] },
      { dryRun: true },
    );
    expect(report.verdict).toBe("dry-run");
    expect(drillSucceeded(report)).toBe(false);
    expect(verdictText(report)).toBe(
      "DRY RUN (plan only, nothing changed): 2 blockers: the secondary cluster is not a member; replication lag 90 s",
    );
    const markdown = renderDrillReportMarkdown(report);
    expect(markdown.split("\n")[0]).toBe(
      "### DR drill staging: DRY RUN (plan only, nothing changed): 2 blockers: the secondary cluster is not a member; replication lag 90 s",
    );
    expect(markdown).toContain("- blocked: the secondary cluster is not a member\n");
    // The blockers are the verdict, not a miss of the drill.
    expect(report.misses).toEqual([]);
  });

  it("fails as FAILED, not DRY RUN, when the preflight stops it before there is a plan", async () => {
    const { report } = await drill({ health: { primary: "unhealthy" } }, { dryRun: true });
    expect(report.plan).toBeUndefined();
    expect(report.verdict).toBe("failed");
    expect(drillSucceeded(report)).toBe(false);
  });
});

describe("failures during the drill", () => {
  it("starts a failed failover once more (the steps are idempotent) and notes it", async () => {
    const { api, report } = await drill({ outcomes: ["fail", "succeed", "succeed"] });
    expect(api.calls.filter((call) => call === "failover")).toHaveLength(2);
    expect(report.verdict).toBe("passed");
    expect(report.failover.attempts).toBe(2);
    expect(report.notes[0]).toMatch(/the failover needed 2 operations/);
  });

  it("gives up after the retries, skips the rest and says the environment may be partly failed over", async () => {
    const { api, state, report } = await drill({ outcomes: ["fail", "fail"] });
    expect(api.calls.filter((call) => call === "failback")).toHaveLength(0);
    expect(statuses(state)).toMatchObject({
      failover: "failed",
      hold: "skipped",
      failback: "skipped",
    });
    expect(report.verdict).toBe("failed");
    expect(report.notes.join("\n")).toMatch(/may be partly failed over/);
  });

  it("still fails back when verification of the secondary fails, so the drill does not strand traffic there", async () => {
    const { api, state, report } = await drill({ dnsLagReads: 1000 }, { verifyTimeoutSeconds: 60 });
    expect(statuses(state)).toMatchObject({
      "verify-secondary": "failed",
      hold: "skipped",
      failback: "succeeded",
    });
    expect(api.active).toBe("primary");
    expect(report.verdict).toBe("failed");
  });

  it("fails the failover phase on a 409, naming the operation that holds the lock", async () => {
    const api = new FakeWorld();
    const clock = fakeClock();
    // Preflight sees nothing running; by the time of the POST someone else has started one.
    api.failover = async () => {
      throw new OperationsApiError("conflict", "409", { operationId: "op-other" });
    };
    const final = await runDrill(api, newDrill(OPTIONS, clock.now()), clock);
    expect(drillReport(final).misses[0]).toBe(
      "failover failed: could not start the failover: operation op-other is running",
    );
  });
});

describe("an API that misses answers", () => {
  const timeout = () => new OperationsApiError("timeout", "GET did not answer within 30 s");

  it("rides out a timeout while following the failover, instead of abandoning it", async () => {
    const api = new FakeWorld();
    const operation = api.operation.bind(api);
    let reads = 0;
    api.operation = async (id) => {
      if (++reads === 2) throw timeout();
      return operation(id);
    };
    const clock = fakeClock();
    const progress: string[] = [];
    const state = await runDrill(api, newDrill(OPTIONS, clock.now()), {
      ...clock,
      onTick: (tick) => progress.push(...tick.progress),
    });
    const report = drillReport(state);
    expect(report.verdict).toBe("passed");
    expect(report.failover.attempts).toBe(1);
    expect(progress).toContain(
      "failover: GET did not answer within 30 s; trying again in 10 s (1 in a row)",
    );
  });

  it("a POST whose answer was lost: follows the operation it did start, and starts no second one", async () => {
    const api = new FakeWorld();
    const failover = api.failover.bind(api);
    let posts = 0;
    api.failover = async (request) => {
      await failover(request);
      if (++posts === 1) throw timeout();
      throw new Error("a second POST /failover");
    };
    const clock = fakeClock();
    const progress: string[] = [];
    const state = await runDrill(api, newDrill(OPTIONS, clock.now()), {
      ...clock,
      onTick: (tick) => progress.push(...tick.progress),
    });
    expect(posts).toBe(1);
    expect(drillReport(state).verdict).toBe("passed");
    expect(progress).toContain(
      "failover: operation op-1 was started by this drill, unconfirmed; following it",
    );
  });

  it("a 409 naming the drill's own operation (a retried POST) is followed, not failed", async () => {
    const api = new FakeWorld();
    const failover = api.failover.bind(api);
    api.failover = async (request) => {
      await failover(request);
      throw new OperationsApiError("conflict", "409", { operationId: "op-1" });
    };
    const clock = fakeClock();
    const state = await runDrill(api, newDrill(OPTIONS, clock.now()), clock);
    expect(drillReport(state).verdict).toBe("passed");
  });

  it("gives up on an API that keeps failing, after 6 tries in a row", async () => {
    const api = new FakeWorld({ statusError: timeout() });
    const clock = fakeClock();
    const state = await runDrill(api, newDrill(OPTIONS, clock.now()), clock);
    expect(api.calls.filter((call) => call === "status")).toHaveLength(7);
    expect(drillReport(state).error).toBe(
      "the drill could not go on: GET did not answer within 30 s",
    );
  });
});

describe("interrupted (Ctrl-C)", () => {
  it("during the hold: stops without failing back, and the report says to fail back by hand", async () => {
    const api = new FakeWorld();
    const clock = fakeClock();
    const interrupt = new AbortController();
    const state = await runDrill(api, newDrill(OPTIONS, clock.now()), {
      ...clock,
      signal: interrupt.signal,
      onTick: (tick) => {
        if (tick.progress.some((line) => line.startsWith("hold:"))) interrupt.abort();
      },
    });
    expect(statuses(state)).toMatchObject({
      failover: "succeeded",
      hold: "failed",
      failback: "skipped",
    });
    expect(api.calls).not.toContain("failback");
    const report = drillReport(state);
    expect(report.verdict).toBe("failed");
    expect(report.notes.join("\n")).toContain(
      "the failback did not complete: staging may still be served from us-west-2",
    );
  });
});

describe("targets", () => {
  it("misses the RTO target when the switch takes longer than rtoSeconds", async () => {
    const { report } = await drill({ pollsToFinish: 40 });
    expect(report.failover.rtoSeconds).toBe(400);
    expect(report.verdict).toBe("missed-target");
    expect(report.misses).toContain("failover RTO 400 s is over the 300 s target");
  });

  it("misses the RPO target when the replication lag before a switch exceeds rpoSeconds", async () => {
    const { report } = await drill({ lagSeconds: 420 });
    expect(report.verdict).toBe("missed-target");
    expect(report.misses).toContain("RPO 420 s is over the 300 s target");
  });
});

describe("report", () => {
  it("renders the verdict, RTO/RPO against the targets and the phase table", async () => {
    const { report } = await drill({ pollsToFinish: 40 });
    const markdown = renderDrillReportMarkdown(report);
    expect(markdown).toContain("### DR drill staging: MISSED TARGET");
    expect(markdown).toContain("| RTO failover (POST to verified) | 400 s | 300 s | **missed** |");
    expect(markdown).toContain("| RPO (data loss, or lag before a switch) | 0.5 s | 300 s | met |");
    expect(markdown).toMatch(/\| hold \| succeeded \| 5m 00s \(300 s\) \| served from us-west-2/);
  });

  it("draws the phases as a Mermaid gantt chart (UTC wall-clock times), failed phases marked crit, instant ones as milestones", async () => {
    const { report } = await drill({ outcomes: ["fail", "fail", "fail"] });
    const chart = timelineChart(report);
    expect(chart.slice(0, 7)).toEqual([
      "",
      "```mermaid",
      "gantt",
      `    title Drill ${report.drillId} (UTC)`,
      "    dateFormat YYYY-MM-DD HH:mm:ss",
      "    axisFormat %H:%M:%S",
      "    section phases",
    ]);
    expect(chart.at(-1)).toBe("```");
    // 2026-01-05T09:00:00.000Z -> 2026-01-05 09:00:00: read as the viewer's local time, so the
    // axis shows UTC in every time zone.
    const utc = (iso: string | undefined) => (iso ?? "").slice(0, 19).replace("T", " ");
    const preflight = report.phases.find((phase) => phase.name === "preflight");
    const failover = report.phases.find((phase) => phase.name === "failover");
    expect(failover?.status).toBe("failed");
    expect(chart).toContain(
      `    preflight :done, milestone, p0, ${utc(preflight?.startedAt)}, ${utc(preflight?.startedAt)}`,
    );
    expect(chart).toContain(
      `    failover :crit, p1, ${utc(failover?.startedAt)}, ${utc(failover?.finishedAt)}`,
    );
    // Skipped phases did not run: no bar.
    expect(chart.filter((line) => line.includes(" :"))).toHaveLength(
      report.phases.filter((phase) => phase.startedAt && phase.finishedAt).length,
    );
    expect(renderDrillReportMarkdown(report)).toContain(chart.join("\n"));
  });

  it("publishes metrics and an SNS summary whose subject fits SNS's 100 characters", async () => {
    const { report } = await drill();
    expect(drillMetrics(report)).toEqual([
      { name: "DrillPassed", value: 1, unit: "Count" },
      { name: "FailoverRto", value: 30, unit: "Seconds" },
      { name: "FailbackRto", value: 30, unit: "Seconds" },
      { name: "Rpo", value: 0.5, unit: "Seconds" },
      { name: "ReplicationLagBeforeFailover", value: 0.5, unit: "Seconds" },
    ]);
    expect(drillNotification(report).subject).toBe("DR drill staging: PASSED, RTO 30 s");
    const long = drillNotification({ ...report, environment: "x".repeat(120) });
    expect(long.subject.length).toBe(100);
  });
});

describe("options", () => {
  it("rejects a negative hold, naming the option", () => {
    expect(() => newDrill({ ...OPTIONS, holdSeconds: -1 }, new Date())).toThrow(
      "invalid drill options: holdSeconds must be a number of seconds >= 0, got -1",
    );
  });
});

describe("a drill of an outage the automation must take over by itself (awaitAutomatic)", () => {
  it("requests no failover: it waits for the automatic one, follows it, then fails back as usual", async () => {
    const { api, state, report, progress } = await drill(
      { automaticFailoverOnStatusRead: 4 },
      { mode: "unplanned", awaitAutomatic: true },
    );
    expect(report.verdict).toBe("passed");
    expect(api.calls.filter((call) => call === "failover")).toEqual([]);
    expect(api.calls.filter((call) => call === "failback")).toEqual(["failback"]);
    expect(progress).toContain(
      "failover: not requested; waiting for the standby side to detect the outage and start it",
    );
    expect(
      progress.some((line) => /^failover: the automatic failover op-1 started at/.test(line)),
    ).toBe(true);
    const failover = state.phases.find((phase) => phase.name === "failover");
    expect(failover?.operations?.map((operation) => operation.operationId)).toEqual(["op-1"]);
    // The RTO runs from the failover phase's start (the outage), not from a request: two
    // 10 s waits for the automatic failover, then three polls and the verification.
    expect(report.failover.rtoSeconds).toBe(50);
  });

  it("fails the failover phase, naming what to check, when no automatic failover starts in time", async () => {
    const { api, report } = await drill(
      {},
      { mode: "unplanned", awaitAutomatic: true, operationTimeoutSeconds: 60 },
    );
    expect(report.verdict).toBe("failed");
    expect(api.calls.filter((call) => call === "failover")).toEqual([]);
    expect(report.misses[0]).toBe(
      "failover failed: no automatic failover started within 60 s: check probe-primary's verdicts and the primary-down alarm (docs/dr-plan.md), and fail over by hand",
    );
  });
});

describe("the outage section of a game day report", () => {
  const outage = {
    fault: "us-east-1 goes dark",
    startedAt: "2026-01-05T09:00:00.000Z",
    detectedAt: "2026-01-05T09:02:05.000Z",
    decidedAt: "2026-01-05T09:02:05.000Z",
    writesAcceptedAt: "2026-01-05T09:03:15.000Z",
    servedAt: "2026-01-05T09:00:30.000Z",
  };

  it("judges outage to writes and outage to public name against the RTO target, and draws the phases", async () => {
    const { report } = await drill();
    const judged = withOutage(report, outage);
    expect(judged.verdict).toBe("passed");
    const markdown = renderDrillReportMarkdown(judged);
    expect(markdown).toContain("| outage to writes accepted in us-west-2 | 195 s | 300 s | met |");
    expect(markdown).toContain(
      "| outage to public name served from us-west-2 | 30 s | 300 s | met |",
    );
    expect(markdown).toContain("title Outage us-east-1 goes dark (UTC)");
    expect(markdown).toContain("    dateFormat YYYY-MM-DD HH:mm:ss\n");
    expect(markdown).toContain("    detection :done, o0, 2026-01-05 09:00:00, 2026-01-05 09:02:05");
    expect(markdown).toContain(
      "    decision :done, milestone, o1, 2026-01-05 09:02:05, 2026-01-05 09:02:05",
    );
  });

  it("misses the target when Region B took too long or never accepted writes", async () => {
    const { report } = await drill();
    const late = withOutage(report, { ...outage, writesAcceptedAt: "2026-01-05T09:06:00.000Z" });
    expect(late.verdict).toBe("missed-target");
    expect(late.misses).toContain(
      "outage to writes accepted in us-west-2 took 360 s, over the 300 s target",
    );
    const never = withOutage(report, { ...outage, servedAt: null });
    expect(never.misses).toContain(
      "outage to public name served from us-west-2: never, before the drill ended",
    );
    expect(renderDrillReportMarkdown(never)).toContain(
      "| outage to public name served from us-west-2 | never | 300 s | **missed** |",
    );
  });
});
