import {
  DataAwsIamPolicyDocument,
  type DataAwsIamPolicyDocumentStatement,
} from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import {
  S3BucketLifecycleConfiguration,
  type S3BucketLifecycleConfigurationRule,
} from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketLoggingA } from "@cdktf/provider-aws/lib/s3-bucket-logging";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { Construct } from "constructs";
import { S3_BUCKET_NAME } from "../aws-formats";
import { ProblemCollector } from "../errors";

/** Where a bucket's server access logs go. */
export interface AccessLogTarget {
  /** Name of the log bucket (it must allow `logging.s3.amazonaws.com` to write). */
  readonly bucketName: string;
  /** Key prefix for this bucket's logs, ending in `/`. */
  readonly prefix: string;
}

export interface SecureBucketProps {
  /** Provider of the region the bucket lives in. */
  readonly provider: AwsProvider;
  /** Globally unique bucket name. */
  readonly bucketName: string;
  /**
   * KMS key for default encryption (SSE-KMS with an S3 bucket key).
   * @default - SSE-S3 (AES256). Only for S3 server access log buckets, which S3 cannot deliver
   * to under SSE-KMS.
   */
  readonly kmsKeyArn?: string;
  /** Days a noncurrent object version is kept before it expires. */
  readonly noncurrentVersionRetentionDays: number;
  /**
   * Days after which current objects expire (for log buckets).
   * @default - current objects never expire
   */
  readonly expirationDays?: number;
  /**
   * Server access logging for this bucket.
   * @default - no access logging (use for the log bucket itself)
   */
  readonly accessLogs?: AccessLogTarget;
  /**
   * Statements added to the bucket policy next to the TLS-only deny.
   * @default - none
   */
  readonly additionalPolicyStatements?: readonly DataAwsIamPolicyDocumentStatement[];
  /**
   * Whether `terraform destroy` may delete a bucket that still holds objects.
   * @default false - data buckets are kept; empty them deliberately first
   */
  readonly forceDestroy?: boolean;
}

/**
 * An S3 bucket with the baseline every bucket here needs: versioning, default encryption, all
 * public access blocked, ACLs disabled, a bucket policy that denies plain-HTTP requests, and a
 * lifecycle that expires old versions and abandoned multipart uploads.
 */
export class SecureBucket extends Construct {
  readonly bucket: S3Bucket;
  readonly bucketName: string;
  readonly bucketArn: string;
  /** Replication requires versioning to exist first; depend on this. */
  readonly versioning: S3BucketVersioningA;
  /**
   * The bucket policy. Services that check their write access when they are configured (ELB
   * access logs) must depend on it.
   */
  readonly policy: S3BucketPolicy;

  constructor(scope: Construct, id: string, props: SecureBucketProps) {
    super(scope, id);
    validate(this.node.path, props);
    const { provider } = props;

    this.bucket = new S3Bucket(this, "bucket", {
      provider,
      bucket: props.bucketName,
      forceDestroy: props.forceDestroy ?? false,
    });
    this.bucketName = this.bucket.bucket;
    this.bucketArn = this.bucket.arn;

    this.versioning = new S3BucketVersioningA(this, "versioning", {
      provider,
      bucket: this.bucket.id,
      versioningConfiguration: { status: "Enabled" },
    });

    new S3BucketServerSideEncryptionConfigurationA(this, "encryption", {
      provider,
      bucket: this.bucket.id,
      rule: [
        props.kmsKeyArn
          ? {
              applyServerSideEncryptionByDefault: {
                sseAlgorithm: "aws:kms",
                kmsMasterKeyId: props.kmsKeyArn,
              },
              // A bucket key cuts KMS requests (and their cost) by ~99% for busy buckets.
              bucketKeyEnabled: true,
            }
          : { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
      ],
    });

    const publicAccessBlock = new S3BucketPublicAccessBlock(this, "public-access-block", {
      provider,
      bucket: this.bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });

    new S3BucketOwnershipControls(this, "ownership", {
      provider,
      bucket: this.bucket.id,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });

    const policy = new DataAwsIamPolicyDocument(this, "policy-document", {
      provider,
      statement: [
        {
          sid: "DenyInsecureTransport",
          effect: "Deny",
          principals: [{ type: "*", identifiers: ["*"] }],
          actions: ["s3:*"],
          resources: [this.bucket.arn, `${this.bucket.arn}/*`],
          condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
        },
        ...(props.additionalPolicyStatements ?? []),
      ],
    });
    this.policy = new S3BucketPolicy(this, "policy", {
      provider,
      bucket: this.bucket.id,
      policy: policy.json,
      // S3 rejects a policy write while the public access block is still being applied.
      dependsOn: [publicAccessBlock],
    });

    const rules: S3BucketLifecycleConfigurationRule[] = [
      {
        id: "expire-noncurrent-versions",
        status: "Enabled",
        // `prefix = ""` rather than an empty filter block: provider 5.90+ warns on `filter {}`.
        filter: [{ prefix: "" }],
        noncurrentVersionExpiration: [{ noncurrentDays: props.noncurrentVersionRetentionDays }],
        abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
      },
    ];
    if (props.expirationDays !== undefined) {
      rules.push({
        id: "expire-current-objects",
        status: "Enabled",
        filter: [{ prefix: "" }],
        expiration: [{ days: props.expirationDays }],
      });
    }
    new S3BucketLifecycleConfiguration(this, "lifecycle", {
      provider,
      bucket: this.bucket.id,
      rule: rules,
      dependsOn: [this.versioning],
    });

    if (props.accessLogs) {
      new S3BucketLoggingA(this, "access-logging", {
        provider,
        bucket: this.bucket.id,
        targetBucket: props.accessLogs.bucketName,
        targetPrefix: props.accessLogs.prefix,
      });
    }
  }

  /** Object ARN pattern for IAM statements (`arn:aws:s3:::bucket/*`). */
  get objectsArn(): string {
    return `${this.bucketArn}/*`;
  }
}

function validate(path: string, props: SecureBucketProps): void {
  const problems = new ProblemCollector();
  problems.pattern("bucketName", props.bucketName, S3_BUCKET_NAME);
  for (const key of ["noncurrentVersionRetentionDays", "expirationDays"] as const) {
    const days = props[key];
    if (days !== undefined && (!Number.isInteger(days) || days < 1)) {
      problems.add(key, days, "a whole number of days >= 1");
    }
  }
  if (props.accessLogs && !props.accessLogs.prefix.endsWith("/")) {
    problems.add(
      "accessLogs.prefix",
      props.accessLogs.prefix,
      "a key prefix ending in '/', e.g. 'assets/'",
    );
  }
  problems.throwIfAnyFor(path);
}
