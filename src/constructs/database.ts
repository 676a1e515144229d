import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DbSubnetGroup } from "@cdktf/provider-aws/lib/db-subnet-group";
import { RdsCluster, type RdsClusterConfig } from "@cdktf/provider-aws/lib/rds-cluster";
import { RdsClusterInstance } from "@cdktf/provider-aws/lib/rds-cluster-instance";
import { RdsGlobalCluster } from "@cdktf/provider-aws/lib/rds-global-cluster";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Fn } from "cdktf";
import { Construct } from "constructs";
import {
  capacityRoleOf,
  perRole,
  REGION_ROLES,
  type RegionRole,
} from "../../functions/shared/region-roles";
import {
  clusterIdentifier,
  DEFAULT_DATABASE_NAME,
  globalClusterIdentifier,
} from "../../functions/shared/resource-names";
import {
  AURORA_GLOBAL_INSTANCE_CLASS,
  LOG_RETENTION_DAYS,
  LOG_RETENTION_DAYS_EXPECTED,
  RDS_INSTANCE_CLASS,
  rdsIdentifierPrefix,
  SECURITY_GROUP_ID,
} from "../aws-formats";
import { isKnown, ProblemCollector } from "../errors";
import { EphemeralResource } from "./ephemeral-resource";
import type { RegionContext } from "./region-context";

/** What the database needs to know about one region of the pair. */
export interface DatabaseRegion extends RegionContext {
  /** VPC the cluster's security group is created in. */
  readonly vpcId: string;
  /** The isolated database subnets (at least two, in different AZs) the subnet group spans. */
  readonly subnetIds: string[];
  /**
   * This region's KMS key: cluster storage, Performance Insights, the exported log and the
   * credentials secret (or its replica).
   */
  readonly kmsKeyArn: string;
  /**
   * Instance class this role runs, e.g. `db.r7g.large`. Capacity follows `activeRegion`: the
   * region serving traffic runs the `primary` capacity, the other the `secondary` capacity.
   */
  readonly instanceClass: string;
  /** Instances this role runs (1 to 16); see `instanceClass` for how roles map to regions. */
  readonly instances: number;
}

export interface DatabaseProps {
  /** Prefix of every name and identifier, `<project>-<env>`. */
  readonly namePrefix: string;
  /** The region the global database is created in (its first writer) and its writer capacity. */
  readonly primary: DatabaseRegion;
  /** The warm-standby region and its standby capacity. */
  readonly secondary: DatabaseRegion;
  /**
   * Aurora PostgreSQL version the global database is created with, e.g. `16.8`. Later changes are
   * ignored: upgrades are a runbook step (secondary cluster first, then primary), because the
   * provider cannot upgrade a global database in place reliably (see the comments in the code).
   */
  readonly engineVersion: string;
  /** Database created in the cluster. @default "shopsmart" */
  readonly databaseName?: string;
  /**
   * Master user name; the password is generated and kept in Secrets Manager.
   * @default "shopsmart_admin"
   */
  readonly masterUsername?: string;
  /**
   * Version of the master password (a whole number >= 1). Raising it makes the next apply
   * generate a new password, write it to the secret and set it on the primary cluster; the
   * password itself never reaches the plan or the state (write-only arguments). Instances that
   * read the secret at boot keep the old password until they are replaced.
   * @default 1
   */
  readonly masterPasswordVersion?: number;
  /** Days of automated backups (7 to 35), in both regions. @default 7 */
  readonly backupRetentionDays?: number;
  /**
   * Whether the global database and both clusters refuse deletion. Destroying them with this on
   * fails until it is switched off and applied.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * The region that currently holds the writer (set to `secondary` after a failover). It only
   * moves capacity: the active region runs `primary`'s instance class and count. Nothing that
   * replaces a cluster depends on it, so re-applying after a failover destroys nothing.
   * @default "primary"
   */
  readonly activeRegion?: RegionRole;
  /** Days the exported PostgreSQL logs are kept in CloudWatch Logs. @default 30 */
  readonly logRetentionDays?: number;
}

