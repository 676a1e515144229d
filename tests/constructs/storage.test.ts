import { describe, expect, it } from "vitest";
import type { RegionRole } from "../../src/config/schema";
import { Storage } from "../../src/constructs/storage";
import {
  dataSourceAt,
  listResources,
  policyStatements,
  resourceAt,
  stackWithProviders,
  synth,
  TEST_REGIONS,
} from "../support/synth";

const KEYS = {
  primary: "arn:aws:kms:us-east-2:111111111111:key/primary",
  secondary: "arn:aws:kms:us-west-2:111111111111:key/secondary",
};

function buildStorage(regions: Readonly<Record<RegionRole, string>> = TEST_REGIONS) {
  const { stack, providers } = stackWithProviders();
  const storage = new Storage(stack, "storage", {
    namePrefix: "shop-test",
    accountId: "111111111111",
    primary: { provider: providers.primary, region: regions.primary, kmsKeyArn: KEYS.primary },
    secondary: {
      provider: providers.secondary,
      region: regions.secondary,
      kmsKeyArn: KEYS.secondary,
    },
    noncurrentVersionRetentionDays: 45,
    accessLogRetentionDays: 120,
  });
  return { stack, storage };
}

function synthStorage() {
  return synth(buildStorage().stack);
}

const ELB_LOG_OBJECTS = (role: RegionRole) =>
  `arn:aws:s3:::shop-test-${role}-access-logs-111111111111/load-balancer/AWSLogs/111111111111/*`;

