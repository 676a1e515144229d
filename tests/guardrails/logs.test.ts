import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { describe, expect, it } from "vitest";
import { keyArn, violation, violationsOf } from "../support/guardrails";
import { stackWithProviders, TEST_REGIONS } from "../support/synth";

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

describe("SS-LOG-1 log groups set a retention", () => {
  it("fails a log group without retention", () => {
    expect(violationsOf("SS-LOG-1", logGroup({ kmsKeyId: KEY }))).toEqual([
      violation("SS-LOG-1", "test/logs", "retention_in_days is unset, so its logs never expire"),
    ]);
  });

  it("passes a retention in days", () => {
    expect(violationsOf("SS-LOG-1", logGroup({ retentionInDays: 30 }))).toEqual([]);
  });
});

describe("SS-LOG-2 log groups encrypt with a KMS key", () => {
  it("fails a log group without kms_key_id", () => {
    expect(violationsOf("SS-LOG-2", logGroup({ retentionInDays: 30 }))).toEqual([
      violation(
        "SS-LOG-2",
        "test/logs",
        "has no kms_key_id, so its logs are encrypted only with a CloudWatch-owned key",
      ),
    ]);
  });

  it("passes a log group with the region's key", () => {
    expect(violationsOf("SS-LOG-2", logGroup({ kmsKeyId: KEY }))).toEqual([]);
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