const ENGINE = "aurora-postgresql";
const PORT = 5432;
/** Performance Insights' free tier; longer retention is billed. */
const PERFORMANCE_INSIGHTS_RETENTION_DAYS = 7;
/** Aurora allows one writer and up to 15 readers per cluster. */
const MAX_INSTANCES = 16;
/** Longest identifier suffix the construct appends: `-secondary-15`. */
const MAX_NAME_PREFIX_LENGTH = 63 - "-secondary-15".length;
/**
 * Left out of the master password: '/', '@', '"' and space, which RDS rejects
 * (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html,
 * MasterUserPassword), and quote, backslash and backtick, which break connection strings and
 * shell commands.
 */
const PASSWORD_EXCLUDED_CHARACTERS = "/@\" '\\`";

/**
 * Drift Terraform must not "fix" on a member of the global database:
 *
 * - `global_cluster_identifier`: the provider reads it back from the global database, so after a
 *   detach-and-promote it reads "" and a plan would either fail ("existing RDS Clusters cannot be
 *   added to an existing RDS Global Cluster") or, the other way round, call
 *   RemoveFromGlobalCluster. Membership is the failover runbook's business, not Terraform's
 *   (https://github.com/cloudposse/terraform-aws-rds-cluster/issues/281, provider docs "New Global
 *   Cluster From Existing DB Cluster").
 * - `replication_source_identifier`: a secondary member reports the writer's ARN here; with the
 *   argument unset, the provider would plan it to "" and call PromoteReadReplicaDBCluster, breaking
 *   the global database. After a switchover the old primary becomes the member that reports it, so
 *   both clusters ignore it (https://github.com/hashicorp/terraform-provider-aws/pull/40921,
 *   https://github.com/hashicorp/terraform-provider-aws/issues/43214).
 * - `engine_version`: upgrades of a global database go through the global cluster (provider docs
 *   "Upgrading Engine Versions": ignore it on the members to avoid "Provider produced inconsistent
 *   final plan"), and AWS may patch a cluster itself, after which a pinned version plans a
 *   downgrade RDS rejects (https://github.com/cloudposse/terraform-aws-rds-cluster/pull/139).
 */
const MEMBER_CLUSTER_IGNORED_DRIFT = [
  "engine_version",
  "global_cluster_identifier",
  "replication_source_identifier",
];

/**
 * An Aurora PostgreSQL global database over the two regions: the global cluster; in each region a
 * DB subnet group over the database subnets, a security group that admits nothing until
 * {@link Database.allowFrom}, an encrypted log group for the exported PostgreSQL log, and a
 * cluster with its instances, encrypted with that region's KMS key. The secondary cluster carries
 * no credentials and is created after the primary's instances. The master password is generated
 * and stored in a Secrets Manager secret replicated to the secondary region, so the app in either
 * region can read it while the other region is down; the app reaches the writer through the global
 * writer endpoint, which follows the writer across switchover and failover.
 */
export class Database extends Construct {
  /** Identifier of the global cluster; also the first label of the writer endpoint. */
  readonly globalClusterIdentifier: string;
  /** Global writer endpoint: follows the writer across switchover/failover. */
  readonly writerEndpoint: string;
  /** The regional clusters: identifier, ARN and reader endpoint (reads stay in-region). */
  readonly clusters: Readonly<
    Record<RegionRole, { identifier: string; arn: string; readerEndpoint: string }>
  >;
  /** The database security group of each region (no ingress until `allowFrom`). */
  readonly securityGroupIds: Readonly<Record<RegionRole, string>>;
  /** Credentials secret ARN in each region (the primary secret and its replica). */
  readonly credentialsSecretArns: Readonly<Record<RegionRole, string>>;
  /** Name of the database the app connects to. */
  readonly databaseName: string;
  /** PostgreSQL port of both clusters. */
  readonly port: number = PORT;

