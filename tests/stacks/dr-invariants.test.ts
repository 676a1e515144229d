import { resolve } from "node:path";
import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { loadEnvConfigs } from "../../src/config/load";
import { EnvironmentStack } from "../../src/stacks/environment-stack";
import { listResources, resourcesOf, type SynthesizedStack, synth } from "../support/synth";

/**
 * The DR and security rules of SPEC section 5, checked across the whole synthesized prod stack
 * rather than per construct, so a new construct that forgets one is caught here.
 */

const prod = loadEnvConfigs(resolve(__dirname, "../../envs")).find((c) => c.environment === "prod");
if (!prod) throw new Error("envs/prod.json is missing");
const json = synth(new EnvironmentStack(Testing.app(), { config: prod }));

type Resource = Record<string, unknown>;
const REGIONS = ["aws.primary", "aws.secondary"];

function providersOf(type: string): string[] {
  return listResources(json, type).map((r) => r.provider as string);
}

/** A reference to a resource of `type` inside a Terraform expression. */
function referencesType(value: unknown, type: string): boolean {
  return typeof value === "string" && value.includes(`${type}.`);
}

function allDataSources(stack: SynthesizedStack, type: string): Resource[] {
  return Object.values(stack.data?.[type] ?? {});
}

describe("prod stack: region independence", () => {
  it.each([
    "aws_vpc",
    "aws_kms_key",
    "aws_lb",
    "aws_autoscaling_group",
    "aws_launch_template",
    "aws_rds_cluster",
    "aws_db_subnet_group",
    "aws_s3_bucket",
    "aws_sns_topic",
    "aws_backup_vault",
    "aws_acm_certificate",
    "aws_cloudwatch_metric_alarm",
  ])("has %s in both regions", (type) => {
    const providers = providersOf(type);
    for (const region of REGIONS) expect(providers).toContain(region);
  });

  it("keeps the app's settings in both regions, with the same keys", () => {
    const names = (provider: string) =>
      listResources(json, "aws_ssm_parameter")
        .filter((p) => p.provider === provider)
        .map((p) => p.name)
        .sort();
    expect(names("aws.primary")).toEqual(names("aws.secondary"));
    expect(names("aws.primary")).toEqual([
      "/shopsmart/prod/app/region-role",
      "/shopsmart/prod/assets/bucket",
      "/shopsmart/prod/db/name",
      "/shopsmart/prod/db/reader-endpoint",
      "/shopsmart/prod/db/secret-arn",
      "/shopsmart/prod/db/writer-endpoint",
    ]);
  });

  it("replicates every secret to the secondary region with the secondary key", () => {
    const secrets = listResources(json, "aws_secretsmanager_secret");
    expect(secrets.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      expect(secret.replica).toEqual([
        { region: "us-west-2", kms_key_id: expect.stringContaining("key-secondary") },
      ]);
    }
  });
});

describe("prod stack: data plane first", () => {
  it("routes the public name with PRIMARY/SECONDARY failover records, each guarded by a health check", () => {
    const records = listResources(json, "aws_route53_record").filter(
      (r) => r.failover_routing_policy !== undefined,
    );
    expect(records.map((r) => (r.failover_routing_policy as { type: string }).type).sort()).toEqual(
      ["PRIMARY", "SECONDARY"],
    );
    for (const record of records) {
      expect(record.name).toBe("shop.example.com");
      expect(record.alias).toMatchObject({ evaluate_target_health: true });
      expect(referencesType(record.health_check_id, "aws_route53_health_check")).toBe(true);
    }
    const checked = listResources(json, "aws_route53_health_check")
      .filter((c) => c.type === "HTTPS")
      .map((c) => c.fqdn);
    expect(checked).toEqual([
      expect.stringContaining("compute-primary_load-balancer"),
      expect.stringContaining("compute-secondary_load-balancer"),
    ]);
  });

  it("moves traffic with health checks that follow alarms in the secondary region, not the Route 53 API", () => {
    const byType = (type: string) =>
      listResources(json, "aws_route53_health_check").filter((c) => c.type === type);
    expect(byType("CALCULATED")).toHaveLength(2);
    expect(byType("CLOUDWATCH_METRIC").map((c) => c.cloudwatch_alarm_region)).toEqual([
      "us-west-2",
      "us-west-2",
    ]);
    const actions = Object.values(json.data?.aws_iam_policy_document ?? {}).flatMap((document) =>
      (document.statement as { actions?: string[] }[]).flatMap((s) => s.actions ?? []),
    );
    expect(actions).not.toContain("route53:ChangeResourceRecordSets");
  });
});

describe("prod stack: database", () => {
  it("is an encrypted Aurora PostgreSQL global database with >= 2 primary and >= 1 secondary instances", () => {
    const [global] = listResources(json, "aws_rds_global_cluster");
    expect(global).toMatchObject({ engine: "aurora-postgresql", storage_encrypted: true });
    for (const cluster of listResources(json, "aws_rds_cluster")) {
      expect(cluster).toMatchObject({ storage_encrypted: true, deletion_protection: true });
      expect(referencesType(cluster.kms_key_id, "aws_kms_key")).toBe(true);
      expect(cluster.backup_retention_period).toBeGreaterThanOrEqual(7);
      // Terraform must not fight the topology after a failover.
      expect((cluster.lifecycle as { ignore_changes: string[] }).ignore_changes).toEqual(
        expect.arrayContaining(["global_cluster_identifier", "replication_source_identifier"]),
      );
    }
    const instances = Object.entries(resourcesOf(json, "aws_rds_cluster_instance"));
    const count = (role: string) =>
      instances.filter(([id]) => id.startsWith(`database_${role}`)).length;
    expect(count("primary")).toBeGreaterThanOrEqual(2);
    expect(count("secondary")).toBeGreaterThanOrEqual(1);
  });

  it("admits PostgreSQL only from the app security group of the same region", () => {
    const rules = listResources(json, "aws_vpc_security_group_ingress_rule").filter(
      (r) => r.from_port === 5432,
    );
    expect(rules).toHaveLength(2);
    for (const rule of rules) {
      expect(rule.cidr_ipv4).toBeUndefined();
      const region = (rule.provider as string).replace("aws.", "");
      expect(rule.referenced_security_group_id).toContain(`compute-${region}_app-security-group`);
    }
  });
});

