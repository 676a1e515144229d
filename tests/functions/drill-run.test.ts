import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { connectToAws } from "../../functions/handlers/run-drill";
import {
  type DrillReportResult,
  type DrillTickResult,
  drillOptionsFrom,
  reportKeys,
} from "../../functions/orchestration/drill-run";
import {
  type DrillContainer,
  drillContainerFrom,
  parseRunDrillEvent,
  runDrillWith,
} from "../../functions/orchestration/drill-task";
import { DRILL_SETTINGS_VARIABLE, parseDrillSettings } from "../../functions/shared/drill-settings";
import { withStepErrors } from "../../functions/shared/errors";
import { SETTINGS_VARIABLE } from "../../functions/shared/settings";
import { FakeWorld, type FakeWorldOptions } from "../support/fake-operations-api";
import {
  AUTOMATION_SETTINGS,
  DRILL_SETTINGS,
  MemoryObjectWriter,
  manualClock,
} from "./drill-run-fixtures";

const cloudWatchMock = mockClient(CloudWatchClient);
const snsMock = mockClient(SNSClient);

beforeEach(() => {
  cloudWatchMock.reset();
  snsMock.reset();
  cloudWatchMock.on(PutMetricDataCommand).resolves({});
  snsMock.on(PublishCommand).resolves({ MessageId: "m-1" });
});

/** The run-drill handler over a fake API, an in-memory bucket and mocked SDK clients. */
function drillLambda(options: FakeWorldOptions = {}) {
  const api = new FakeWorld({ environment: "prod", ...options });
  const reports = new MemoryObjectWriter();
  const clock = manualClock();
  const container: DrillContainer = {
    settings: AUTOMATION_SETTINGS,
    drill: DRILL_SETTINGS,
    api,
    clients: { reports, cloudWatch: new CloudWatchClient({}), sns: new SNSClient({}) },
    log: () => undefined,
  };
  const invoke = withStepErrors(
    "run-drill",
    runDrillWith(() => container, clock.now),
  );
  return { api, reports, clock, invoke };
}

/** Runs the drill the way the state machine does: start, then wait and advance until done. */
async function runToDone(lambda: ReturnType<typeof drillLambda>, input: unknown = {}) {
  let tick = (await lambda.invoke({ action: "start", input })) as DrillTickResult;
  while (!tick.done) {
    lambda.clock.advance(tick.waitSeconds);
    tick = (await lambda.invoke({
      action: "advance",
      drill: tick.drill,
      advances: tick.advances,
    })) as DrillTickResult;
  }
  return tick;
}

/** Runs a drill to its end and asks for its report, as the state machine's last step does. */
async function reportAfterRun(lambda: ReturnType<typeof drillLambda>, input: unknown = {}) {
  const done = await runToDone(lambda, input);
  const result = (await lambda.invoke({
    action: "report",
    drill: done.drill,
    error: null,
  })) as DrillReportResult;
  return { done, result };
}

