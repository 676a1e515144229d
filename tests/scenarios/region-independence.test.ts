/**
 * Region B takes over by itself, with the seed's regions (primary us-east-1, secondary
 * us-west-2): probe-primary on its schedule in the secondary, the primary-down alarm evaluated
 * there from its datapoints, the trigger rule there, the synthesized workflow, the traffic
 * fence. When us-east-1 goes, Route 53's API and us-east-1's CloudWatch go with it; DNS answers
 * and Route 53's health checkers (global data plane) do not.
 */
import { describe, expect, it } from "vitest";
import {
  type AutomaticFailoverRules,
  connectProbeSchedule,
  connectStackAutomaticFailoverRules,
  primaryDownAlarmOf,
  RegionPair,
  simulatedSettings,
  simulateLambdaRuntime,
} from "../../src/simulation";
import { connectWorkflow, loadHandler } from "../support/local-state-machine";
import {
  apiRequest,
  callApi,
  lockHeld,
  seedConfig,
  seedStack,
  sharedScenario,
} from "../support/scenario";
import { bindSimulatedAws } from "../support/simulated-aws";

const PRIMARY = "us-east-1";
const SECONDARY = "us-west-2";

/**
 * The seed's region pair bound to the SDK, with the synthesized workflow, the Lambda runtime, the
 * primary-down alarm in the secondary, the automatic-failover rules and probe-primary's schedule.
 */
async function seedPair(onCleanup: (cleanup: () => void) => void) {
  const pair = new RegionPair({
    settings: simulatedSettings({ config: seedConfig() }),
  });
  const aws = bindSimulatedAws(pair);
  onCleanup(() => aws.restore());
  const stack = seedStack();
  onCleanup(await connectWorkflow({ pair, stack }));
  onCleanup(simulateLambdaRuntime(pair));
  pair.cloudWatch.defineAlarm(primaryDownAlarmOf(stack, SECONDARY));
  const rules = connectStackAutomaticFailoverRules(pair, stack, await loadHandler("auto-failover"));
  onCleanup(() => rules.disconnect());
  const schedule = connectProbeSchedule(pair, await loadHandler("probe-primary"));
  onCleanup(() => schedule.stop());
  return { pair, rules, schedule };
}

/** What auto-failover did, leaving out the ends of executions that had nothing pending. */
function acted(automatic: AutomaticFailoverRules): unknown[] {
  return automatic.outcomes.filter(
    (outcome) => (outcome as { action?: string }).action !== "ignored",
  );
}

/** Lets simulated time pass (the schedule runs while something sleeps). */
async function wait(pair: RegionPair, minutes: number): Promise<void> {
  await pair.clock.sleep(minutes * 60_000, "test waits");
}

describe("us-east-1 (the primary) goes dark", () => {
  const scenario = sharedScenario(async (onCleanup) => {
    const { pair, rules } = await seedPair(onCleanup);
    await wait(pair, 3);
    const alarmBeforeOutage = pair.cloudWatch.alarmState(SECONDARY, rules.alarmName);
    const since = pair.calls.length;
    const outageAt = pair.clock.now();
    pair.regionDown(PRIMARY, { callMs: 5_000 });

    await wait(pair, 15);
    await pair.stepFunctions.settled();
    const status = await callApi(apiRequest("GET", "/status"));
    return { pair, rules, alarmBeforeOutage, since, outageAt, status };
  });

  it("keeps the primary-down alarm OK while the primary is up", () => {
    expect(scenario().alarmBeforeOutage).toBe("OK");
  });

  it("the secondary detects it and starts one automatic, unplanned failover, which succeeds", () => {
    const { pair, rules, status } = scenario();
    // One automatic, unplanned failover, started by the alarm in the secondary region.
    expect(pair.stepFunctions.executions.map((execution) => execution.status)).toEqual([
      "SUCCEEDED",
    ]);
    expect(acted(rules)).toEqual([{ action: "started", operationId: expect.any(String) }]);
    expect(status.body).toMatchObject({
      latestOperation: { kind: "failover", mode: "unplanned", status: "succeeded" },
    });
  });

  it("moves the writer and traffic to the secondary and releases the lock", () => {
    const { pair } = scenario();
    expect(pair.snapshot()).toMatchObject({
      database: { globalWriter: "secondary", clusters: { secondary: { writable: true } } },
      dns: { answering: "secondary", fenced: { primary: true, secondary: false } },
    });
    expect(lockHeld(pair)).toBe(false);
  });

  it("needs nothing in us-east-1: every call there after the outage failed, Route 53's API included", () => {
    const { pair, since } = scenario();
    // Nothing in us-east-1 answered after the outage, and the recovery needed none of it:
    // every call there failed, Route 53's API (hosted there) included.
    const after = pair.calls.slice(since);
    const inUsEast1 = after.filter((call) => call.region === PRIMARY || call.service === "route53");
    expect(inUsEast1.length).toBeGreaterThan(0);
    expect(inUsEast1.every((call) => call.outcome === "error")).toBe(true);
    expect(after.filter((call) => call.outcome === "ok" && call.region !== SECONDARY)).toEqual([]);
  });

  it("recovers within the seed's RTO, measured from the outage", () => {
    const { pair, outageAt, status } = scenario();
    const recoveredAt = Date.parse(status.body.latestOperation.finishedAt);
    expect((recoveredAt - outageAt) / 1000).toBeLessThanOrEqual(pair.settings.rtoSeconds);
  });
});

