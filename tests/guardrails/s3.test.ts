import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { describe, expect, it } from "vitest";
import { SecureBucket } from "../../src/constructs/secure-bucket";
import { Storage } from "../../src/constructs/storage";
import { keyArn, named, violation, violationsOf } from "../support/guardrails";
import { stackWithProviders, TEST_REGIONS } from "../support/synth";

/** A stack with one bare bucket (no settings resources) in the primary region. */
function bareBucket(props: { forceDestroy?: boolean } = {}) {
  const { stack, providers } = stackWithProviders();
  const bucket = new S3Bucket(stack, "plain", {
    provider: providers.primary,
    bucket: "plain-bucket",
    ...props,
  });
  return { stack, providers, bucket };
}

/** A stack with one SecureBucket (the project's compliant bucket) using a KMS key. */
function secureBucket(props: { forceDestroy?: boolean } = {}) {
  const { stack, providers } = stackWithProviders();
  new SecureBucket(stack, "data", {
    provider: providers.primary,
    bucketName: "data-bucket",
    kmsKeyArn: keyArn(TEST_REGIONS.primary),
    noncurrentVersionRetentionDays: 30,
    ...props,
  });
  return stack;
}

describe("SS-S3-1 buckets encrypt with a KMS key", () => {
  it("fails a bucket without an encryption configuration", () => {
    expect(violationsOf("SS-S3-1", bareBucket().stack)).toEqual([
      violation(
        "SS-S3-1",
        "test/plain",
        "has no aws_s3_bucket_server_side_encryption_configuration, so objects get S3-managed keys (SSE-S3), not a KMS key",
      ),
    ]);
  });

  it.each(
    named([
      {
        name: "SSE-S3 on a bucket that receives no access logs",
        sseAlgorithm: "AES256",
        // The bucket named by its id ...
        bucketOf: (bucket: S3Bucket) => bucket.id,
        problem:
          "encrypts with SSE-S3 (AES256) but receives no server access logs; only access-log buckets may use SSE-S3",
      },
      {
        name: "aws:kms without a key (the AWS-managed aws/s3 key)",
        sseAlgorithm: "aws:kms",
        // ... or by its name.
        bucketOf: (bucket: S3Bucket) => bucket.bucket,
        problem:
          'encrypts with "aws:kms" but names no kms_master_key_id, so S3 uses the AWS-managed aws/s3 key',
      },
    ]),
  )("fails %s", (_name, { sseAlgorithm, bucketOf, problem }) => {
    const { stack, providers, bucket } = bareBucket();
    new S3BucketServerSideEncryptionConfigurationA(stack, "encryption", {
      provider: providers.primary,
      bucket: bucketOf(bucket),
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm } }],
    });
    expect(violationsOf("SS-S3-1", stack)).toEqual([violation("SS-S3-1", "test/plain", problem)]);
  });

  it("passes SSE-KMS buckets, and SSE-S3 on the access-log buckets of Storage", () => {
    expect(violationsOf("SS-S3-1", secureBucket())).toEqual([]);
    const { stack, providers } = stackWithProviders();
    new Storage(stack, "storage", {
      namePrefix: "shop-test",
      accountId: "111111111111",
      primary: {
        provider: providers.primary,
        region: TEST_REGIONS.primary,
        kmsKeyArn: keyArn(TEST_REGIONS.primary),
      },
      secondary: {
        provider: providers.secondary,
        region: TEST_REGIONS.secondary,
        kmsKeyArn: keyArn(TEST_REGIONS.secondary),
      },
      noncurrentVersionRetentionDays: 30,
      accessLogRetentionDays: 90,
    });
    expect(violationsOf("SS-S3-1", stack)).toEqual([]);
  });
});

describe("SS-S3-2 buckets block all public access", () => {
  it("fails a bucket without a public access block", () => {
    expect(violationsOf("SS-S3-2", bareBucket().stack)).toEqual([
      violation("SS-S3-2", "test/plain", "has no aws_s3_bucket_public_access_block"),
    ]);
  });

  it("fails a public access block with settings off", () => {
    const { stack, providers, bucket } = bareBucket();
    new S3BucketPublicAccessBlock(stack, "public-access-block", {
      provider: providers.primary,
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: false,
      ignorePublicAcls: true,
    });
    expect(violationsOf("SS-S3-2", stack)).toEqual([
      violation(
        "SS-S3-2",
        "test/plain",
        "has a public access block with block_public_policy, restrict_public_buckets not true",
      ),
    ]);
  });

  it("passes a SecureBucket", () => {
    expect(violationsOf("SS-S3-2", secureBucket())).toEqual([]);
  });
});

describe("SS-S3-3 buckets deny requests without TLS", () => {
  it("fails a bucket without a policy", () => {
    expect(violationsOf("SS-S3-3", bareBucket().stack)).toEqual([
      violation(
        "SS-S3-3",
        "test/plain",
        "has no bucket policy, so requests over plain HTTP are allowed",
      ),
    ]);
  });

  it("fails a JSON policy that only allows", () => {
    const { stack, providers, bucket } = bareBucket();
    new S3BucketPolicy(stack, "policy", {
      provider: providers.primary,
      bucket: bucket.id,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { AWS: "arn:aws:iam::111111111111:root" },
            Action: "s3:GetObject",
            Resource: `${bucket.arn}/*`,
          },
        ],
      }),
    });
    expect(violationsOf("SS-S3-3", stack)).toEqual([
      violation(
        "SS-S3-3",
        "test/plain",
        'has a bucket policy without a Deny of "s3:*" on its objects when "aws:SecureTransport" is "false"',
      ),
    ]);
  });

  it("passes a SecureBucket (policy document) and a JSON policy with the deny", () => {
    expect(violationsOf("SS-S3-3", secureBucket())).toEqual([]);
    const { stack, providers, bucket } = bareBucket();
    new S3BucketPolicy(stack, "policy", {
      provider: providers.primary,
      bucket: bucket.id,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [bucket.arn, `${bucket.arn}/*`],
            Condition: { Bool: { "aws:SecureTransport": false } },
          },
        ],
      }),
    });
    expect(violationsOf("SS-S3-3", stack)).toEqual([]);
  });
});

describe("SS-S3-4 buckets are versioned", () => {
  it("fails a bucket with versioning suspended", () => {
    const { stack, providers, bucket } = bareBucket();
    new S3BucketVersioningA(stack, "versioning", {
      provider: providers.primary,
      bucket: bucket.id,
      versioningConfiguration: { status: "Suspended" },
    });
    expect(violationsOf("SS-S3-4", stack)).toEqual([
      violation("SS-S3-4", "test/plain", 'has no aws_s3_bucket_versioning with status "Enabled"'),
    ]);
  });

  it("passes a SecureBucket", () => {
    expect(violationsOf("SS-S3-4", secureBucket())).toEqual([]);
  });
});

describe("SS-S3-5 production buckets are not force-destroyed", () => {
  it("fails force_destroy in production", () => {
    expect(
      violationsOf("SS-S3-5", secureBucket({ forceDestroy: true }), { production: true }),
    ).toEqual([
      violation(
        "SS-S3-5",
        "test/data/bucket",
        "sets force_destroy = true in production: a destroy deletes its objects",
      ),
    ]);
  });

  it("passes force_destroy outside production, and kept buckets in production", () => {
    expect(violationsOf("SS-S3-5", secureBucket({ forceDestroy: true }))).toEqual([]);
    expect(violationsOf("SS-S3-5", secureBucket(), { production: true })).toEqual([]);
  });
});
