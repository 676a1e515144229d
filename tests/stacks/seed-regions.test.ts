import { resolve } from "node:path";
import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { loadEnvConfig } from "../../src/config/load";
import { checkStack } from "../../src/guardrails";
import { EnvironmentStack } from "../../src/stacks/environment-stack";
import { listResources, resourcesOf, type SynthesizedStack, synth } from "../support/synth";

/**
 * The seed's own regions, primary us-east-1 and secondary us-west-2 (issue 13): us-east-1 is
 * the region that may be down, so nothing that detects the outage, decides the failover or
 * moves traffic may live there, and the stack is checked like any other.
 */

const ROOT = resolve(__dirname, "../..");
const seed = loadEnvConfig(resolve(ROOT, "tests/fixtures/envs/seed.json"), ROOT);
const stack = new EnvironmentStack(Testing.app(), { config: seed });
const json = synth(stack);

type Resource = Record<string, unknown>;

function named(type: string, name: string): Resource {
  const matches = listResources(json, type).filter(
    (resource) => resource.name === name || resource.alarm_name === name,
  );
  if (matches.length !== 1) throw new Error(`expected one ${type} named ${name}`);
  return matches[0];
}

/** The resource a `${type.name.attribute}` expression refers to. */
function referenced(stackJson: SynthesizedStack, expression: unknown): Resource {
  const [, type, name] = /\$\{(aws_[a-z0-9_]+)\.([^.]+)\./.exec(String(expression)) ?? [];
  const resource = resourcesOf(stackJson, type ?? "")[name ?? ""];
  if (!resource) throw new Error(`no resource behind ${String(expression)}`);
  return resource;
}

describe("seed regions: primary us-east-1, secondary us-west-2", () => {
  it("is the seed's pair, with no third provider (us-east-1 is the primary's)", () => {
    expect(seed.regions).toEqual({ primary: "us-east-1", secondary: "us-west-2" });
    expect(json.provider?.aws.map((p) => [p.alias, p.region])).toEqual([
      ["primary", "us-east-1"],
      ["secondary", "us-west-2"],
    ]);
  });

  it("runs the prober, the primary-down alarm, the trigger rule and both traffic fences with the us-west-2 provider", () => {
    for (const [type, name] of [
      ["aws_cloudwatch_event_rule", "shopsmart-seed-dr-probe-primary"],
      ["aws_lambda_function", "shopsmart-seed-dr-probe-primary"],
      ["aws_cloudwatch_metric_alarm", "shopsmart-seed-dr-primary-down"],
      ["aws_cloudwatch_metric_alarm", "shopsmart-seed-dr-probe-missing"],
      ["aws_cloudwatch_event_rule", "shopsmart-seed-dr-auto-failover"],
      ["aws_cloudwatch_event_rule", "shopsmart-seed-dr-auto-failover-resume"],
      ["aws_lambda_function", "shopsmart-seed-dr-auto-failover"],
      ["aws_cloudwatch_metric_alarm", "shopsmart-seed-dr-traffic-fence-primary"],
      ["aws_cloudwatch_metric_alarm", "shopsmart-seed-dr-traffic-fence-secondary"],
    ] as const) {
      const resource =
        type === "aws_lambda_function"
          ? listResources(json, type).find((fn) => fn.function_name === name)
          : named(type, name);
      expect(resource?.provider, `${type} ${name}`).toBe("aws.secondary");
    }
    expect(named("aws_cloudwatch_event_rule", "shopsmart-seed-dr-probe-primary")).toMatchObject({
      schedule_expression: "rate(1 minute)",
    });
    expect(
      JSON.parse(
        String(named("aws_cloudwatch_event_rule", "shopsmart-seed-dr-auto-failover").event_pattern),
      ).detail.alarmName,
    ).toEqual(["shopsmart-seed-dr-primary-down"]);
  });

  it("puts nothing of the automatic-failover path in us-east-1: no rule, target, function, queue, workflow or DR alarm", () => {
    for (const type of [
      "aws_cloudwatch_event_rule",
      "aws_cloudwatch_event_target",
      "aws_lambda_function",
      "aws_lambda_permission",
      "aws_sqs_queue",
      "aws_sfn_state_machine",
      "aws_dynamodb_table",
      "aws_apigatewayv2_api",
      "aws_scheduler_schedule",
    ]) {
      const providers = [...new Set(listResources(json, type).map((r) => r.provider))];
      expect(providers, type).toEqual(["aws.secondary"]);
    }
    const inUsEast1 = listResources(json, "aws_cloudwatch_metric_alarm")
      .filter((alarm) => alarm.provider === "aws.primary")
      .map((alarm) => String(alarm.alarm_name));
    expect(inUsEast1.filter((name) => name.includes("-dr-"))).toEqual([]);
    // The endpoint-health alarms stay here (Route 53's metrics exist only in us-east-1), for
    // notifications and the dashboard.
    expect(inUsEast1).toEqual(
      expect.arrayContaining([
        "shopsmart-seed-primary-endpoint-health",
        "shopsmart-seed-secondary-endpoint-health",
      ]),
    );
  });

  it("tells auto-failover its alarm lives in us-west-2, and lets it read only that one", () => {
    const autoFailover = listResources(json, "aws_lambda_function").find(
      (fn) => fn.function_name === "shopsmart-seed-dr-auto-failover",
    ) as { environment: { variables: Record<string, string> } };
    expect(JSON.parse(autoFailover.environment.variables.SHOPSMART_DR_AUTO_FAILOVER)).toMatchObject(
      { alarmName: "shopsmart-seed-dr-primary-down", alarmRegion: "us-west-2" },
    );
    const documents = Object.values(json.data?.aws_iam_policy_document ?? {});
    const readAlarm = documents
      .flatMap((d) => (d.statement as { sid?: string; resources?: string[] }[]) ?? [])
      .filter((statement) => statement.sid === "ReadTriggerAlarm");
    expect(readAlarm).toHaveLength(1);
    expect(readAlarm[0].resources).toEqual([
      expect.stringMatching(
        /^arn:aws:cloudwatch:us-west-2:.*:alarm:shopsmart-seed-dr-primary-down$/,
      ),
    ]);
  });

  it("guards both failover records with calculated checks whose fences follow alarms in us-west-2", () => {
    const records = listResources(json, "aws_route53_record").filter(
      (record) => record.failover_routing_policy !== undefined,
    );
    expect(records).toHaveLength(2);
    for (const record of records) {
      const calculated = referenced(json, record.health_check_id);
      expect(calculated).toMatchObject({ type: "CALCULATED", child_health_threshold: 2 });
      const children = (calculated.child_healthchecks as string[]).map((child) =>
        referenced(json, child),
      );
      expect(children.map((child) => child.type)).toEqual(["HTTPS", "CLOUDWATCH_METRIC"]);
      const fence = children[1];
      expect(fence).toMatchObject({
        cloudwatch_alarm_region: "us-west-2",
        insufficient_data_health_status: "LastKnownStatus",
      });
      expect(referenced(json, fence.cloudwatch_alarm_name)).toMatchObject({
        provider: "aws.secondary",
        metric_name: "TrafficFenced",
      });
    }
  });

  it("violates no guardrail and warns about nothing, the region choice included", () => {
    const report = checkStack(stack, { production: false });
    expect(report.violations).toEqual([]);
    expect(report.warnings).toEqual([]);
  });
});