describe("prod stack: objects and backups", () => {
  it("replicates assets both ways with RTC, metrics and delete markers", () => {
    const configurations = listResources(json, "aws_s3_bucket_replication_configuration");
    expect(configurations.map((c) => c.provider).sort()).toEqual(REGIONS);
    for (const configuration of configurations) {
      expect(configuration.rule).toMatchObject([
        {
          delete_marker_replication: { status: "Enabled" },
          destination: {
            replication_time: { status: "Enabled" },
            metrics: { status: "Enabled" },
          },
        },
      ]);
    }
  });

  it("versions every bucket", () => {
    const buckets = listResources(json, "aws_s3_bucket").length;
    const versioned = listResources(json, "aws_s3_bucket_versioning").filter(
      (v) => (v.versioning_configuration as { status: string }).status === "Enabled",
    );
    expect(versioned).toHaveLength(buckets);
  });

  it("copies every backup to the other region's vault", () => {
    const [plan] = listResources(json, "aws_backup_plan");
    expect(plan.provider).toBe("aws.primary");
    for (const rule of plan.rule as { copy_action: { destination_vault_arn: string }[] }[]) {
      expect(rule.copy_action[0].destination_vault_arn).toContain("backup_secondary-vault");
    }
  });
});

describe("prod stack: security", () => {
  it("encrypts data at rest with KMS keys of the stack", () => {
    for (const topic of listResources(json, "aws_sns_topic")) {
      expect(referencesType(topic.kms_master_key_id, "aws_kms_key")).toBe(true);
    }
    for (const vault of listResources(json, "aws_backup_vault")) {
      expect(referencesType(vault.kms_key_arn, "aws_kms_key")).toBe(true);
    }
    for (const group of listResources(json, "aws_cloudwatch_log_group")) {
      expect(referencesType(group.kms_key_id, "aws_kms_key")).toBe(true);
    }
    for (const template of listResources(json, "aws_launch_template")) {
      for (const mapping of template.block_device_mappings as { ebs: Resource }[]) {
        expect(mapping.ebs.encrypted).toBe("true");
      }
    }
    for (const sse of listResources(json, "aws_s3_bucket_server_side_encryption_configuration")) {
      const [rule] = sse.rule as {
        apply_server_side_encryption_by_default: { sse_algorithm: string };
      }[];
      // Access-log buckets use SSE-S3: S3 server access logging cannot deliver to SSE-KMS.
      expect(["aws:kms", "AES256"]).toContain(
        rule.apply_server_side_encryption_by_default.sse_algorithm,
      );
    }
  });

  it("sets a retention on every log group", () => {
    for (const group of listResources(json, "aws_cloudwatch_log_group")) {
      expect(group.retention_in_days).toBeGreaterThan(0);
    }
  });

  it("blocks public access and denies plain HTTP on every bucket", () => {
    const buckets = listResources(json, "aws_s3_bucket").length;
    const blocks = listResources(json, "aws_s3_bucket_public_access_block").filter(
      (b) =>
        b.block_public_acls &&
        b.block_public_policy &&
        b.ignore_public_acls &&
        b.restrict_public_buckets,
    );
    expect(blocks).toHaveLength(buckets);
    expect(listResources(json, "aws_s3_bucket_policy")).toHaveLength(buckets);
  });

  it("requires IMDSv2 on every launch template", () => {
    for (const template of listResources(json, "aws_launch_template")) {
      expect(template.metadata_options).toMatchObject({ http_tokens: "required" });
    }
  });

  it("opens nothing but HTTP(S) to the internet, and no SSH at all in prod", () => {
    const open = listResources(json, "aws_vpc_security_group_ingress_rule").filter(
      (r) => r.cidr_ipv4 === "0.0.0.0/0" || r.cidr_ipv6 === "::/0",
    );
    expect(open.map((r) => r.from_port).sort()).toEqual([443, 443, 80, 80]);
    expect(
      listResources(json, "aws_vpc_security_group_ingress_rule").some((r) => r.from_port === 22),
    ).toBe(false);
  });

  it("grants no wildcard actions in IAM policies (the KMS key-policy root statement aside)", () => {
    const offenders: string[] = [];
    for (const document of allDataSources(json, "aws_iam_policy_document")) {
      for (const statement of document.statement as {
        sid?: string;
        effect?: string;
        actions?: string[];
      }[]) {
        if (statement.effect === "Deny" || statement.sid === "EnableIamPolicies") continue;
        for (const action of statement.actions ?? []) {
          if (action === "*" || action.endsWith(":*"))
            offenders.push(`${statement.sid ?? "?"}: ${action}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });
});
