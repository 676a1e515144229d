import { TerraformOutput } from "cdktf";
import { describe, expect, it } from "vitest";
import type { RegionRole } from "../../src/config/schema";
import { Database, type DatabaseProps, type DatabaseRegion } from "../../src/constructs/database";
import {
  listResources,
  resourceAt,
  resourcesOf,
  type SynthesizedStack,
  stackWithProviders,
  synth,
  TEST_REGIONS,
} from "../support/synth";

const KEYS = {
  primary: "arn:aws:kms:us-east-2:111111111111:key/primary",
  secondary: "arn:aws:kms:us-west-2:111111111111:key/secondary",
};
const APP_SECURITY_GROUP = "sg-0123456789abcdef0";

type RegionOverrides = Partial<Omit<DatabaseRegion, "provider">>;
interface Overrides extends Partial<Omit<DatabaseProps, "primary" | "secondary">> {
  readonly primary?: RegionOverrides;
  readonly secondary?: RegionOverrides;
}

/** A stack with both AWS providers. */
function databaseStack() {
  return stackWithProviders();
}

function databaseProps(
  providers: ReturnType<typeof databaseStack>["providers"],
  overrides: Overrides = {},
): DatabaseProps {
  const region = (role: RegionRole): DatabaseRegion => ({
    provider: providers[role],
    region: TEST_REGIONS[role],
    vpcId: `vpc-${role}`,
    subnetIds: [`subnet-${role}-a`, `subnet-${role}-b`, `subnet-${role}-c`],
    kmsKeyArn: KEYS[role],
    // Distinct capacities per role, so a test can tell which region runs which.
    instanceClass: role === "primary" ? "db.r7g.xlarge" : "db.r7g.large",
    instances: role === "primary" ? 2 : 1,
    ...overrides[role],
  });
  return {
    namePrefix: "shop-test",
    engineVersion: "16.8",
    ...overrides,
    primary: region("primary"),
    secondary: region("secondary"),
  };
}

function synthDatabase(overrides: Overrides = {}, configure?: (database: Database) => void) {
  const { stack, providers } = databaseStack();
  const database = new Database(stack, "database", databaseProps(providers, overrides));
  configure?.(database);
  return synth(stack);
}

/** Instances of one region, keyed by identifier. */
function instancesIn(
  json: SynthesizedStack,
  role: RegionRole,
): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    listResources(json, "aws_rds_cluster_instance")
      .filter((instance) => instance.provider === `aws.${role}`)
      .map((instance) => [instance.identifier, instance]),
  );
}

/** Arguments whose change makes Terraform replace the resource (provider 6.25.0 schemas). */
const FORCE_NEW_ARGUMENTS: Record<string, readonly string[]> = {
  aws_rds_global_cluster: [
    "global_cluster_identifier",
    "engine",
    "database_name",
    "storage_encrypted",
    "source_db_cluster_identifier",
    "provider",
  ],
  aws_rds_cluster: [
    "cluster_identifier",
    "engine",
    "engine_mode",
    "database_name",
    "master_username",
    "kms_key_id",
    "storage_encrypted",
    "db_subnet_group_name",
    "availability_zones",
    "snapshot_identifier",
    "source_region",
    // Not ForceNew, but a change would detach (or refuse to attach) a member.
    "global_cluster_identifier",
    "provider",
  ],
  aws_rds_cluster_instance: [
    "identifier",
    "cluster_identifier",
    "engine",
    "db_subnet_group_name",
    "availability_zone",
    "provider",
  ],
  aws_db_subnet_group: ["name", "provider"],
  aws_security_group: ["name", "description", "vpc_id", "provider"],
  aws_cloudwatch_log_group: ["name", "provider"],
  aws_secretsmanager_secret: ["name", "provider"],
};

