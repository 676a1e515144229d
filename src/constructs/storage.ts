import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Construct } from "constructs";
import type { RegionRole } from "../config/schema";
import { ProblemCollector } from "../errors";
import { BucketReplication } from "./bucket-replication";
import { SecureBucket } from "./secure-bucket";

/** What storage needs to know about one region of the pair. */
export interface StorageRegion {
  readonly provider: AwsProvider;
  readonly region: string;
  /** The region's KMS key; the assets bucket is encrypted with it. */
  readonly kmsKeyArn: string;
}

export interface StorageProps {
  /** Prefix of every name, `<project>-<env>`; bucket names add role, purpose and account id. */
  readonly namePrefix: string;
  /** Account id, appended to bucket names to make them globally unique without a random suffix. */
  readonly accountId: string;
  readonly primary: StorageRegion;
  readonly secondary: StorageRegion;
  /** Days replaced or deleted object versions are kept. @default 30 */
  readonly noncurrentVersionRetentionDays?: number;
  /** Days S3 server access logs are kept. @default 90 */
  readonly accessLogRetentionDays?: number;
}

/**
 * The shop's assets bucket in the primary region and its replica in the secondary, each with an
 * access-log bucket beside it. Objects replicate primary -> secondary with Replication Time
 * Control, and secondary -> primary so that writes made while failed over flow back for failback.
 */
export class Storage extends Construct {
  /** The assets bucket of each region. */
  readonly assets: Readonly<Record<RegionRole, SecureBucket>>;
  /** The access-log bucket of each region. */
  readonly accessLogs: Readonly<Record<RegionRole, SecureBucket>>;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    const noncurrentVersionRetentionDays = props.noncurrentVersionRetentionDays ?? 30;
    const accessLogRetentionDays = props.accessLogRetentionDays ?? 90;
    const problems = new ProblemCollector();
    if (props.primary.region === props.secondary.region) {
      problems.add(
        "secondary.region",
        props.secondary.region,
        `a region other than primary.region (${props.primary.region})`,
      );
    }
    problems.throwIfAnyFor(this.node.path);

    const assets = {} as Record<RegionRole, SecureBucket>;
    const accessLogs = {} as Record<RegionRole, SecureBucket>;
    for (const role of ["primary", "secondary"] as const) {
      const { provider, kmsKeyArn } = props[role];
      const assetsBucketName = `${props.namePrefix}-${role}-assets-${props.accountId}`;
      accessLogs[role] = new SecureBucket(this, `${role}-access-logs`, {
        provider,
        bucketName: `${props.namePrefix}-${role}-access-logs-${props.accountId}`,
        // S3 server access logging cannot deliver to an SSE-KMS bucket; SSE-S3 is the only option.
        noncurrentVersionRetentionDays: 1,
        expirationDays: accessLogRetentionDays,
        additionalPolicyStatements: [
          {
            sid: "AllowS3ServerAccessLogDelivery",
            principals: [{ type: "Service", identifiers: ["logging.s3.amazonaws.com"] }],
            actions: ["s3:PutObject"],
            resources: [
              `arn:aws:s3:::${props.namePrefix}-${role}-access-logs-${props.accountId}/*`,
            ],
            condition: [
              { test: "StringEquals", variable: "aws:SourceAccount", values: [props.accountId] },
              {
                test: "ArnLike",
                variable: "aws:SourceArn",
                values: [`arn:aws:s3:::${assetsBucketName}`],
              },
            ],
          },
        ],
      });
      assets[role] = new SecureBucket(this, `${role}-assets`, {
        provider,
        bucketName: assetsBucketName,
        kmsKeyArn,
        noncurrentVersionRetentionDays,
        accessLogs: { bucketName: accessLogs[role].bucketName, prefix: "assets/" },
      });
    }
    this.assets = assets;
    this.accessLogs = accessLogs;

    const endpoint = (role: RegionRole) => ({
      bucket: assets[role],
      region: props[role].region,
      kmsKeyArn: props[role].kmsKeyArn,
    });
    new BucketReplication(this, "replication-to-secondary", {
      provider: props.primary.provider,
      roleName: `${props.namePrefix}-assets-replication-to-secondary`,
      source: endpoint("primary"),
      destination: endpoint("secondary"),
    });
    new BucketReplication(this, "replication-to-primary", {
      provider: props.secondary.provider,
      roleName: `${props.namePrefix}-assets-replication-to-primary`,
      source: endpoint("secondary"),
      destination: endpoint("primary"),
    });
  }
}