  private readonly regions: Readonly<Record<RegionRole, DatabaseRegion>>;
  private readonly ingressRuleCount: Record<RegionRole, number> = { primary: 0, secondary: 0 };

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const databaseName = props.databaseName ?? DEFAULT_DATABASE_NAME;
    const masterUsername = props.masterUsername ?? "shopsmart_admin";
    const masterPasswordVersion = props.masterPasswordVersion ?? 1;
    const backupRetentionDays = props.backupRetentionDays ?? 7;
    const deletionProtection = props.deletionProtection ?? true;
    const activeRegion = props.activeRegion ?? "primary";
    const logRetentionDays = props.logRetentionDays ?? 30;
    validate(this.node.path, props, {
      databaseName,
      masterUsername,
      masterPasswordVersion,
      backupRetentionDays,
      activeRegion,
      logRetentionDays,
    });

    const { namePrefix, primary, secondary } = props;
    this.regions = { primary, secondary };
    this.databaseName = databaseName;
    // Capacity follows the writer; everything a replacement depends on stays with the region.
    const capacity = (role: RegionRole) => props[capacityRoleOf(role, activeRegion)];

    const globalCluster = new RdsGlobalCluster(this, "global-cluster", {
      provider: primary.provider,
      globalClusterIdentifier: globalClusterIdentifier(namePrefix),
      engine: ENGINE,
      engineVersion: props.engineVersion,
      databaseName,
      storageEncrypted: true,
      deletionProtection,
      // Off: with it, a plan that replaced the global cluster would quietly detach both members
      // instead of failing. Destroy works without it, since each aws_rds_cluster leaves the
      // global cluster before it is deleted.
      forceDestroy: false,
      lifecycle: {
        // Minor upgrades through the global cluster fail on provider 6.24.0 and 6.25.0
        // (regression https://github.com/hashicorp/terraform-provider-aws/issues/45398, fixed by
        // #45605, merged after 6.25.0) and have timed out when a member lagged (#36107, #30358).
        // A version AWS applied itself would plan a downgrade that fails and blocks everything
        // depending on the global cluster (the whole database) in a failover re-apply. Upgrade
        // by runbook instead: secondary cluster first, then primary.
        ignoreChanges: ["engine_version"],
      },
    });
    this.globalClusterIdentifier = globalCluster.globalClusterIdentifier;
    // The global writer endpoint (provider >= 5.78, #39960): the app never changes its connection
    // string after a managed switchover or failover.
    this.writerEndpoint = globalCluster.endpoint;

