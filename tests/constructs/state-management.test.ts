import { describe, expect, it } from "vitest";
import { StateManagement } from "../../src/constructs/state-management";
import {
  listResources,
  policyStatements,
  resourceAt,
  stackWithProviders,
  synth,
  TEST_REGIONS,
} from "../support/synth";

const KEYS = {
  primary: "arn:aws:kms:us-east-2:111111111111:key/state-primary",
  replica: "arn:aws:kms:us-west-2:111111111111:key/state-replica",
};

function synthStateManagement() {
  const { stack, providers } = stackWithProviders();
  new StateManagement(stack, "state", {
    namePrefix: "shop-tfstate",
    lockTableName: "shop-tfstate-lock",
    primary: {
      provider: providers.primary,
      region: TEST_REGIONS.primary,
      kmsKeyArn: KEYS.primary,
      bucketName: "shop-tfstate-example",
    },
    replica: {
      provider: providers.secondary,
      region: TEST_REGIONS.secondary,
      kmsKeyArn: KEYS.replica,
      bucketName: "shop-tfstate-example-replica",
    },
  });
  return synth(stack);
}

describe("StateManagement", () => {
  const json = synthStateManagement();

  it("creates a versioned, KMS-encrypted, private state bucket and its replica in the other region", () => {
    expect(resourceAt(json, "aws_s3_bucket", "state/state-bucket/bucket")).toMatchObject({
      bucket: "shop-tfstate-example",
      provider: "aws.primary",
      force_destroy: false,
    });
    expect(resourceAt(json, "aws_s3_bucket", "state/replica-state-bucket/bucket")).toMatchObject({
      bucket: "shop-tfstate-example-replica",
      provider: "aws.secondary",
    });
    for (const bucket of ["state-bucket", "replica-state-bucket"]) {
      expect(resourceAt(json, "aws_s3_bucket_versioning", `${bucket}/versioning`)).toMatchObject({
        versioning_configuration: { status: "Enabled" },
      });
      expect(
        resourceAt(json, "aws_s3_bucket_public_access_block", `${bucket}/public-access-block`),
      ).toMatchObject({
        block_public_acls: true,
        block_public_policy: true,
        ignore_public_acls: true,
        restrict_public_buckets: true,
      });
      expect(policyStatements(json, `${bucket}/policy-document`)[0].condition).toEqual([
        { test: "Bool", variable: "aws:SecureTransport", values: ["false"] },
      ]);
    }
    expect(
      resourceAt(
        json,
        "aws_s3_bucket_server_side_encryption_configuration",
        "state-bucket/encryption",
      ),
    ).toMatchObject({
      rule: [
        {
          apply_server_side_encryption_by_default: {
            sse_algorithm: "aws:kms",
            kms_master_key_id: KEYS.primary,
          },
        },
      ],
    });
  });

  it("keeps old state versions for 90 days by default", () => {
    expect(
      resourceAt(json, "aws_s3_bucket_lifecycle_configuration", "state-bucket/lifecycle"),
    ).toMatchObject({
      rule: [{ noncurrent_version_expiration: [{ noncurrent_days: 90 }] }],
    });
  });

  it("replicates the state to the replica bucket and back", () => {
    const toReplica = resourceAt(
      json,
      "aws_s3_bucket_replication_configuration",
      "replication-to-replica/configuration",
    );
    expect(toReplica.provider).toBe("aws.primary");
    expect(toReplica.rule).toMatchObject([
      {
        delete_marker_replication: { status: "Enabled" },
        destination: {
          bucket: expect.stringContaining("aws_s3_bucket.state_replica-state-bucket"),
          encryption_configuration: { replica_kms_key_id: KEYS.replica },
        },
      },
    ]);
    const toPrimary = resourceAt(
      json,
      "aws_s3_bucket_replication_configuration",
      "replication-to-primary/configuration",
    );
    expect(toPrimary.provider).toBe("aws.secondary");
  });

  it("creates the lock table keyed by LockID, encrypted, with PITR and a replica in the other region", () => {
    expect(listResources(json, "aws_dynamodb_table")).toEqual([
      expect.objectContaining({
        name: "shop-tfstate-lock",
        hash_key: "LockID",
        attribute: [{ name: "LockID", type: "S" }],
        billing_mode: "PAY_PER_REQUEST",
        point_in_time_recovery: { enabled: true },
        server_side_encryption: { enabled: true, kms_key_arn: KEYS.primary },
        deletion_protection_enabled: true,
        stream_enabled: true,
        stream_view_type: "NEW_AND_OLD_IMAGES",
        replica: [
          { region_name: "us-west-2", kms_key_arn: KEYS.replica, point_in_time_recovery: true },
        ],
        provider: "aws.primary",
      }),
    ]);
  });

  it("scopes each replication role's trust to its source bucket, looking the account up when none is given", () => {
    const [trust] = policyStatements(json, "replication-to-replica/trust");
    expect(trust.condition).toEqual([
      {
        test: "StringEqualsIfExists",
        variable: "aws:SourceAccount",
        values: [
          expect.stringMatching(
            /data\.aws_caller_identity\.state_replication-to-replica_account_.*\.account_id\}$/,
          ),
        ],
      },
      {
        test: "ArnLikeIfExists",
        variable: "aws:SourceArn",
        values: [expect.stringMatching(/aws_s3_bucket\.state_state-bucket_[0-9A-F]{8}\.arn\}$/)],
      },
    ]);
  });

  it("fails when the replica is in the same region under the same name", () => {
    const { stack, providers } = stackWithProviders();
    const region = {
      provider: providers.primary,
      region: "us-east-2",
      kmsKeyArn: KEYS.primary,
      bucketName: "shop-tfstate-example",
    };
    expect(
      () =>
        new StateManagement(stack, "state", {
          namePrefix: "shop-tfstate",
          lockTableName: "lock",
          primary: region,
          replica: region,
        }),
    ).toThrow(
      [
        "Invalid props for test/state:",
        '  - replica.region: got "us-east-2"; expected a region other than primary.region (us-east-2), so state survives a regional outage',
        '  - replica.bucketName: got "shop-tfstate-example"; expected a name other than primary.bucketName (bucket names are global)',
      ].join("\n"),
    );
  });
});
