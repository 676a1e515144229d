import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { Construct } from "constructs";
import { ProblemCollector } from "../errors";
import { BucketReplication } from "./bucket-replication";
import type { RegionContext } from "./region-context";
import { SecureBucket } from "./secure-bucket";

/** One region of the state backend. */
export interface StateRegion extends RegionContext {
  /** KMS key of this region; encrypts the state bucket and the lock table (or its replica). */
  readonly kmsKeyArn: string;
  readonly bucketName: string;
}

export interface StateManagementProps {
  /** Where the state normally lives (the backend's `bucket` and `region`). */
  readonly primary: StateRegion;
  /** The copy in another region, used while the primary region is down. */
  readonly replica: StateRegion;
  /** DynamoDB lock table; a global table, so the same name exists in both regions. */
  readonly lockTableName: string;
  /** Prefix of the replication role names, e.g. `shopsmart-tfstate`. */
  readonly namePrefix: string;
  /** Days old state versions are kept (each apply writes a version). @default 90 */
  readonly noncurrentVersionRetentionDays?: number;
  /**
   * Whether `terraform destroy` may delete the bucket and table. Kept off: losing state means
   * re-importing every resource by hand.
   * @default false
   */
  readonly allowDestroy?: boolean;
  /**
   * Account of the state buckets; the replication roles' trust admits S3 acting for it only.
   * @default - the account of each replication's provider, looked up with aws_caller_identity
   */
  readonly accountId?: string;
}

/**
 * The Terraform state backend that every environment stack uses: a versioned, KMS-encrypted state
 * bucket replicated to a bucket in a second region (and back, so writes made during an outage
 * return), and a DynamoDB lock table that is a global table with a replica in that region.
 * Created once per account by the `bootstrap/` app.
 */
export class StateManagement extends Construct {
  readonly bucket: SecureBucket;
  readonly replicaBucket: SecureBucket;
  readonly lockTable: DynamodbTable;

  constructor(scope: Construct, id: string, props: StateManagementProps) {
    super(scope, id);
    const problems = new ProblemCollector();
    if (props.primary.region === props.replica.region) {
      problems.add(
        "replica.region",
        props.replica.region,
        `a region other than primary.region (${props.primary.region}), so state survives a regional outage`,
      );
    }
    if (props.primary.bucketName === props.replica.bucketName) {
      problems.add(
        "replica.bucketName",
        props.replica.bucketName,
        "a name other than primary.bucketName (bucket names are global)",
      );
    }
    problems.throwIfAnyFor(this.node.path);

    const retention = props.noncurrentVersionRetentionDays ?? 90;
    const forceDestroy = props.allowDestroy ?? false;
    const bucketIn = (id: string, region: StateRegion) =>
      new SecureBucket(this, id, {
        provider: region.provider,
        bucketName: region.bucketName,
        kmsKeyArn: region.kmsKeyArn,
        noncurrentVersionRetentionDays: retention,
        forceDestroy,
      });
    this.bucket = bucketIn("state-bucket", props.primary);
    this.replicaBucket = bucketIn("replica-state-bucket", props.replica);

    const endpoints = {
      primary: {
        bucket: this.bucket,
        region: props.primary.region,
        kmsKeyArn: props.primary.kmsKeyArn,
      },
      replica: {
        bucket: this.replicaBucket,
        region: props.replica.region,
        kmsKeyArn: props.replica.kmsKeyArn,
      },
    };
    // Both ways: to the replica, and back to the primary once it has recovered.
    for (const [from, to] of [
      ["primary", "replica"],
      ["replica", "primary"],
    ] as const) {
      new BucketReplication(this, `replication-to-${to}`, {
        provider: props[from].provider,
        roleName: `${props.namePrefix}-replication-to-${to}`,
        accountId: props.accountId,
        source: endpoints[from],
        destination: endpoints[to],
      });
    }

    this.lockTable = new DynamodbTable(this, "lock-table", {
      provider: props.primary.provider,
      name: props.lockTableName,
      // Terraform's S3 backend looks up locks by this exact key name.
      hashKey: "LockID",
      attribute: [{ name: "LockID", type: "S" }],
      billingMode: "PAY_PER_REQUEST",
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true, kmsKeyArn: props.primary.kmsKeyArn },
      deletionProtectionEnabled: !forceDestroy,
      // Global tables replicate through the stream; NEW_AND_OLD_IMAGES is what they require.
      streamEnabled: true,
      streamViewType: "NEW_AND_OLD_IMAGES",
      replica: [
        {
          regionName: props.replica.region,
          kmsKeyArn: props.replica.kmsKeyArn,
          pointInTimeRecovery: true,
        },
      ],
    });
  }
}
