import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { S3BucketReplicationConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-replication-configuration";
import { Construct } from "constructs";
import { ProblemCollector } from "../errors";
import type { SecureBucket } from "./secure-bucket";
import { confusedDeputyConditions, serviceTrustPolicy, viaService } from "./service-trust";

/** One side of a replication rule. */
export interface ReplicationEndpoint {
  readonly bucket: SecureBucket;
  /** Region the bucket is in. */
  readonly region: string;
  /** The bucket's default-encryption KMS key. */
  readonly kmsKeyArn: string;
}

export interface BucketReplicationProps {
  /** Provider of the source bucket's region (IAM is global; the role is created there too). */
  readonly provider: AwsProvider;
  /** Name of the IAM role S3 assumes to replicate; at most 64 characters. */
  readonly roleName: string;
  readonly source: ReplicationEndpoint;
  readonly destination: ReplicationEndpoint;
  /**
   * S3 Replication Time Control: 99.99% of objects replicated within 15 minutes, with
   * replication metrics and missed-threshold events.
   * @default true
   */
  readonly replicationTimeControl?: boolean;
  /**
   * Account of the source bucket; the role's trust admits S3 acting for this account only.
   * @default - the account of `provider`, looked up with aws_caller_identity
   */
  readonly accountId?: string;
}

const RTC_MINUTES = 15; // The only value S3 Replication Time Control accepts.

/**
 * Replicates every object, version and delete marker of one bucket to a bucket in another region,
 * through a role that may read only the source and write only the destination. Both buckets are
 * SSE-KMS encrypted: the role decrypts with the source key and re-encrypts with the destination's.
 * Replicas' metadata changes are synced back (replica modifications), so two instances of this
 * construct in opposite directions give the two-way replication a failback needs.
 */
export class BucketReplication extends Construct {
  readonly role: IamRole;
  readonly configuration: S3BucketReplicationConfigurationA;

  constructor(scope: Construct, id: string, props: BucketReplicationProps) {
    super(scope, id);
    const problems = new ProblemCollector();
    if (props.roleName.length > 64) {
      problems.add("roleName", props.roleName, "at most 64 characters (the IAM role name limit)");
    }
    if (props.source.region === props.destination.region) {
      problems.add(
        "destination.region",
        props.destination.region,
        `a region other than the source's (${props.source.region}): replication here is for regional recovery`,
      );
    }
    problems.throwIfAnyFor(this.node.path);

    const { provider, source, destination } = props;
    const rtc = props.replicationTimeControl ?? true;

    const accountId =
      props.accountId ?? new DataAwsCallerIdentity(this, "account", { provider }).accountId;

    const trust = serviceTrustPolicy(this, "trust", {
      provider,
      service: "s3.amazonaws.com",
      condition: confusedDeputyConditions(accountId, [source.bucket.bucketArn]),
    });
    this.role = new IamRole(this, "role", {
      provider,
      name: props.roleName,
      assumeRolePolicy: trust.json,
    });

    const permissions = new DataAwsIamPolicyDocument(this, "permissions", {
      provider,
      statement: [
        {
          sid: "ReadSourceConfiguration",
          actions: ["s3:GetReplicationConfiguration", "s3:ListBucket"],
          resources: [source.bucket.bucketArn],
        },
        {
          sid: "ReadSourceObjects",
          actions: [
            "s3:GetObjectVersionForReplication",
            "s3:GetObjectVersionAcl",
            "s3:GetObjectVersionTagging",
          ],
          resources: [source.bucket.objectsArn],
        },
        {
          sid: "WriteDestinationObjects",
          actions: ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
          resources: [destination.bucket.objectsArn],
        },
        {
          sid: "DecryptSource",
          actions: ["kms:Decrypt"],
          resources: [source.kmsKeyArn],
          condition: [viaService(source.region, "s3")],
        },
        {
          sid: "EncryptDestination",
          actions: ["kms:Encrypt", "kms:GenerateDataKey"],
          resources: [destination.kmsKeyArn],
          condition: [viaService(destination.region, "s3")],
        },
      ],
    });
    new IamRolePolicy(this, "policy", {
      provider,
      role: this.role.id,
      name: "replication",
      policy: permissions.json,
    });

    this.configuration = new S3BucketReplicationConfigurationA(this, "configuration", {
      provider,
      bucket: source.bucket.bucket.id,
      role: this.role.arn,
      rule: [
        {
          id: "replicate-everything",
          status: "Enabled",
          priority: 1,
          filter: { prefix: "" },
          deleteMarkerReplication: { status: "Enabled" },
          sourceSelectionCriteria: {
            sseKmsEncryptedObjects: { status: "Enabled" },
            replicaModifications: { status: "Enabled" },
          },
          destination: {
            bucket: destination.bucket.bucketArn,
            storageClass: "STANDARD",
            encryptionConfiguration: { replicaKmsKeyId: destination.kmsKeyArn },
            ...(rtc
              ? {
                  replicationTime: { status: "Enabled", time: { minutes: RTC_MINUTES } },
                  metrics: { status: "Enabled", eventThreshold: { minutes: RTC_MINUTES } },
                }
              : { metrics: { status: "Enabled" } }),
          },
        },
      ],
      // Both buckets must be versioned before S3 accepts a replication configuration.
      dependsOn: [source.bucket.versioning, destination.bucket.versioning],
    });
  }
}
