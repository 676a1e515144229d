/**
 * Region B takes over by itself, with the seed's regions (primary us-east-1, secondary
 * us-west-2): probe-primary on its schedule in the secondary, the primary-down alarm evaluated
 * there from its datapoints, the trigger rule there, the synthesized workflow, the traffic
 * fence. When us-east-1 goes, Route 53's API and us-east-1's CloudWatch go with it; DNS answers
 * and Route 53's health checkers (global data plane) do not.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type AutomaticFailoverRules,
  connectProbeSchedule,
  connectStackAutomaticFailoverRules,
  type ProbeSchedule,
  primaryDownAlarmOf,
  RegionPair,
  simulatedSettings,
  simulateLambdaRuntime,
} from "../../src/simulation";
import { connectWorkflow, loadHandler } from "../support/local-state-machine";
import { apiRequest, callApi, lockHeld, seedConfig, seedStack } from "../support/scenario";
import { bindSimulatedAws, type SimulatedAws } from "../support/simulated-aws";

const PRIMARY = "us-east-1";
const SECONDARY = "us-west-2";

let pair: RegionPair;
let aws: SimulatedAws;
let cleanups: (() => void)[] = [];
let rules: AutomaticFailoverRules;
let schedule: ProbeSchedule;

beforeEach(async () => {
  pair = new RegionPair({
    settings: simulatedSettings({ config: seedConfig() }),
  });
  aws = bindSimulatedAws(pair);
  const stack = seedStack();
  cleanups.push(await connectWorkflow({ pair, stack }));
  cleanups.push(simulateLambdaRuntime(pair));
  pair.cloudWatch.defineAlarm(primaryDownAlarmOf(stack, SECONDARY));
  rules = connectStackAutomaticFailoverRules(pair, stack, await loadHandler("auto-failover"));
  cleanups.push(() => rules.disconnect());
  schedule = connectProbeSchedule(pair, await loadHandler("probe-primary"));
  cleanups.push(() => schedule.stop());
});

afterEach(() => {
  for (const cleanup of cleanups.reverse()) cleanup();
  cleanups = [];
  aws.restore();
});

/** What auto-failover did, leaving out the ends of executions that had nothing pending. */
function acted(automatic: AutomaticFailoverRules): unknown[] {
  return automatic.outcomes.filter(
    (outcome) => (outcome as { action?: string }).action !== "ignored",
  );
}

/** Lets simulated time pass (the schedule runs while something sleeps). */
async function wait(minutes: number): Promise<void> {
  await pair.clock.sleep(minutes * 60_000, "test waits");
}

describe("us-east-1 (the primary) goes dark", () => {
  it("the secondary detects it, fails over and moves traffic by itself; nothing it needed was in us-east-1", async () => {
    await wait(3);
    expect(pair.cloudWatch.alarmState(SECONDARY, rules.alarmName)).toBe("OK");
    const since = pair.calls.length;
    const outageAt = pair.clock.now();
    pair.regionDown(PRIMARY, { callMs: 5_000 });

    await wait(15);
    await pair.stepFunctions.settled();

    // One automatic, unplanned failover, started by the alarm in the secondary region.
    expect(pair.stepFunctions.executions.map((execution) => execution.status)).toEqual([
      "SUCCEEDED",
    ]);
    expect(acted(rules)).toEqual([{ action: "started", operationId: expect.any(String) }]);
    const status = await callApi(apiRequest("GET", "/status"));
    expect(status.body).toMatchObject({
      latestOperation: { kind: "failover", mode: "unplanned", status: "succeeded" },
    });
    expect(pair.snapshot()).toMatchObject({
      database: { globalWriter: "secondary", clusters: { secondary: { writable: true } } },
      dns: { answering: "secondary", fenced: { primary: true, secondary: false } },
    });
    expect(lockHeld(pair)).toBe(false);

    // Nothing in us-east-1 answered after the outage, and the recovery needed none of it:
    // every call there failed, Route 53's API (hosted there) included.
    const after = pair.calls.slice(since);
    const inUsEast1 = after.filter((call) => call.region === PRIMARY || call.service === "route53");
    expect(inUsEast1.length).toBeGreaterThan(0);
    expect(inUsEast1.every((call) => call.outcome === "error")).toBe(true);
    expect(after.filter((call) => call.outcome === "ok" && call.region !== SECONDARY)).toEqual([]);

    // Within the seed's RTO, measured from the outage.
    const recoveredAt = Date.parse(status.body.latestOperation.finishedAt);
    expect((recoveredAt - outageAt) / 1000).toBeLessThanOrEqual(pair.settings.rtoSeconds);
  });
});

describe("a partition between the regions", () => {
  it("never promotes: the prober fails to reach the primary but Route 53's answer vetoes", async () => {
    await wait(2);
    pair.partition(PRIMARY, { callMs: 5_000 });

    await wait(20);

    expect(pair.stepFunctions.executions).toEqual([]);
    expect(pair.cloudWatch.alarmState(SECONDARY, rules.alarmName)).toBe("OK");
    const verdicts = schedule.outcomes.slice(-3) as { primaryDown: boolean; why: string }[];
    expect(verdicts.every((verdict) => verdict.primaryDown === false)).toBe(true);
    expect(verdicts[0]?.why).toContain("a partition between the regions");
    expect(pair.snapshot().database.globalWriter).toBe("primary");
  });
});

describe("Route 53's API alone is down", () => {
  it("a planned failover and the failback still complete, with no Route 53 API call succeeding", async () => {
    pair.route53ApiDown({ callMs: 5_000 });

    const failover = await callApi(
      apiRequest("POST", "/failover", { mode: "planned", reason: "drill without Route 53's API" }),
    );
    expect(failover.statusCode).toBe(202);
    await pair.stepFunctions.settled();
    expect(pair.snapshot()).toMatchObject({
      database: { globalWriter: "secondary" },
      dns: { answering: "secondary" },
    });

    await wait(10);
    const failback = await callApi(apiRequest("POST", "/failback", { reason: "back" }));
    expect(failback.statusCode).toBe(202);
    await pair.stepFunctions.settled();

    expect(pair.stepFunctions.executions.map((execution) => execution.status)).toEqual([
      "SUCCEEDED",
      "SUCCEEDED",
    ]);
    expect(pair.snapshot()).toMatchObject({
      database: { globalWriter: "primary" },
      dns: { answering: "primary", fenced: { primary: false, secondary: false } },
    });
    const route53 = pair.callsTo({ service: "route53" });
    expect(route53.length).toBeGreaterThan(0);
    expect(route53.every((call) => call.outcome === "error")).toBe(true);
    // No automatic failover was set off by the planned one (the primary stayed up).
    expect(acted(rules)).toEqual([]);
  });
});
