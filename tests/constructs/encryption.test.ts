import { describe, expect, it } from "vitest";
import { RegionalKey } from "../../src/constructs/encryption";
import { policyStatements, resourceAt, stackWithProviders, synth } from "../support/synth";

describe("RegionalKey", () => {
  function synthKey(deletionWindowDays?: number) {
    const { stack, providers } = stackWithProviders();
    new RegionalKey(stack, "key", {
      provider: providers.secondary,
      region: "us-west-2",
      accountId: "111111111111",
      aliasName: "shop-test-secondary",
      deletionWindowDays,
    });
    return synth(stack);
  }

  it("creates a rotating key with an alias, usable by CloudWatch Logs of its own region only", () => {
    const json = synthKey();
    expect(resourceAt(json, "aws_kms_key", "key/key")).toMatchObject({
      enable_key_rotation: true,
      deletion_window_in_days: 30,
      provider: "aws.secondary",
    });
    expect(resourceAt(json, "aws_kms_alias", "key/alias")).toMatchObject({
      name: "alias/shop-test-secondary",
    });
    const logs = policyStatements(json, "key/policy").find(
      (s) => s.sid === "AllowCloudWatchLogsInThisRegion",
    );
    expect(logs?.principals).toEqual([
      { type: "Service", identifiers: ["logs.us-west-2.amazonaws.com"] },
    ]);
    expect(logs?.condition?.[0].values).toEqual([
      "arn:aws:logs:us-west-2:111111111111:log-group:*",
    ]);
  });

  it("lets EventBridge encrypt dead letters for rules of its own account and region, without refusing a request that carries no source keys", () => {
    const json = synthKey();
    expect(
      policyStatements(json, "key/policy").find(
        (s) => s.sid === "AllowEventBridgeDeadLetterQueues",
      ),
    ).toEqual({
      sid: "AllowEventBridgeDeadLetterQueues",
      principals: [{ type: "Service", identifiers: ["events.amazonaws.com"] }],
      actions: ["kms:Decrypt", "kms:GenerateDataKey"],
      resources: ["*"],
      condition: [
        { test: "StringEqualsIfExists", variable: "aws:SourceAccount", values: ["111111111111"] },
        {
          test: "ArnLikeIfExists",
          variable: "aws:SourceArn",
          values: ["arn:aws:events:us-west-2:111111111111:rule/*"],
        },
      ],
    });
  });

  it("fails on a deletion window KMS does not allow", () => {
    expect(() => synthKey(3)).toThrow(
      "Invalid props for test/key:\n  - deletionWindowDays: got 3; expected a whole number of days from 7 to 30 (the KMS limits)",
    );
  });
});
