import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { describe, expect, it } from "vitest";
import { keyArn, named, violation, violationsOf } from "../support/guardrails";
import { stackWithProviders, TEST_REGIONS } from "../support/synth";
import { violationAt } from "./violation-at";

const KEY = keyArn(TEST_REGIONS.secondary);

function logGroup(props: { retentionInDays?: number; kmsKeyId?: string }) {
  const { stack, providers } = stackWithProviders();
  new CloudwatchLogGroup(stack, "logs", {
    provider: providers.secondary,
    name: "/shop/app",
    ...props,
  });
  return stack;
}

/** A function and, optionally, a log group; `logGroup` sets how the function finds it. */
function functionWithLogs(logGroupWiring: "default-name" | "logging-config" | "none") {
  const { stack, providers } = stackWithProviders();
  const group =
    logGroupWiring === "none"
      ? undefined
      : new CloudwatchLogGroup(stack, "function-logs", {
          provider: providers.secondary,
          name:
            logGroupWiring === "default-name" ? "/aws/lambda/shop-flip-dns" : "/shop/automation",
          retentionInDays: 30,
          kmsKeyId: KEY,
        });
  new LambdaFunction(stack, "function", {
    provider: providers.secondary,
    functionName: "shop-flip-dns",
    role: "arn:aws:iam::111111111111:role/flip-dns",
    handler: "index.handler",
    runtime: "nodejs24.x",
    filename: "flip-dns.zip",
    loggingConfig:
      logGroupWiring === "logging-config" && group
        ? { logFormat: "JSON", logGroup: group.name }
        : undefined,
  });
  return stack;
}

describe.each(
  named([
    {
      name: "SS-LOG-1 log groups set a retention",
      rule: "SS-LOG-1",
      failing: { name: "a log group without retention", props: { kmsKeyId: KEY } },
      problem: "retention_in_days is unset, so its logs never expire",
      passing: { name: "a retention in days", props: { retentionInDays: 30 } },
    },
    {
      name: "SS-LOG-2 log groups encrypt with a KMS key",
      rule: "SS-LOG-2",
      failing: { name: "a log group without kms_key_id", props: { retentionInDays: 30 } },
      problem: "has no kms_key_id, so its logs are encrypted only with a CloudWatch-owned key",
      passing: { name: "a log group with the region's key", props: { kmsKeyId: KEY } },
    },
  ]),
)("%s", (_name, { rule, failing, problem, passing }) => {
  it(`fails ${failing.name}`, () => {
    expect(violationsOf(rule, logGroup(failing.props))).toEqual([
      violationAt(rule, "test/logs", problem, "aws_cloudwatch_log_group.logs"),
    ]);
  });

  it(`passes ${passing.name}`, () => {
    expect(violationsOf(rule, logGroup(passing.props))).toEqual([]);
  });
});

describe("SS-LOG-3 Lambda functions log to a declared log group", () => {
  it("fails a function whose log group the stack does not declare", () => {
    expect(violationsOf("SS-LOG-3", functionWithLogs("none"))).toEqual([
      violation(
        "SS-LOG-3",
        "test/function",
        "logs to /aws/lambda/shop-flip-dns, which no aws_cloudwatch_log_group of this stack declares",
      ),
    ]);
  });

  it("fails logging_config naming a group that is not declared", () => {
    const { stack, providers } = stackWithProviders();
    new LambdaFunction(stack, "function", {
      provider: providers.secondary,
      functionName: "shop-flip-dns",
      role: "arn:aws:iam::111111111111:role/flip-dns",
      handler: "index.handler",
      runtime: "nodejs24.x",
      filename: "flip-dns.zip",
      loggingConfig: { logFormat: "JSON", logGroup: "/somewhere/else" },
    });
    expect(violationsOf("SS-LOG-3", stack)).toEqual([
      violation(
        "SS-LOG-3",
        "test/function",
        'logs to "/somewhere/else" (logging_config.log_group), which is not an aws_cloudwatch_log_group of this stack',
      ),
    ]);
  });

  it("passes a declared /aws/lambda/<name> group and a logging_config reference", () => {
    expect(violationsOf("SS-LOG-3", functionWithLogs("default-name"))).toEqual([]);
    expect(violationsOf("SS-LOG-3", functionWithLogs("logging-config"))).toEqual([]);
  });
});