    // Managed master passwords (manage_master_user_password) are not supported for clusters in an
    // Aurora global database (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-secrets-manager.html#rds-secrets-manager-limitations),
    // so the construct generates the password and owns the secret. It never reaches the plan or
    // the state: Secrets Manager generates it in an ephemeral block, it is written to the secret
    // through the write-only secret_string_wo, and the cluster's write-only master_password_wo
    // reads it back from the secret in another ephemeral block (HashiCorp's pattern,
    // https://developer.hashicorp.com/terraform/language/manage-sensitive-data/write-only).
    // Reading it back rather than passing the generated value on keeps secret and cluster equal
    // even when an apply fails between the two: each apply generates a new value, but only the
    // secret's write takes it. Write-only arguments are sent only when their _version changes
    // (https://registry.terraform.io/providers/hashicorp/aws/6.25.0/docs/resources/rds_cluster#master_password_wo,
    // https://registry.terraform.io/providers/hashicorp/aws/6.25.0/docs/resources/secretsmanager_secret_version#secret_string_wo).
    const generated = new EphemeralResource(this, "master-password", {
      type: "aws_secretsmanager_random_password",
      provider: primary.provider,
      // https://registry.terraform.io/providers/hashicorp/aws/6.25.0/docs/ephemeral-resources/secretsmanager_random_password
      config: {
        password_length: 32,
        exclude_characters: PASSWORD_EXCLUDED_CHARACTERS,
        require_each_included_type: true,
      },
    });
    const secret = new SecretsmanagerSecret(this, "credentials", {
      provider: primary.provider,
      name: `${namePrefix}/database/master-credentials`,
      description: `Master credentials of the ${namePrefix} Aurora global database`,
      kmsKeyId: primary.kmsKeyArn,
      // The replica stays readable in the secondary region when the primary region is down.
      replica: [{ region: secondary.region, kmsKeyId: secondary.kmsKeyArn }],
    });
    const secretValue = new SecretsmanagerSecretVersion(this, "credentials-value", {
      provider: primary.provider,
      secretId: secret.id,
      secretStringWo: Fn.jsonencode({
        username: masterUsername,
        password: generated.attribute("random_password"),
        engine: "postgres",
        port: PORT,
        dbname: databaseName,
      }),
      secretStringWoVersion: masterPasswordVersion,
    });
    const storedValue = new EphemeralResource(this, "master-credentials", {
      type: "aws_secretsmanager_secret_version",
      provider: primary.provider,
      // https://registry.terraform.io/providers/hashicorp/aws/6.25.0/docs/ephemeral-resources/secretsmanager_secret_version
      config: { secret_id: secret.id, version_id: secretValue.versionId },
    });
    const masterPassword = Fn.lookup(
      Fn.jsondecode(storedValue.attribute("secret_string")),
      "password",
    );
    // A replica keeps the primary secret's name and suffix; only the region differs. The replica
    // block exports no ARN, and a data source lookup would need the secondary API at plan time.
    this.credentialsSecretArns = {
      primary: secret.arn,
      secondary: Fn.replace(
        secret.arn,
        `:secretsmanager:${primary.region}:`,
        `:secretsmanager:${secondary.region}:`,
      ),
    };

