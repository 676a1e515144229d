import { BackupVault } from "@cdktf/provider-aws/lib/backup-vault";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { describe, expect, it } from "vitest";
import { RegionalKey } from "../../src/constructs/encryption";
import { ACCOUNT, keyArn, violation, violationsOf } from "../support/guardrails";
import { stackWithProviders, TEST_REGIONS } from "../support/synth";

describe("SS-KMS-1 KMS keys rotate", () => {
  it("fails a symmetric key without rotation", () => {
    const { stack, providers } = stackWithProviders();
    new KmsKey(stack, "key", { provider: providers.primary, description: "data" });
    expect(violationsOf("SS-KMS-1", stack)).toEqual([
      violation("SS-KMS-1", "test/key", "enable_key_rotation is unset"),
    ]);
  });

  it("passes RegionalKey, and asymmetric keys (which cannot rotate)", () => {
    const { stack, providers } = stackWithProviders();
    new RegionalKey(stack, "regional", {
      provider: providers.primary,
      region: TEST_REGIONS.primary,
      accountId: ACCOUNT,
      aliasName: "test",
    });
    new KmsKey(stack, "signing", {
      provider: providers.primary,
      customerMasterKeySpec: "ECC_NIST_P256",
      keyUsage: "SIGN_VERIFY",
    });
    expect(violationsOf("SS-KMS-1", stack)).toEqual([]);
  });
});

describe("SS-KMS-2 topics, queues, secrets and vaults use customer managed keys", () => {
  it("fails missing keys, AWS-managed keys and a replica without a key", () => {
    const { stack, providers } = stackWithProviders();
    new SnsTopic(stack, "topic", { provider: providers.primary, name: "alerts" });
    new SqsQueue(stack, "queue", {
      provider: providers.primary,
      name: "dead-letters",
      kmsMasterKeyId: "alias/aws/sqs",
    });
    new SecretsmanagerSecret(stack, "secret", {
      provider: providers.primary,
      name: "db",
      kmsKeyId: keyArn(TEST_REGIONS.primary),
      replica: [{ region: TEST_REGIONS.secondary }],
    });
    new BackupVault(stack, "vault", { provider: providers.primary, name: "vault" });
    expect(violationsOf("SS-KMS-2", stack)).toEqual([
      violation("SS-KMS-2", "test/topic", "has no kms_master_key_id"),
      violation(
        "SS-KMS-2",
        "test/queue",
        "uses the AWS-managed key alias/aws/sqs (kms_master_key_id)",
      ),
      violation("SS-KMS-2", "test/vault", "has no kms_key_arn"),
      violation(
        "SS-KMS-2",
        "test/secret",
        `replica in "us-west-2" has kms_key_id unset; name that region's customer managed key`,
      ),
    ]);
  });

  it("passes data stores with customer managed keys", () => {
    const { stack, providers } = stackWithProviders();
    const key = keyArn(TEST_REGIONS.primary);
    new SnsTopic(stack, "topic", { provider: providers.primary, name: "a", kmsMasterKeyId: key });
    new SqsQueue(stack, "queue", { provider: providers.primary, name: "q", kmsMasterKeyId: key });
    new SecretsmanagerSecret(stack, "secret", {
      provider: providers.primary,
      name: "db",
      kmsKeyId: key,
      replica: [{ region: TEST_REGIONS.secondary, kmsKeyId: keyArn(TEST_REGIONS.secondary) }],
    });
    new BackupVault(stack, "vault", { provider: providers.primary, name: "v", kmsKeyArn: key });
    expect(violationsOf("SS-KMS-2", stack)).toEqual([]);
  });
});