describe("Database", () => {
  const json = synthDatabase();

  it("creates an encrypted Aurora PostgreSQL global cluster, managed through the primary region", () => {
    expect(resourceAt(json, "aws_rds_global_cluster", "database/global-cluster")).toMatchObject({
      provider: "aws.primary",
      global_cluster_identifier: "shop-test-global",
      engine: "aurora-postgresql",
      engine_version: "16.8",
      database_name: "shopsmart",
      storage_encrypted: true,
      force_destroy: false,
    });
  });

  it("sets the engine version only at creation, so a version AWS applied never blocks an apply", () => {
    expect(resourceAt(json, "aws_rds_global_cluster", "database/global-cluster").lifecycle).toEqual(
      { ignore_changes: ["engine_version"] },
    );
  });

  it("joins the primary cluster to the global database with the generated master credentials and the primary key", () => {
    const primary = resourceAt(json, "aws_rds_cluster", "database/primary-cluster");
    expect(primary).toMatchObject({
      provider: "aws.primary",
      cluster_identifier: "shop-test-primary",
      engine: "aurora-postgresql",
      engine_version: "16.8",
      global_cluster_identifier: expect.stringMatching(
        /^\$\{aws_rds_global_cluster\.database_global-cluster_\w+\.id\}$/,
      ),
      database_name: "shopsmart",
      master_username: "shopsmart_admin",
      // Write-only: read back from the secret in an ephemeral block, never in plan or state.
      master_password_wo: expect.stringMatching(
        /^\$\{jsondecode\(ephemeral\.aws_secretsmanager_secret_version\.database_master-credentials_\w+\.secret_string\)\.password\}$/,
      ),
      master_password_wo_version: 1,
      port: 5432,
      storage_encrypted: true,
      kms_key_id: KEYS.primary,
    });
    expect(primary).not.toHaveProperty("source_region");
    expect(primary).not.toHaveProperty("master_password");
  });

  it("creates the secondary cluster with no credentials, its own region's key and the source region", () => {
    const secondary = resourceAt(json, "aws_rds_cluster", "database/secondary-cluster");
    expect(secondary).toMatchObject({
      provider: "aws.secondary",
      cluster_identifier: "shop-test-secondary",
      engine: "aurora-postgresql",
      global_cluster_identifier: expect.stringContaining("aws_rds_global_cluster."),
      storage_encrypted: true,
      kms_key_id: KEYS.secondary,
      source_region: TEST_REGIONS.primary,
    });
    for (const credential of [
      "master_username",
      "master_password",
      "master_password_wo",
      "database_name",
    ]) {
      expect(secondary).not.toHaveProperty(credential);
    }
  });

  it("creates the secondary cluster only after every primary instance exists", () => {
    const secondary = resourceAt(json, "aws_rds_cluster", "database/secondary-cluster");
    const primaryInstances = Object.keys(resourcesOf(json, "aws_rds_cluster_instance"))
      .filter((name) => name.startsWith("database_primary-instance-"))
      .map((name) => `aws_rds_cluster_instance.${name}`);
    expect(primaryInstances).toHaveLength(2);
    expect(secondary.depends_on).toEqual(expect.arrayContaining(primaryInstances));
  });

  it("ignores membership, replication-source and engine-version drift on both clusters, so no plan detaches or promotes a member", () => {
    for (const role of ["primary", "secondary"] as const) {
      expect(resourceAt(json, "aws_rds_cluster", `database/${role}-cluster`).lifecycle).toEqual({
        ignore_changes: [
          "engine_version",
          "global_cluster_identifier",
          "replication_source_identifier",
        ],
      });
    }
  });

  it("keeps 7 days of backups by default, plus a final snapshot and the automated backups of either cluster", () => {
    for (const role of ["primary", "secondary"] as const) {
      expect(resourceAt(json, "aws_rds_cluster", `database/${role}-cluster`)).toMatchObject({
        backup_retention_period: 7,
        copy_tags_to_snapshot: true,
        skip_final_snapshot: false,
        final_snapshot_identifier: `shop-test-${role}-final`,
        delete_automated_backups: false,
      });
    }
    const longer = synthDatabase({ backupRetentionDays: 21 });
    expect(
      resourceAt(longer, "aws_rds_cluster", "database/secondary-cluster").backup_retention_period,
    ).toBe(21);
  });

  it("protects the global database and both clusters from deletion unless deletionProtection is false", () => {
    const protectedTypes = ["aws_rds_global_cluster", "aws_rds_cluster"];
    for (const type of protectedTypes) {
      for (const resource of listResources(json, type)) {
        expect(resource.deletion_protection).toBe(true);
      }
    }
    const unprotected = synthDatabase({ deletionProtection: false });
    for (const type of protectedTypes) {
      for (const resource of listResources(unprotected, type)) {
        expect(resource.deletion_protection).toBe(false);
      }
    }
  });

  it("enables Performance Insights encrypted with each region's key on the clusters and every instance", () => {
    const insights = (kmsKey: string) => ({
      performance_insights_enabled: true,
      performance_insights_kms_key_id: kmsKey,
      performance_insights_retention_period: 7,
    });
    for (const role of ["primary", "secondary"] as const) {
      expect(resourceAt(json, "aws_rds_cluster", `database/${role}-cluster`)).toMatchObject(
        insights(KEYS[role]),
      );
      for (const instance of Object.values(instancesIn(json, role))) {
        expect(instance).toMatchObject(insights(KEYS[role]));
      }
    }
  });

  it("exports the PostgreSQL log to a log group per region, with retention and the region's key, created before the cluster", () => {
    for (const role of ["primary", "secondary"] as const) {
      const cluster = resourceAt(json, "aws_rds_cluster", `database/${role}-cluster`);
      expect(cluster.enabled_cloudwatch_logs_exports).toEqual(["postgresql"]);
      expect(resourceAt(json, "aws_cloudwatch_log_group", `database/${role}-log-group`)).toEqual(
        expect.objectContaining({
          provider: `aws.${role}`,
          name: `/aws/rds/cluster/shop-test-${role}/postgresql`,
          retention_in_days: 30,
          kms_key_id: KEYS[role],
        }),
      );
      expect(cluster.depends_on).toContainEqual(
        expect.stringMatching(
          new RegExp(`^aws_cloudwatch_log_group\\.database_${role}-log-group_`),
        ),
      );
    }
    const longer = synthDatabase({ logRetentionDays: 90 });
    expect(
      resourceAt(longer, "aws_cloudwatch_log_group", "database/primary-log-group")
        .retention_in_days,
    ).toBe(90);
  });

  it("runs the writer capacity in the primary region and the standby capacity in the secondary by default", () => {
    expect(Object.keys(instancesIn(json, "primary")).sort()).toEqual([
      "shop-test-primary-0",
      "shop-test-primary-1",
    ]);
    expect(Object.keys(instancesIn(json, "secondary"))).toEqual(["shop-test-secondary-0"]);
    for (const role of ["primary", "secondary"] as const) {
      for (const instance of Object.values(instancesIn(json, role))) {
        expect(instance).toMatchObject({
          instance_class: role === "primary" ? "db.r7g.xlarge" : "db.r7g.large",
          engine: "aurora-postgresql",
          cluster_identifier: expect.stringContaining(`aws_rds_cluster.database_${role}-cluster_`),
          db_subnet_group_name: expect.stringContaining(`database_${role}-subnet-group_`),
          publicly_accessible: false,
          auto_minor_version_upgrade: false,
          apply_immediately: true,
        });
        // Instances follow their cluster's version; a pinned one would drift after upgrades.
        expect(instance).not.toHaveProperty("engine_version");
      }
    }
  });

  it("moves the writer capacity to the secondary region when activeRegion is secondary", () => {
    const failedOver = synthDatabase({ activeRegion: "secondary" });
    const primaryRegion = instancesIn(failedOver, "primary");
    const secondaryRegion = instancesIn(failedOver, "secondary");
    expect(Object.keys(primaryRegion)).toEqual(["shop-test-primary-0"]);
    expect(primaryRegion["shop-test-primary-0"].instance_class).toBe("db.r7g.large");
    expect(Object.keys(secondaryRegion).sort()).toEqual([
      "shop-test-secondary-0",
      "shop-test-secondary-1",
    ]);
    for (const instance of Object.values(secondaryRegion)) {
      expect(instance.instance_class).toBe("db.r7g.xlarge");
    }
  });

  it("changes no argument that forces replacement when activeRegion changes, so re-applying after a failover destroys nothing", () => {
    const before = synthDatabase({ activeRegion: "primary" });
    const after = synthDatabase({ activeRegion: "secondary" });
    for (const [type, argumentNames] of Object.entries(FORCE_NEW_ARGUMENTS)) {
      const old = resourcesOf(before, type);
      const current = resourcesOf(after, type);
      const shared = Object.keys(old).filter((name) => name in current);
      if (type === "aws_rds_cluster_instance") {
        // Only readers come and go: each region keeps instance 0.
        expect(shared).toEqual(
          expect.arrayContaining([
            expect.stringMatching(/^database_primary-instance-0_/),
            expect.stringMatching(/^database_secondary-instance-0_/),
          ]),
        );
      } else {
        expect(Object.keys(current).sort(), type).toEqual(Object.keys(old).sort());
      }
      for (const name of shared) {
        for (const argument of argumentNames) {
          expect(current[name][argument], `${type}.${name}.${argument}`).toEqual(
            old[name][argument],
          );
        }
      }
    }
    // A new password is written only when its version moves, never because activeRegion did.
    expect(after.ephemeral).toEqual(before.ephemeral);
  });

  it("builds a DB subnet group in each region from that region's database subnets", () => {
    for (const role of ["primary", "secondary"] as const) {
      expect(
        resourceAt(json, "aws_db_subnet_group", `database/${role}-subnet-group`),
      ).toMatchObject({
        provider: `aws.${role}`,
        name: `shop-test-${role}`,
        subnet_ids: [`subnet-${role}-a`, `subnet-${role}-b`, `subnet-${role}-c`],
      });
    }
  });

  it("gives each region's cluster its own security group, which admits nothing until allowFrom", () => {
    expect(resourcesOf(json, "aws_vpc_security_group_ingress_rule")).toEqual({});
    expect(resourcesOf(json, "aws_vpc_security_group_egress_rule")).toEqual({});
    for (const role of ["primary", "secondary"] as const) {
      const group = resourceAt(json, "aws_security_group", `database/${role}-security-group`);
      expect(group).toMatchObject({
        provider: `aws.${role}`,
        vpc_id: `vpc-${role}`,
        name: `shop-test-${role}-database`,
      });
      // Inline rules would fight the separate rule resources.
      expect(group).not.toHaveProperty("ingress");
      expect(group).not.toHaveProperty("egress");
      expect(resourceAt(json, "aws_rds_cluster", `database/${role}-cluster`)).toMatchObject({
        vpc_security_group_ids: [
          expect.stringMatching(
            new RegExp(`^\\$\\{aws_security_group\\.database_${role}-security-group_\\w+\\.id\\}$`),
          ),
        ],
        db_subnet_group_name: expect.stringContaining(`database_${role}-subnet-group_`),
      });
    }
  });

  it("allowFrom admits PostgreSQL from the given security group into that region's database only", () => {
    const allowed = synthDatabase({}, (database) =>
      database.allowFrom("secondary", APP_SECURITY_GROUP),
    );
    const rules = listResources(allowed, "aws_vpc_security_group_ingress_rule");
    expect(rules).toHaveLength(1);
    expect(
      resourceAt(
        allowed,
        "aws_vpc_security_group_ingress_rule",
        "database/secondary-ingress-from-app",
      ),
    ).toMatchObject({
      provider: "aws.secondary",
      security_group_id: expect.stringContaining(
        "aws_security_group.database_secondary-security-group_",
      ),
      referenced_security_group_id: APP_SECURITY_GROUP,
      ip_protocol: "tcp",
      from_port: 5432,
      to_port: 5432,
    });
    expect(rules[0]).not.toHaveProperty("cidr_ipv4");
  });

  it("allowFrom called again for a region adds a second rule without renaming the first", () => {
    const allowed = synthDatabase({}, (database) => {
      database.allowFrom("primary", APP_SECURITY_GROUP);
      database.allowFrom("primary", "sg-0fedcba9876543210");
    });
    expect(
      resourceAt(
        allowed,
        "aws_vpc_security_group_ingress_rule",
        "database/primary-ingress-from-app",
      ).referenced_security_group_id,
    ).toBe(APP_SECURITY_GROUP);
    expect(
      resourceAt(
        allowed,
        "aws_vpc_security_group_ingress_rule",
        "database/primary-ingress-from-app-2",
      ).referenced_security_group_id,
    ).toBe("sg-0fedcba9876543210");
  });

  it("generates a 32-character master password in an ephemeral block, without the characters RDS rejects", () => {
    const ephemeral = json.ephemeral ?? {};
    const [password, ...others] = Object.entries(ephemeral.aws_secretsmanager_random_password);
    expect(others).toEqual([]);
    expect(password[0]).toMatch(/^database_master-password_\w+$/);
    expect(password[1]).toEqual({
      provider: "aws.primary",
      password_length: 32,
      exclude_characters: "/@\" '\\`",
      require_each_included_type: true,
    });
    for (const rejected of ["/", "@", '"', " "]) {
      expect(password[1].exclude_characters).toContain(rejected);
    }
    expect(resourcesOf(json, "random_password")).toEqual({});
  });

  it("writes the credentials to the secret write-only and reads the cluster's password back from that secret version", () => {
    const ephemeral = json.ephemeral ?? {};
    const [[, readBack]] = Object.entries(ephemeral.aws_secretsmanager_secret_version);
    expect(readBack).toEqual({
      provider: "aws.primary",
      secret_id: expect.stringMatching(
        /^\$\{aws_secretsmanager_secret\.database_credentials_\w+\.id\}$/,
      ),
      version_id: expect.stringMatching(
        /^\$\{aws_secretsmanager_secret_version\.database_credentials-value_\w+\.version_id\}$/,
      ),
    });
  });

  it("writes a new password only when masterPasswordVersion is raised", () => {
    const { stack, providers } = databaseStack();
    new Database(stack, "database", databaseProps(providers, { masterPasswordVersion: 3 }));
    const raised = synth(stack);
    expect(
      resourceAt(raised, "aws_secretsmanager_secret_version", "database/credentials-value")
        .secret_string_wo_version,
    ).toBe(3);
    expect(
      resourceAt(raised, "aws_rds_cluster", "database/primary-cluster").master_password_wo_version,
    ).toBe(3);
  });

  it("stores the credentials as JSON in a secret encrypted with the primary key and replicated to the secondary region with the secondary key", () => {
    expect(resourceAt(json, "aws_secretsmanager_secret", "database/credentials")).toMatchObject({
      provider: "aws.primary",
      name: "shop-test/database/master-credentials",
      kms_key_id: KEYS.primary,
      replica: [{ region: TEST_REGIONS.secondary, kms_key_id: KEYS.secondary }],
    });
    const value = resourceAt(
      json,
      "aws_secretsmanager_secret_version",
      "database/credentials-value",
    );
    expect(value.secret_id).toMatch(
      /^\$\{aws_secretsmanager_secret\.database_credentials_\w+\.id\}$/,
    );
    expect(value).not.toHaveProperty("secret_string");
    expect(value.secret_string_wo).toMatch(
      /^\$\{jsonencode\(\{"username" = "shopsmart_admin", "password" = ephemeral\.aws_secretsmanager_random_password\.database_master-password_\w+\.random_password, "engine" = "postgres", "port" = 5432, "dbname" = "shopsmart"\}\)\}$/,
    );
    expect(value.secret_string_wo_version).toBe(1);
  });

  it("exposes the global writer endpoint, the clusters, the security groups and the secret ARN in each region", () => {
    const { stack, providers } = databaseStack();
    const database = new Database(stack, "database", databaseProps(providers));
    const outputs = {
      writer: database.writerEndpoint,
      globalId: database.globalClusterIdentifier,
      primaryArn: database.clusters.primary.arn,
      secondaryId: database.clusters.secondary.identifier,
      secondaryReader: database.clusters.secondary.readerEndpoint,
      secondaryGroup: database.securityGroupIds.secondary,
      primarySecret: database.credentialsSecretArns.primary,
      secondarySecret: database.credentialsSecretArns.secondary,
    };
    for (const [name, value] of Object.entries(outputs)) {
      new TerraformOutput(stack, name, { value });
    }
    const output = synth(stack).output ?? {};
    const outputValue = (name: string) => output[name]?.value;
    expect(outputValue("writer")).toMatch(
      /^\$\{aws_rds_global_cluster\.database_global-cluster_\w+\.endpoint\}$/,
    );
    expect(outputValue("globalId")).toMatch(
      /^\$\{aws_rds_global_cluster\.database_global-cluster_\w+\.global_cluster_identifier\}$/,
    );
    expect(outputValue("primaryArn")).toMatch(
      /^\$\{aws_rds_cluster\.database_primary-cluster_\w+\.arn\}$/,
    );
    expect(outputValue("secondaryId")).toMatch(
      /^\$\{aws_rds_cluster\.database_secondary-cluster_\w+\.cluster_identifier\}$/,
    );
    expect(outputValue("secondaryReader")).toMatch(
      /^\$\{aws_rds_cluster\.database_secondary-cluster_\w+\.reader_endpoint\}$/,
    );
    expect(outputValue("secondaryGroup")).toMatch(
      /^\$\{aws_security_group\.database_secondary-security-group_\w+\.id\}$/,
    );
    expect(outputValue("primarySecret")).toMatch(
      /^\$\{aws_secretsmanager_secret\.database_credentials_\w+\.arn\}$/,
    );
    // The replica has the primary secret's ARN with the secondary region in it.
    expect(outputValue("secondarySecret")).toMatch(
      /^\$\{replace\(aws_secretsmanager_secret\.database_credentials_\w+\.arn, ":secretsmanager:us-east-2:", ":secretsmanager:us-west-2:"\)\}$/,
    );
    expect(database.databaseName).toBe("shopsmart");
    expect(database.port).toBe(5432);
  });

  it("fails with every invalid prop named at once", () => {
    const { stack, providers } = databaseStack();
    const props = databaseProps(providers, {
      namePrefix: "Shop_Test",
      engineVersion: "16",
      databaseName: "1shop",
      masterUsername: "rdsadmin",
      backupRetentionDays: 5,
      activeRegion: "tertiary" as RegionRole,
      logRetentionDays: 10,
      primary: {
        instanceClass: "db.t4g.medium",
        instances: 0,
        subnetIds: ["subnet-primary-a"],
        kmsKeyArn: KEYS.secondary,
      },
      secondary: { instanceClass: "r7g.large", instances: 17 },
    });
    expect(() => new Database(stack, "database", props)).toThrow(
      [
        "Invalid props for test/database:",
        `  - namePrefix: got "Shop_Test"; expected at most 50 lower-case letters, digits and single '-', starting with a letter (it starts every RDS identifier)`,
        '  - engineVersion: got "16"; expected an Aurora PostgreSQL version such as 16.8',
        `  - databaseName: got "1shop"; expected 1-63 letters, digits and '_', starting with a letter`,
        `  - masterUsername: got "rdsadmin"; expected 1-63 letters, digits and '_', starting with a letter, other than the reserved 'rdsadmin'`,
        "  - backupRetentionDays: got 5; expected a whole number of days from 7 to 35",
        '  - activeRegion: got "tertiary"; expected "primary" or "secondary"',
        "  - logRetentionDays: got 10; expected a CloudWatch Logs retention: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653",
        '  - primary.instanceClass: got "db.t4g.medium"; expected a memory-optimized class such as db.r7g.large: Aurora global databases do not support burstable (db.t*) classes',
        "  - primary.instances: got 0; expected a whole number from 1 to 16",
        '  - primary.subnetIds: got ["subnet-primary-a"]; expected at least two database subnets in different AZs (RDS subnet groups need two AZs)',
        '  - primary.kmsKeyArn: got "arn:aws:kms:us-west-2:111111111111:key/secondary"; expected the ARN of a KMS key in primary.region (us-east-2): each region encrypts with its own key',
        '  - secondary.instanceClass: got "r7g.large"; expected an RDS instance class such as db.r7g.large',
        "  - secondary.instances: got 17; expected a whole number from 1 to 16",
      ].join("\n"),
    );
  });

  it("fails when both regions are the same", () => {
    const { stack, providers } = databaseStack();
    const props = databaseProps(providers, {
      secondary: { region: TEST_REGIONS.primary, kmsKeyArn: KEYS.primary },
    });
    expect(() => new Database(stack, "database", props)).toThrow(
      'Invalid props for test/database:\n  - secondary.region: got "us-east-2"; expected a region other than primary.region (us-east-2)',
    );
  });

  it("fails when allowFrom is given something other than a security group id", () => {
    const { stack, providers } = databaseStack();
    const database = new Database(stack, "database", databaseProps(providers));
    expect(() => database.allowFrom("primary", "10.0.0.0/16")).toThrow(
      'Invalid props for test/database:\n  - allowFrom.securityGroupId: got "10.0.0.0/16"; expected a security group id such as sg-0123456789abcdef0',
    );
  });
});