describe("a partition between the regions", () => {
  const scenario = sharedScenario(async (onCleanup) => {
    const { pair, rules, schedule } = await seedPair(onCleanup);
    await wait(pair, 2);
    pair.partition(PRIMARY, { callMs: 5_000 });

    await wait(pair, 20);
    return { pair, rules, schedule };
  });

  it("never promotes: no execution, the alarm OK, the primary still the writer", () => {
    const { pair, rules } = scenario();
    expect(pair.stepFunctions.executions).toEqual([]);
    expect(pair.cloudWatch.alarmState(SECONDARY, rules.alarmName)).toBe("OK");
    expect(pair.snapshot().database.globalWriter).toBe("primary");
  });

  it("the prober fails to reach the primary but Route 53's answer vetoes", () => {
    const verdicts = scenario().schedule.outcomes.slice(-3) as {
      primaryDown: boolean;
      why: string;
    }[];
    expect(verdicts.every((verdict) => verdict.primaryDown === false)).toBe(true);
    expect(verdicts[0]?.why).toContain("a partition between the regions");
  });
});

describe("Route 53's API alone is down", () => {
  const scenario = sharedScenario(async (onCleanup) => {
    const { pair, rules } = await seedPair(onCleanup);
    pair.route53ApiDown({ callMs: 5_000 });

    const failover = await callApi(
      apiRequest("POST", "/failover", { mode: "planned", reason: "drill without Route 53's API" }),
    );
    await pair.stepFunctions.settled();
    const afterFailover = pair.snapshot();

    await wait(pair, 10);
    const failback = await callApi(apiRequest("POST", "/failback", { reason: "back" }));
    await pair.stepFunctions.settled();
    return { pair, rules, failover, afterFailover, failback };
  });

  it("a planned failover completes (202): the secondary writes and answers", () => {
    const { failover, afterFailover } = scenario();
    expect(failover.statusCode).toBe(202);
    expect(afterFailover).toMatchObject({
      database: { globalWriter: "secondary" },
      dns: { answering: "secondary" },
    });
  });

  it("the failback completes (202): the primary writes and answers, no fence left", () => {
    const { pair, failback } = scenario();
    expect(failback.statusCode).toBe(202);
    expect(pair.stepFunctions.executions.map((execution) => execution.status)).toEqual([
      "SUCCEEDED",
      "SUCCEEDED",
    ]);
    expect(pair.snapshot()).toMatchObject({
      database: { globalWriter: "primary" },
      dns: { answering: "primary", fenced: { primary: false, secondary: false } },
    });
  });

  it("no Route 53 API call succeeds", () => {
    const route53 = scenario().pair.callsTo({ service: "route53" });
    expect(route53.length).toBeGreaterThan(0);
    expect(route53.every((call) => call.outcome === "error")).toBe(true);
  });

  it("sets off no automatic failover (the primary stayed up)", () => {
    expect(acted(scenario().rules)).toEqual([]);
  });
});