    // The secondary cluster is created after the primary's instances: perRole builds the
    // primary first.
    let primaryInstances: RdsClusterInstance[] = [];
    const built = perRole((role) => {
      const region = props[role];
      const { provider, kmsKeyArn } = region;
      const identifier = clusterIdentifier(namePrefix, role);

      const subnetGroup = new DbSubnetGroup(this, `${role}-subnet-group`, {
        provider,
        name: identifier,
        description: `Database subnets of ${identifier}`,
        subnetIds: region.subnetIds,
      });
      // No inline rules: ingress comes only from allowFrom, as separate rule resources. There is
      // no egress rule either; Terraform drops the default allow-all egress and security groups
      // are stateful, so replies to admitted connections still flow.
      const securityGroup = new SecurityGroup(this, `${role}-security-group`, {
        provider,
        name: `${identifier}-database`,
        description: `Aurora cluster ${identifier}: PostgreSQL from the app only`,
        vpcId: region.vpcId,
        tags: { Name: `${identifier}-database` },
      });

      // RDS would create this group itself, unencrypted and kept forever; creating it first
      // gives it a retention and the region's key.
      const logGroup = new CloudwatchLogGroup(this, `${role}-log-group`, {
        provider,
        name: `/aws/rds/cluster/${identifier}/postgresql`,
        retentionInDays: logRetentionDays,
        kmsKeyId: kmsKeyArn,
      });

      const common: RdsClusterConfig = {
        provider,
        clusterIdentifier: identifier,
        engine: ENGINE,
        engineVersion: props.engineVersion,
        globalClusterIdentifier: globalCluster.id,
        port: PORT,
        dbSubnetGroupName: subnetGroup.name,
        vpcSecurityGroupIds: [securityGroup.id],
        storageEncrypted: true,
        kmsKeyId: kmsKeyArn,
        backupRetentionPeriod: backupRetentionDays,
        copyTagsToSnapshot: true,
        deletionProtection,
        // Either cluster may hold the newest data after a failover, so both keep a final snapshot
        // and their automated backups when deleted.
        skipFinalSnapshot: false,
        finalSnapshotIdentifier: `${identifier}-final`,
        deleteAutomatedBackups: false,
        enabledCloudwatchLogsExports: ["postgresql"],
        performanceInsightsEnabled: true,
        performanceInsightsKmsKeyId: kmsKeyArn,
        performanceInsightsRetentionPeriod: PERFORMANCE_INSIGHTS_RETENTION_DAYS,
        // Capacity and settings changes after a failover must not wait for a maintenance window.
        applyImmediately: true,
        lifecycle: { ignoreChanges: MEMBER_CLUSTER_IGNORED_DRIFT },
      };
      const cluster =
        role === "primary"
          ? new RdsCluster(this, "primary-cluster", {
              ...common,
              databaseName,
              masterUsername,
              masterPasswordWo: masterPassword,
              masterPasswordWoVersion: masterPasswordVersion,
              dependsOn: [logGroup],
            })
          : new RdsCluster(this, "secondary-cluster", {
              ...common,
              // A member of a global database inherits database and credentials; RDS rejects
              // them ("Cannot specify user name for cross region replication cluster",
              // https://github.com/hashicorp/terraform-provider-aws/issues/10188).
              // Joining an encrypted global database from another region needs a pre-signed
              // URL, which the SDK builds from source_region ("Source cluster ... is encrypted;
              // pre-signed URL has to be specified",
              // https://github.com/hashicorp/terraform-provider-aws/issues/630). It is
              // ForceNew, so it names the creating writer and never follows activeRegion.
              sourceRegion: primary.region,
              // Created before the primary has an instance, the secondary is treated as a
              // standalone cluster ("The parameter MasterUsername must be provided",
              // https://github.com/hashicorp/terraform-provider-aws/issues/26030).
              dependsOn: [logGroup, ...primaryInstances],
            });

      const { instanceClass, instances } = capacity(role);
      const created: RdsClusterInstance[] = [];
      for (let index = 0; index < instances; index++) {
        created.push(
          new RdsClusterInstance(this, `${role}-instance-${index}`, {
            provider,
            identifier: `${identifier}-${index}`,
            clusterIdentifier: cluster.id,
            engine: ENGINE,
            // No engine_version: instances follow their cluster's version.
            instanceClass,
            dbSubnetGroupName: subnetGroup.name,
            publiclyAccessible: false,
            // Managed switchover and failover need both regions on the same engine version
            // (Aurora User Guide, "Upgrading an Amazon Aurora global database"); automatic
            // upgrades would patch each region on its own schedule. Aurora upgrades a cluster
            // automatically only when all its instances allow it, so this is set per instance.
            autoMinorVersionUpgrade: false,
            applyImmediately: true,
            // Same values as the cluster-level setting, which the instance may not contradict.
            performanceInsightsEnabled: true,
            performanceInsightsKmsKeyId: kmsKeyArn,
            performanceInsightsRetentionPeriod: PERFORMANCE_INSIGHTS_RETENTION_DAYS,
          }),
        );
      }
      if (role === "primary") primaryInstances = created;
      return {
        securityGroupId: securityGroup.id,
        cluster: {
          identifier: cluster.clusterIdentifier,
          arn: cluster.arn,
          readerEndpoint: cluster.readerEndpoint,
        },
      };
    });
    this.securityGroupIds = perRole((role) => built[role].securityGroupId);
    this.clusters = perRole((role) => built[role].cluster);
  }

  /**
   * Admits PostgreSQL (5432) into the region's database security group from `securityGroupId`
   * only. Each call adds one ingress rule resource in that region.
   */
  allowFrom(role: RegionRole, securityGroupId: string): void {
    const problems = new ProblemCollector();
    if (!REGION_ROLES.includes(role)) {
      problems.add("allowFrom.role", role, '"primary" or "secondary"');
    }
    problems.pattern("allowFrom.securityGroupId", securityGroupId, SECURITY_GROUP_ID);
    problems.throwIfAnyFor(this.node.path);

    this.ingressRuleCount[role] += 1;
    const count = this.ingressRuleCount[role];
    new VpcSecurityGroupIngressRule(
      this,
      count === 1 ? `${role}-ingress-from-app` : `${role}-ingress-from-app-${count}`,
      {
        provider: this.regions[role].provider,
        securityGroupId: this.securityGroupIds[role],
        referencedSecurityGroupId: securityGroupId,
        ipProtocol: "tcp",
        fromPort: PORT,
        toPort: PORT,
        description: "PostgreSQL from the app",
      },
    );
  }
}

