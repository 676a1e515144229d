import { DynamodbTable, type DynamodbTableConfig } from "@cdktf/provider-aws/lib/dynamodb-table";
import { describe, expect, it } from "vitest";
import { keyArn, named, violation, violationsOf } from "../support/guardrails";
import { stackWithProviders, TEST_REGIONS } from "../support/synth";
import { violationAt } from "./violation-at";

const KEY = keyArn(TEST_REGIONS.secondary);

/** The operation ledger as the automation builds it, in the secondary region. */
function ledger(props: Partial<DynamodbTableConfig> = {}) {
  const { stack, providers } = stackWithProviders();
  new DynamodbTable(stack, "ledger", {
    provider: providers.secondary,
    name: "shop-operations",
    billingMode: "PAY_PER_REQUEST",
    hashKey: "pk",
    attribute: [{ name: "pk", type: "S" }],
    ...props,
  });
  return stack;
}

const COMPLIANT: Partial<DynamodbTableConfig> = {
  serverSideEncryption: { enabled: true, kmsKeyArn: KEY },
  pointInTimeRecovery: { enabled: true },
  deletionProtectionEnabled: true,
};

describe("SS-DDB-1 DynamoDB tables encrypt with a KMS key", () => {
  it.each(
    named([
      {
        name: "the AWS-owned key",
        props: {},
        problem: "has no server_side_encryption { enabled = true }, so it uses an AWS-owned key",
      },
      {
        name: "the AWS-managed key",
        props: { serverSideEncryption: { enabled: true } },
        problem:
          "has server_side_encryption without kms_key_arn, so it uses the AWS-managed aws/dynamodb key",
      },
    ]),
  )("fails %s", (_name, { props, problem }) => {
    expect(violationsOf("SS-DDB-1", ledger(props))).toEqual([
      violation("SS-DDB-1", "test/ledger", problem),
    ]);
  });

  it("fails a replica without a key", () => {
    expect(
      violationsOf("SS-DDB-1", ledger({ ...COMPLIANT, replica: [{ regionName: "us-east-2" }] })),
    ).toEqual([violation("SS-DDB-1", "test/ledger", 'replica in "us-east-2" has no kms_key_arn')]);
  });

  it("passes a table encrypted with a customer managed key", () => {
    expect(violationsOf("SS-DDB-1", ledger(COMPLIANT))).toEqual([]);
  });
});

describe("SS-DDB-2 DynamoDB tables have point-in-time recovery", () => {
  it("fails a table without point-in-time recovery", () => {
    expect(violationsOf("SS-DDB-2", ledger())).toEqual([
      violation("SS-DDB-2", "test/ledger", "has no point_in_time_recovery { enabled = true }"),
    ]);
  });

  it("passes a table with point-in-time recovery", () => {
    expect(violationsOf("SS-DDB-2", ledger(COMPLIANT))).toEqual([]);
  });
});

describe("SS-DDB-3 production DynamoDB tables have deletion protection", () => {
  it("fails an unprotected production table", () => {
    expect(violationsOf("SS-DDB-3", ledger(), { production: true })).toEqual([
      violationAt(
        "SS-DDB-3",
        "test/ledger",
        "deletion_protection_enabled is unset in production",
        "aws_dynamodb_table.ledger",
      ),
    ]);
  });

  it("passes a protected production table, and an unprotected one outside production", () => {
    expect(violationsOf("SS-DDB-3", ledger(COMPLIANT), { production: true })).toEqual([]);
    expect(violationsOf("SS-DDB-3", ledger())).toEqual([]);
  });
});