describe("run-drill", () => {
  describe("start and advance", () => {
    it("builds the drill from the settings and the schedule's holdMinutes", () => {
      expect(drillOptionsFrom(AUTOMATION_SETTINGS, DRILL_SETTINGS, { holdMinutes: 7 })).toEqual({
        environment: "prod",
        holdSeconds: 420,
        dryRun: false,
        mode: "planned",
        targets: { rtoSeconds: 300, rpoSeconds: 300 },
        regions: { primary: "us-east-2", secondary: "us-west-2" },
        trigger: "schedule",
        pollSeconds: 10,
      });
      expect(drillOptionsFrom(AUTOMATION_SETTINGS, DRILL_SETTINGS, {}).holdSeconds).toBe(300);
    });

    it("starts a drill without calling anything, and returns what the state machine loops on", async () => {
      const lambda = drillLambda();
      const tick = (await lambda.invoke({
        action: "start",
        input: { holdMinutes: 5 },
      })) as DrillTickResult;
      expect(tick).toMatchObject({
        done: false,
        waitSeconds: 0,
        advances: 0,
        error: null,
        drill: { drillId: "drill-prod-20260107T060000Z", options: { holdSeconds: 300 } },
      });
      // Every API call happens in an advance task, whose Catch carries the drill: a failed start
      // has then certainly changed nothing.
      expect(lambda.api.calls).toEqual([]);
      expect(tick.drill.phases.every((phase) => phase.status === "pending")).toBe(true);
      // What Step Functions carries between tasks must survive JSON.
      expect(JSON.parse(JSON.stringify(tick))).toEqual(tick);
    });

    it("advances the drill through failover, hold and failback to done", async () => {
      const lambda = drillLambda();
      const done = await runToDone(lambda, { holdMinutes: 5 });
      expect(done.done).toBe(true);
      expect(done.drill.phases.map((phase) => [phase.name, phase.status])).toEqual([
        ["preflight", "succeeded"],
        ["failover", "succeeded"],
        ["verify-secondary", "succeeded"],
        ["hold", "succeeded"],
        ["failback", "succeeded"],
        ["verify-primary", "succeeded"],
      ]);
      expect(lambda.api.calls.filter((call) => call === "failover" || call === "failback")).toEqual(
        ["failover", "failback"],
      );
      expect(lambda.api.active).toBe("primary");
    });
  });

  describe("report", () => {
    it("still notifies when the report cannot be stored, says so, and fails the task", async () => {
      const lambda = drillLambda();
      const done = await runToDone(lambda);
      lambda.reports.putObject = async () => {
        throw Object.assign(new Error("Access Denied"), { name: "AccessDenied" });
      };
      const failure = await lambda
        .invoke({ action: "report", drill: done.drill, error: null })
        .catch((caught: unknown) => caught);
      expect(String((failure as Error).message)).toMatch(
        /reported by SNS, but storing the report: .*Access Denied/,
      );
      const [message] = snsMock.commandCalls(PublishCommand);
      expect(message?.args[0].input.Message).toMatch(
        /The report could not be stored: storing the report: .*Access Denied/,
      );
      // The metrics went out regardless.
      expect(cloudWatchMock.commandCalls(PutMetricDataCommand)).toHaveLength(1);
    });

    it("stores the JSON and Markdown report under drills/<environment>/, publishes metrics and notifies", async () => {
      const lambda = drillLambda();
      const { done, result } = await reportAfterRun(lambda);

      const drillId = done.drill.drillId;
      expect(result).toEqual({
        drillId,
        verdict: "passed",
        dryRun: false,
        reportKey: `drills/prod/${drillId}.json`,
        markdownKey: `drills/prod/${drillId}.md`,
        summary: `PASSED (report drills/prod/${drillId}.md)`,
      });
      expect(reportKeys("prod", drillId)).toEqual({
        json: result.reportKey,
        markdown: result.markdownKey,
      });
      expect([...lambda.reports.objects.keys()]).toEqual([
        `drills/prod/${drillId}.json`,
        `drills/prod/${drillId}.md`,
      ]);
      const json = lambda.reports.objects.get(`drills/prod/${drillId}.json`);
      expect(json?.contentType).toBe("application/json");
      expect(JSON.parse(json?.body ?? "")).toMatchObject({ drillId, verdict: "passed" });
      const markdown = lambda.reports.objects.get(`drills/prod/${drillId}.md`);
      expect(markdown?.contentType).toBe("text/markdown; charset=utf-8");
      expect(markdown?.body).toContain(drillId);

      const [metrics] = cloudWatchMock.commandCalls(PutMetricDataCommand);
      expect(metrics?.args[0].input.Namespace).toBe("ShopSmart/DR");
      const data = metrics?.args[0].input.MetricData ?? [];
      expect(data.map((datum) => [datum.MetricName, datum.Value, datum.Unit])).toContainEqual([
        "DrillPassed",
        1,
        "Count",
      ]);
      expect(data.map((datum) => datum.MetricName)).toContain("FailoverRto");
      for (const datum of data) {
        expect(datum.Dimensions).toEqual([{ Name: "Environment", Value: "prod" }]);
      }

      const [publish] = snsMock.commandCalls(PublishCommand);
      expect(publish?.args[0].input).toMatchObject({
        TopicArn: "arn:aws:sns:us-west-2:111122223333:shopsmart-prod-dr",
        Subject: expect.stringMatching(/^DR drill prod: PASSED/),
      });
      expect(publish?.args[0].input.Message).toContain(
        `Report: s3://shopsmart-prod-drills-111122223333/drills/prod/${drillId}.md`,
      );
    });

    it("reports a dry run as DRY RUN, ends the execution in Succeed when its plan has no blockers, and publishes no DrillPassed", async () => {
      const lambda = drillLambda();
      const { done, result } = await reportAfterRun(lambda, { dryRun: true });

      const drillId = done.drill.drillId;
      expect(result).toEqual({
        drillId,
        verdict: "passed",
        dryRun: true,
        reportKey: `drills/prod/${drillId}.json`,
        markdownKey: `drills/prod/${drillId}.md`,
        summary: `DRY RUN (plan only, nothing changed): no blockers (report drills/prod/${drillId}.md)`,
      });
      const json = lambda.reports.objects.get(`drills/prod/${drillId}.json`);
      expect(JSON.parse(json?.body ?? "")).toMatchObject({ drillId, verdict: "dry-run" });
      const markdown = lambda.reports.objects.get(`drills/prod/${drillId}.md`)?.body ?? "";
      expect(markdown).toContain(
        "### DR drill prod: DRY RUN (plan only, nothing changed): no blockers\n",
      );
      expect(markdown).not.toContain("PASSED");
      // Nothing was measured, and DrillPassed 0 would read as a failed drill.
      expect(cloudWatchMock.commandCalls(PutMetricDataCommand)).toHaveLength(0);
      const [publish] = snsMock.commandCalls(PublishCommand);
      expect(publish?.args[0].input.Subject).toBe(
        "DR drill prod: DRY RUN (plan only, nothing changed): no blockers",
      );
    });

    it("reports a dry run whose plan has blockers as DRY RUN with them, and ends the execution in a Fail state", async () => {
      const lambda = drillLambda({ blockers: ["the secondary cluster is not a member"] });
      const { done, result } = await reportAfterRun(lambda, { dryRun: true });

      expect(result).toMatchObject({
        verdict: "blocked",
        dryRun: true,
        summary: `DRY RUN (plan only, nothing changed): 1 blocker: the secondary cluster is not a member (report drills/prod/${done.drill.drillId}.md)`,
      });
      expect(lambda.api.calls).toEqual(["status", "failover (dry run)"]);
    });

    it("reports a drill that broke off after its failover as failed, and says to fail back by hand", async () => {
      // Run until the hold; the report is then handed the error a Catch records when the next
      // advance task fails (here: it timed out).
      const lambda = drillLambda();
      let tick = (await lambda.invoke({ action: "start", input: {} })) as DrillTickResult;
      while (tick.drill.phases.find((phase) => phase.name === "hold")?.status !== "running") {
        lambda.clock.advance(tick.waitSeconds);
        tick = (await lambda.invoke({
          action: "advance",
          drill: tick.drill,
          advances: tick.advances,
        })) as DrillTickResult;
      }
      const result = (await lambda.invoke({
        action: "report",
        drill: tick.drill,
        error: { Error: "Lambda.Unknown", Cause: "The function timed out" },
      })) as DrillReportResult;

      expect(result.verdict).toBe("failed");
      const report = JSON.parse(
        lambda.reports.objects.get(result.reportKey as string)?.body ?? "{}",
      ) as { error: string; notes: string[] };
      expect(report.error).toBe(
        "the drill state machine stopped driving it: Lambda.Unknown: The function timed out",
      );
      expect(report.notes).toContain(
        "the drill stopped after its failover started and before its failback finished: the " +
          "environment may still be served from the secondary region. Run npm run status -- --env " +
          "prod; if it is, wait for any running operation to end, then fail back by hand with npm " +
          `run failback -- --env prod --reason "finish drill ${tick.drill.drillId}"`,
      );
      const [publish] = snsMock.commandCalls(PublishCommand);
      expect(publish?.args[0].input.Subject).toMatch(/^DR drill prod: FAILED/);
      expect(publish?.args[0].input.Message).toContain("fail back by hand");
    });

    it("reports a drill that never started: no report object, DrillPassed 0 and a notification", async () => {
      const lambda = drillLambda();
      const result = (await lambda.invoke({
        action: "report",
        drill: null,
        error: { Error: "InvalidEvent", Cause: "run-drill: event field input.hold: ..." },
      })) as DrillReportResult;
      expect(result).toEqual({
        drillId: null,
        verdict: "failed",
        dryRun: false,
        reportKey: null,
        markdownKey: null,
        summary:
          "the drill did not start, nothing was changed: InvalidEvent: run-drill: event field input.hold: ...",
      });
      expect(lambda.reports.objects.size).toBe(0);
      const [metrics] = cloudWatchMock.commandCalls(PutMetricDataCommand);
      expect(metrics?.args[0].input.MetricData).toMatchObject([
        { MetricName: "DrillPassed", Value: 0, Unit: "Count" },
      ]);
      expect(snsMock.commandCalls(PublishCommand)[0]?.args[0].input.Subject).toBe(
        "DR drill prod: DID NOT START",
      );
    });

    it("leaves as a retryable error when the alert topic is throttled", async () => {
      const lambda = drillLambda();
      const done = await runToDone(lambda);
      snsMock.on(PublishCommand).rejects(
        Object.assign(new Error("Rate exceeded"), {
          name: "ThrottledException",
          $metadata: { httpStatusCode: 400 },
        }),
      );
      await expect(
        lambda.invoke({ action: "report", drill: done.drill, error: null }),
      ).rejects.toMatchObject({ name: "Retryable.Throttled" });
    });
  });

  describe("events and settings", () => {
    it("fails on an unknown action, naming the field", async () => {
      expect(() => parseRunDrillEvent({ action: "stop" })).toThrow(
        expect.objectContaining({
          name: "InvalidEvent",
          message: expect.stringContaining("action"),
        }),
      );
    });

    it("fails on a misspelt execution input field, naming it", () => {
      expect(() => parseRunDrillEvent({ action: "start", input: { hold: 5 } })).toThrow(
        /^run-drill: event field input: /,
      );
      expect(() => parseRunDrillEvent({ action: "start", input: { holdMinutes: -1 } })).toThrow(
        "run-drill: event field input.holdMinutes: a number of minutes >= 0",
      );
    });

    it("fails on an advance without the drill, naming the field", () => {
      expect(() => parseRunDrillEvent({ action: "advance", advances: 1 })).toThrow(
        "run-drill: event field drill: required field is missing",
      );
    });

    it("accepts what the state machine sends", () => {
      const drill = { version: 1, drillId: "d", options: { environment: "prod" }, phases: [] };
      expect(parseRunDrillEvent({ action: "start", input: { holdMinutes: 5 } })).toEqual({
        action: "start",
        input: { holdMinutes: 5 },
      });
      expect(parseRunDrillEvent({ action: "advance", drill, advances: 3 })).toMatchObject({
        action: "advance",
        advances: 3,
      });
      expect(
        parseRunDrillEvent({ action: "report", drill: null, error: { Error: "X" } }),
      ).toMatchObject({ action: "report", drill: null });
    });

    it("parses the drill settings the construct writes", () => {
      expect(parseDrillSettings(JSON.stringify(DRILL_SETTINGS))).toEqual(DRILL_SETTINGS);
    });

    it("fails on bad drill settings with an error naming the field", () => {
      expect(() =>
        parseDrillSettings(JSON.stringify({ ...DRILL_SETTINGS, reportBucket: "Reports_Bucket" })),
      ).toThrow("SHOPSMART_DR_DRILL: reportBucket: an S3 bucket name");
      expect(() =>
        parseDrillSettings(JSON.stringify({ ...DRILL_SETTINGS, pollSeconds: 0 })),
      ).toThrow("SHOPSMART_DR_DRILL: pollSeconds: a whole number of seconds >= 1");
      const { metricNamespace: _namespace, ...withoutNamespace } = DRILL_SETTINGS;
      expect(() => parseDrillSettings(JSON.stringify(withoutNamespace))).toThrow(
        "SHOPSMART_DR_DRILL: metricNamespace: required field is missing",
      );
      expect(() =>
        parseDrillSettings(JSON.stringify({ ...DRILL_SETTINGS, appUrl: "shop.example.com" })),
      ).toThrow("SHOPSMART_DR_DRILL: appUrl: an absolute URL such as https://shop.example.com/");
      expect(() => parseDrillSettings(undefined)).toThrow(
        "SHOPSMART_DR_DRILL is not set: expected the drill settings JSON written by the automation construct",
      );
      expect(() => parseDrillSettings("{")).toThrow(/^SHOPSMART_DR_DRILL is not valid JSON: /);
    });

    it("reads both settings variables and builds the AWS clients once", () => {
      const environment = {
        [SETTINGS_VARIABLE]: JSON.stringify(AUTOMATION_SETTINGS),
        [DRILL_SETTINGS_VARIABLE]: JSON.stringify(DRILL_SETTINGS),
      };
      const container = drillContainerFrom(environment, connectToAws);
      expect(container.settings.environment).toBe("prod");
      expect(container.drill).toEqual(DRILL_SETTINGS);
      expect(typeof container.api.status).toBe("function");
    });

    it("fails when the settings have no API URL, naming the field", () => {
      const { apiBaseUrl: _apiBaseUrl, ...withoutApi } = AUTOMATION_SETTINGS;
      const environment = {
        [SETTINGS_VARIABLE]: JSON.stringify(withoutApi),
        [DRILL_SETTINGS_VARIABLE]: JSON.stringify(DRILL_SETTINGS),
      };
      expect(() => drillContainerFrom(environment, connectToAws)).toThrow(
        "SHOPSMART_DR_SETTINGS: apiBaseUrl: required field is missing (the drill calls the operations API)",
      );
    });

    it("fails the start task when the drill settings are missing", async () => {
      const invoke = withStepErrors(
        "run-drill",
        runDrillWith(
          () =>
            drillContainerFrom(
              { [SETTINGS_VARIABLE]: JSON.stringify(AUTOMATION_SETTINGS) },
              connectToAws,
            ),
          () => new Date(),
        ),
      );
      await expect(invoke({ action: "start" })).rejects.toMatchObject({
        name: "SettingsError",
        message:
          "SHOPSMART_DR_DRILL is not set: expected the drill settings JSON written by the automation construct",
      });
    });
  });
});