describe("Storage", () => {
  const json = synthStorage();

  it("creates the assets bucket in the primary and its replica in the secondary region", () => {
    expect(resourceAt(json, "aws_s3_bucket", "primary-assets/bucket")).toMatchObject({
      bucket: "shop-test-primary-assets-111111111111",
      provider: "aws.primary",
      force_destroy: false,
    });
    expect(resourceAt(json, "aws_s3_bucket", "secondary-assets/bucket")).toMatchObject({
      bucket: "shop-test-secondary-assets-111111111111",
      provider: "aws.secondary",
    });
  });

  it("versions, encrypts with the region's KMS key and blocks public access on both assets buckets", () => {
    for (const role of ["primary", "secondary"] as const) {
      expect(
        resourceAt(json, "aws_s3_bucket_versioning", `${role}-assets/versioning`),
      ).toMatchObject({
        versioning_configuration: { status: "Enabled" },
      });
      expect(
        resourceAt(
          json,
          "aws_s3_bucket_server_side_encryption_configuration",
          `${role}-assets/encryption`,
        ),
      ).toMatchObject({
        rule: [
          {
            apply_server_side_encryption_by_default: {
              sse_algorithm: "aws:kms",
              kms_master_key_id: KEYS[role],
            },
            bucket_key_enabled: true,
          },
        ],
      });
      expect(
        resourceAt(json, "aws_s3_bucket_public_access_block", `${role}-assets/public-access-block`),
      ).toMatchObject({
        block_public_acls: true,
        block_public_policy: true,
        ignore_public_acls: true,
        restrict_public_buckets: true,
      });
    }
  });

  it("denies every request that does not use TLS", () => {
    const [deny] = policyStatements(json, "primary-assets/policy-document");
    expect(deny).toMatchObject({
      effect: "Deny",
      actions: ["s3:*"],
      principals: [{ type: "*", identifiers: ["*"] }],
      condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
    });
  });

  it("expires noncurrent versions after the configured days", () => {
    expect(
      resourceAt(json, "aws_s3_bucket_lifecycle_configuration", "primary-assets/lifecycle"),
    ).toMatchObject({
      rule: [
        {
          id: "expire-noncurrent-versions",
          status: "Enabled",
          filter: [{ prefix: "" }],
          noncurrent_version_expiration: [{ noncurrent_days: 45 }],
          abort_incomplete_multipart_upload: [{ days_after_initiation: 7 }],
        },
      ],
    });
  });

  it("logs access to an SSE-S3 log bucket in the same region that only S3 log delivery may write", () => {
    expect(
      resourceAt(json, "aws_s3_bucket_logging", "primary-assets/access-logging"),
    ).toMatchObject({
      target_prefix: "assets/",
      target_bucket: expect.stringContaining("primary-access-logs_bucket"),
    });
    expect(
      resourceAt(
        json,
        "aws_s3_bucket_server_side_encryption_configuration",
        "primary-access-logs/encryption",
      ),
    ).toMatchObject({
      rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: "AES256" } }],
    });
    const lifecycle = resourceAt(
      json,
      "aws_s3_bucket_lifecycle_configuration",
      "primary-access-logs/lifecycle",
    );
    expect(lifecycle.rule).toContainEqual(
      expect.objectContaining({ id: "expire-current-objects", expiration: [{ days: 120 }] }),
    );
    const delivery = policyStatements(json, "primary-access-logs/policy-document")[1];
    expect(delivery).toMatchObject({
      actions: ["s3:PutObject"],
      principals: [{ type: "Service", identifiers: ["logging.s3.amazonaws.com"] }],
    });
    expect(delivery.condition).toContainEqual({
      test: "ArnLike",
      variable: "aws:SourceArn",
      values: ["arn:aws:s3:::shop-test-primary-assets-111111111111"],
    });
  });

  it("lets ELB write load balancer access logs under load-balancer/, as the regional account in regions older than August 2022", () => {
    for (const role of ["primary", "secondary"] as const) {
      const statements = policyStatements(json, `${role}-access-logs/policy-document`);
      const bySid = Object.fromEntries(statements.map((s) => [s.sid, s]));
      expect(bySid.AllowLoadBalancerAccessLogDelivery).toEqual({
        sid: "AllowLoadBalancerAccessLogDelivery",
        actions: ["s3:PutObject"],
        principals: [
          { type: "Service", identifiers: ["logdelivery.elasticloadbalancing.amazonaws.com"] },
        ],
        resources: [ELB_LOG_OBJECTS(role)],
      });
      expect(bySid.AllowLoadBalancerAccessLogDeliveryByRegionalAccount).toEqual({
        sid: "AllowLoadBalancerAccessLogDeliveryByRegionalAccount",
        actions: ["s3:PutObject"],
        principals: [
          {
            type: "AWS",
            identifiers: [expect.stringMatching(/^\$\{data\.aws_elb_service_account\.storage_/)],
          },
        ],
        resources: [ELB_LOG_OBJECTS(role)],
      });
      expect(dataSourceAt(json, "aws_elb_service_account", `${role}-elb-account`).provider).toBe(
        `aws.${role}`,
      );
      // The TLS-only deny and the S3 server access log delivery stay in the same policy.
      expect(statements.map((s) => s.sid)).toEqual([
        "DenyInsecureTransport",
        "AllowS3ServerAccessLogDelivery",
        "AllowLoadBalancerAccessLogDelivery",
        "AllowLoadBalancerAccessLogDeliveryByRegionalAccount",
      ]);
    }
  });

  it("grants only the ELB service principal in regions launched from August 2022, which have no ELB account", () => {
    const newer = synth(
      buildStorage({ primary: "ap-southeast-4", secondary: "mx-central-1" }).stack,
    );
    expect(newer.data).not.toHaveProperty("aws_elb_service_account");
    for (const role of ["primary", "secondary"] as const) {
      expect(
        policyStatements(newer, `${role}-access-logs/policy-document`).map((s) => s.sid),
      ).toEqual([
        "DenyInsecureTransport",
        "AllowS3ServerAccessLogDelivery",
        "AllowLoadBalancerAccessLogDelivery",
      ]);
    }
  });

  it("exposes each region's load balancer log target, depending on the bucket policy", () => {
    const { storage } = buildStorage();
    const target = storage.loadBalancerAccessLogs.secondary;
    expect(target.prefix).toBe("load-balancer");
    expect(target.bucketName).toBe(storage.accessLogs.secondary.bucketName);
    expect(target.dependsOn).toEqual([storage.accessLogs.secondary.policy]);
  });

  it("replicates primary -> secondary with RTC, metrics, delete markers and KMS re-encryption", () => {
    const replication = resourceAt(
      json,
      "aws_s3_bucket_replication_configuration",
      "replication-to-secondary/configuration",
    );
    expect(replication.provider).toBe("aws.primary");
    expect(replication.bucket).toContain("primary-assets_bucket");
    expect(replication.rule).toEqual([
      {
        id: "replicate-everything",
        status: "Enabled",
        priority: 1,
        filter: { prefix: "" },
        delete_marker_replication: { status: "Enabled" },
        source_selection_criteria: {
          sse_kms_encrypted_objects: { status: "Enabled" },
          replica_modifications: { status: "Enabled" },
        },
        destination: {
          bucket: expect.stringContaining("secondary-assets_bucket"),
          storage_class: "STANDARD",
          encryption_configuration: { replica_kms_key_id: KEYS.secondary },
          replication_time: { status: "Enabled", time: { minutes: 15 } },
          metrics: { status: "Enabled", event_threshold: { minutes: 15 } },
        },
      },
    ]);
    // S3 rejects replication until both buckets are versioned.
    expect(replication.depends_on).toEqual([
      expect.stringContaining("primary-assets_versioning"),
      expect.stringContaining("secondary-assets_versioning"),
    ]);
  });

  it("replicates secondary -> primary too, so writes made while failed over come back", () => {
    const reverse = resourceAt(
      json,
      "aws_s3_bucket_replication_configuration",
      "replication-to-primary/configuration",
    );
    expect(reverse.provider).toBe("aws.secondary");
    expect(reverse.bucket).toContain("secondary-assets_bucket");
    expect((reverse.rule as { destination: { bucket: string } }[])[0].destination.bucket).toContain(
      "primary-assets_bucket",
    );
  });

  it("gives each replication direction a role that reads only its source and writes only its destination", () => {
    const statements = policyStatements(json, "replication-to-secondary/permissions");
    const bySid = Object.fromEntries(statements.map((s) => [s.sid, s]));
    expect(bySid.ReadSourceObjects.resources).toEqual([
      expect.stringMatching(/primary-assets_bucket.*\.arn\}\/\*$/),
    ]);
    expect(bySid.WriteDestinationObjects.resources).toEqual([
      expect.stringMatching(/secondary-assets_bucket.*\.arn\}\/\*$/),
    ]);
    expect(bySid.DecryptSource).toMatchObject({
      actions: ["kms:Decrypt"],
      resources: [KEYS.primary],
    });
    expect(bySid.EncryptDestination).toMatchObject({ resources: [KEYS.secondary] });
    for (const statement of statements) {
      expect(statement.actions.filter((a) => a.includes("*"))).toEqual([]);
      expect(statement.resources).not.toContain("*");
    }
    const [trust] = policyStatements(json, "replication-to-secondary/trust");
    expect(trust.principals).toEqual([{ type: "Service", identifiers: ["s3.amazonaws.com"] }]);
    // IfExists: S3 is not documented to send these keys, and a strict operator on a missing
    // key would deny the AssumeRole and stop replication.
    expect(trust.condition).toEqual([
      { test: "StringEqualsIfExists", variable: "aws:SourceAccount", values: ["111111111111"] },
      {
        test: "ArnLikeIfExists",
        variable: "aws:SourceArn",
        values: [expect.stringMatching(/primary-assets_bucket.*\.arn\}$/)],
      },
    ]);
    expect(json.data).not.toHaveProperty("aws_caller_identity");
    expect(
      listResources(json, "aws_iam_role")
        .map((r) => r.name)
        .sort(),
    ).toEqual([
      "shop-test-assets-replication-to-primary",
      "shop-test-assets-replication-to-secondary",
    ]);
  });

  it("fails when both regions are the same", () => {
    const { stack, providers } = stackWithProviders();
    const region = { provider: providers.primary, region: "us-east-2", kmsKeyArn: KEYS.primary };
    expect(
      () =>
        new Storage(stack, "storage", {
          namePrefix: "shop-test",
          accountId: "111111111111",
          primary: region,
          secondary: region,
        }),
    ).toThrow(
      'Invalid props for test/storage:\n  - secondary.region: got "us-east-2"; expected a region other than primary.region (us-east-2)',
    );
  });
});
