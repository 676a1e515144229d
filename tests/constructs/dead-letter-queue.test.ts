import { describe, expect, it } from "vitest";
import { DeadLetterQueue } from "../../src/constructs/automation/dead-letter-queue";
import { policyStatements, resourceAt, stackWithProviders, synth } from "../support/synth";

const PROPS = {
  region: "us-west-2",
  contents: "Test events",
  kmsKeyArn: "arn:aws:kms:us-west-2:111111111111:key/secondary",
  alarmTopicArn: "arn:aws:sns:us-west-2:111111111111:shop-test-alerts",
};

describe("DeadLetterQueue", () => {
  it("keeps dead letters 14 days, refuses requests without TLS and lets no service in unless rules are named", () => {
    const { stack, providers } = stackWithProviders();
    const queue = new DeadLetterQueue(stack, "dlq", {
      provider: providers.secondary,
      name: "shop-test-dlq",
      ...PROPS,
    });
    const json = synth(stack);
    expect(resourceAt(json, "aws_sqs_queue", "dlq/queue")).toMatchObject({
      name: "shop-test-dlq",
      message_retention_seconds: 1_209_600,
      kms_master_key_id: PROPS.kmsKeyArn,
    });
    expect(policyStatements(json, "dlq/policy-document")).toEqual([
      expect.objectContaining({
        sid: "DenyInsecureTransport",
        effect: "Deny",
        actions: ["sqs:*"],
        condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
      }),
    ]);
    expect(queue.alarmName).toBe("shop-test-dlq");
    expect(resourceAt(json, "aws_cloudwatch_metric_alarm", "dlq/alarm")).toMatchObject({
      ok_actions: [PROPS.alarmTopicArn],
      alarm_actions: [PROPS.alarmTopicArn],
    });
  });

  it("fails on a name SQS does not accept, naming the prop", () => {
    const { stack, providers } = stackWithProviders();
    expect(
      () =>
        new DeadLetterQueue(stack, "dlq", {
          provider: providers.secondary,
          name: "shop test.dlq",
          ...PROPS,
        }),
    ).toThrow(
      "Invalid props for test/dlq:\n" +
        "  - name: got \"shop test.dlq\"; expected an SQS queue name: 1-80 letters, digits, '-' and '_'",
    );
  });
});
