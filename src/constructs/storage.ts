import { DataAwsElbServiceAccount } from "@cdktf/provider-aws/lib/data-aws-elb-service-account";
import type { DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { Token } from "cdktf";
import { Construct } from "constructs";
import {
  otherRole,
  perRole,
  REGION_ROLES,
  type RegionRole,
} from "../../functions/shared/region-roles";
import { ProblemCollector } from "../errors";
import { BucketReplication } from "./bucket-replication";
import type { LoadBalancerAccessLogs } from "./compute";
import type { RegionContext } from "./region-context";
import { SecureBucket } from "./secure-bucket";

/** What storage needs to know about one region of the pair. */
export interface StorageRegion extends RegionContext {
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

/** Key prefix of the load balancers' access logs in the access-log bucket. */
export const LOAD_BALANCER_LOG_PREFIX = "load-balancer";

/**
 * Regions launched before August 2022, where Elastic Load Balancing writes access logs as a
 * regional AWS account that the bucket policy must name; newer regions use the
 * logdelivery.elasticloadbalancing.amazonaws.com service principal
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html).
 * These are the commercial regions the aws_elb_service_account data source knows an account
 * for; it fails with "unsupported AWS Region" anywhere else
 * (hashicorp/terraform-provider-aws internal/service/elb/service_account_data_source.go).
 */
export const ELB_ACCOUNT_REGIONS: readonly string[] = [
  "af-south-1",
  "ap-east-1",
  "ap-northeast-1",
  "ap-northeast-2",
  "ap-northeast-3",
  "ap-south-1",
  "ap-southeast-1",
  "ap-southeast-2",
  "ap-southeast-3",
  "ca-central-1",
  "eu-central-1",
  "eu-north-1",
  "eu-south-1",
  "eu-west-1",
  "eu-west-2",
  "eu-west-3",
  "me-south-1",
  "sa-east-1",
  "us-east-1",
  "us-east-2",
  "us-west-1",
  "us-west-2",
];

/**
 * The shop's assets bucket in the primary region and its replica in the secondary, each with an
 * access-log bucket beside it. Objects replicate primary -> secondary with Replication Time
 * Control, and secondary -> primary so that writes made while failed over flow back for failback.
 *
 * The access-log bucket of each region also takes the region's load balancer access logs, under
 * `load-balancer/` ({@link Storage.loadBalancerAccessLogs}): it is SSE-S3, which both S3 server
 * access logs and ALB access logs require, and its policy lets ELB write there.
 */
export class Storage extends Construct {
  /** The assets bucket of each region. */
  readonly assets: Readonly<Record<RegionRole, SecureBucket>>;
  /** The access-log bucket of each region. */
  readonly accessLogs: Readonly<Record<RegionRole, SecureBucket>>;
  /**
   * Where each region's load balancer writes its access logs: the access-log bucket, the
   * `load-balancer` prefix, and the bucket policy that grants ELB delivery to depend on.
   */
  readonly loadBalancerAccessLogs: Readonly<Record<RegionRole, LoadBalancerAccessLogs>>;

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

    const buckets = perRole((role) => {
      const { provider, kmsKeyArn } = props[role];
      const assetsBucketName = `${props.namePrefix}-${role}-assets-${props.accountId}`;
      const accessLogBucketName = `${props.namePrefix}-${role}-access-logs-${props.accountId}`;
      const accessLogs = new SecureBucket(this, `${role}-access-logs`, {
        provider,
        bucketName: accessLogBucketName,
        // S3 server access logging cannot deliver to an SSE-KMS bucket, nor can ALB access
        // logging; SSE-S3 is the only option for both.
        noncurrentVersionRetentionDays: 1,
        expirationDays: accessLogRetentionDays,
        additionalPolicyStatements: [
          {
            sid: "AllowS3ServerAccessLogDelivery",
            principals: [{ type: "Service", identifiers: ["logging.s3.amazonaws.com"] }],
            actions: ["s3:PutObject"],
            resources: [`arn:aws:s3:::${accessLogBucketName}/*`],
            condition: [
              { test: "StringEquals", variable: "aws:SourceAccount", values: [props.accountId] },
              {
                test: "ArnLike",
                variable: "aws:SourceArn",
                values: [`arn:aws:s3:::${assetsBucketName}`],
              },
            ],
          },
          ...this.loadBalancerLogDelivery(role, props[role], accessLogBucketName, props.accountId),
        ],
      });
      const loadBalancerAccessLogs: LoadBalancerAccessLogs = {
        bucketName: accessLogs.bucketName,
        prefix: LOAD_BALANCER_LOG_PREFIX,
        // The load balancer checks its write access when access logging is turned on.
        dependsOn: [accessLogs.policy],
      };
      const assets = new SecureBucket(this, `${role}-assets`, {
        provider,
        bucketName: assetsBucketName,
        kmsKeyArn,
        noncurrentVersionRetentionDays,
        accessLogs: { bucketName: accessLogs.bucketName, prefix: "assets/" },
      });
      return { assets, accessLogs, loadBalancerAccessLogs };
    });
    const assets = perRole((role) => buckets[role].assets);
    this.assets = assets;
    this.accessLogs = perRole((role) => buckets[role].accessLogs);
    this.loadBalancerAccessLogs = perRole((role) => buckets[role].loadBalancerAccessLogs);

    const endpoint = (role: RegionRole) => ({
      bucket: assets[role],
      region: props[role].region,
      kmsKeyArn: props[role].kmsKeyArn,
    });
    // Both ways: to the secondary, and back to the primary for failback.
    for (const role of REGION_ROLES) {
      const other = otherRole(role);
      new BucketReplication(this, `replication-to-${other}`, {
        provider: props[role].provider,
        roleName: `${props.namePrefix}-assets-replication-to-${other}`,
        accountId: props.accountId,
        source: endpoint(role),
        destination: endpoint(other),
      });
    }
  }

  /**
   * Bucket policy statements that let Elastic Load Balancing write this region's load balancer
   * access logs under `load-balancer/AWSLogs/<account>/`
   * (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html).
   * The service principal serves regions launched from August 2022; older regions deliver as
   * the regional ELB account, so there both are granted. ELB writes under the account that owns
   * the load balancer, so the account in the key limits writes to this account's load balancers.
   */
  private loadBalancerLogDelivery(
    role: RegionRole,
    region: StorageRegion,
    bucketName: string,
    accountId: string,
  ): DataAwsIamPolicyDocumentStatement[] {
    const logObjects = `arn:aws:s3:::${bucketName}/${LOAD_BALANCER_LOG_PREFIX}/AWSLogs/${accountId}/*`;
    const statements: DataAwsIamPolicyDocumentStatement[] = [
      {
        sid: "AllowLoadBalancerAccessLogDelivery",
        principals: [
          { type: "Service", identifiers: ["logdelivery.elasticloadbalancing.amazonaws.com"] },
        ],
        actions: ["s3:PutObject"],
        resources: [logObjects],
      },
    ];
    if (!Token.isUnresolved(region.region) && ELB_ACCOUNT_REGIONS.includes(region.region)) {
      const elbAccount = new DataAwsElbServiceAccount(this, `${role}-elb-account`, {
        provider: region.provider,
      });
      statements.push({
        sid: "AllowLoadBalancerAccessLogDeliveryByRegionalAccount",
        principals: [{ type: "AWS", identifiers: [elbAccount.arn] }],
        actions: ["s3:PutObject"],
        resources: [logObjects],
      });
    }
    return statements;
  }
}