interface ResolvedDefaults {
  readonly databaseName: string;
  readonly masterUsername: string;
  readonly masterPasswordVersion: number;
  readonly backupRetentionDays: number;
  readonly activeRegion: RegionRole;
  readonly logRetentionDays: number;
}

function validate(path: string, props: DatabaseProps, resolved: ResolvedDefaults): void {
  const problems = new ProblemCollector();

  problems.pattern("namePrefix", props.namePrefix, rdsIdentifierPrefix(MAX_NAME_PREFIX_LENGTH), {
    detail: " (it starts every RDS identifier)",
  });
  if (isKnown(props.engineVersion) && !/^\d+\.\d+$/.test(props.engineVersion)) {
    problems.add("engineVersion", props.engineVersion, "an Aurora PostgreSQL version such as 16.8");
  }
  const pgName = /^[a-zA-Z][a-zA-Z0-9_]{0,62}$/;
  if (isKnown(resolved.databaseName) && !pgName.test(resolved.databaseName)) {
    problems.add(
      "databaseName",
      resolved.databaseName,
      "1-63 letters, digits and '_', starting with a letter",
    );
  }
  if (
    isKnown(resolved.masterUsername) &&
    (!pgName.test(resolved.masterUsername) || resolved.masterUsername === "rdsadmin")
  ) {
    problems.add(
      "masterUsername",
      resolved.masterUsername,
      "1-63 letters, digits and '_', starting with a letter, other than the reserved 'rdsadmin'",
    );
  }
  const passwordVersion = resolved.masterPasswordVersion;
  if (!Number.isInteger(passwordVersion) || passwordVersion < 1) {
    problems.add("masterPasswordVersion", passwordVersion, "a whole number >= 1");
  }
  const days = resolved.backupRetentionDays;
  if (!Number.isInteger(days) || days < 7 || days > 35) {
    problems.add("backupRetentionDays", days, "a whole number of days from 7 to 35");
  }
  if (!REGION_ROLES.includes(resolved.activeRegion)) {
    problems.add("activeRegion", resolved.activeRegion, '"primary" or "secondary"');
  }
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(resolved.logRetentionDays)) {
    problems.add("logRetentionDays", resolved.logRetentionDays, LOG_RETENTION_DAYS_EXPECTED);
  }

  for (const role of REGION_ROLES) {
    const region = props[role];
    const { instanceClass, instances, kmsKeyArn } = region;
    if (problems.pattern(`${role}.instanceClass`, instanceClass, RDS_INSTANCE_CLASS)) {
      problems.pattern(`${role}.instanceClass`, instanceClass, AURORA_GLOBAL_INSTANCE_CLASS);
    }
    if (!Number.isInteger(instances) || instances < 1 || instances > MAX_INSTANCES) {
      problems.add(`${role}.instances`, instances, `a whole number from 1 to ${MAX_INSTANCES}`);
    }
    if (region.subnetIds.length < 2) {
      problems.add(
        `${role}.subnetIds`,
        region.subnetIds,
        "at least two database subnets in different AZs (RDS subnet groups need two AZs)",
      );
    }
    if (
      isKnown(kmsKeyArn) &&
      isKnown(region.region) &&
      !kmsKeyArn.startsWith(`arn:aws:kms:${region.region}:`)
    ) {
      problems.add(
        `${role}.kmsKeyArn`,
        kmsKeyArn,
        `the ARN of a KMS key in ${role}.region (${region.region}): each region encrypts with its own key`,
      );
    }
  }
  problems.regionPair("", props);
  problems.throwIfAnyFor(path);
}
