import { DbInstance } from "@cdktf/provider-aws/lib/db-instance";
import { RdsCluster } from "@cdktf/provider-aws/lib/rds-cluster";
import { RdsGlobalCluster } from "@cdktf/provider-aws/lib/rds-global-cluster";
import { describe, expect, it } from "vitest";
import { keyArn, named, violation, violationsOf } from "../support/guardrails";
import { stackWithProviders, TEST_REGIONS } from "../support/synth";
import { violationAt } from "./violation-at";

function cluster(props: {
  storageEncrypted?: boolean;
  kmsKeyId?: string;
  deletionProtection?: boolean;
  backupRetentionPeriod?: number;
}) {
  const { stack, providers } = stackWithProviders();
  new RdsCluster(stack, "cluster", {
    provider: providers.primary,
    clusterIdentifier: "shop",
    engine: "aurora-postgresql",
    ...props,
  });
  return { stack, providers };
}

const COMPLIANT = {
  storageEncrypted: true,
  kmsKeyId: keyArn(TEST_REGIONS.primary),
  deletionProtection: true,
  backupRetentionPeriod: 14,
};

describe("SS-RDS-1 databases encrypt with a KMS key", () => {
  it("fails unencrypted storage, the AWS-managed key, and an unencrypted global cluster", () => {
    const { stack, providers } = cluster({});
    new RdsCluster(stack, "aws-key-cluster", {
      provider: providers.primary,
      clusterIdentifier: "shop-2",
      engine: "aurora-postgresql",
      storageEncrypted: true,
    });
    new RdsGlobalCluster(stack, "global", {
      provider: providers.primary,
      globalClusterIdentifier: "shop-global",
      engine: "aurora-postgresql",
    });
    expect(violationsOf("SS-RDS-1", stack)).toEqual([
      violation("SS-RDS-1", "test/cluster", "storage_encrypted is unset"),
      violation(
        "SS-RDS-1",
        "test/aws-key-cluster",
        "has no kms_key_id, so it is encrypted with the AWS-managed aws/rds key",
      ),
      violation("SS-RDS-1", "test/global", "storage_encrypted is unset"),
    ]);
  });

  it("passes storage encrypted with a KMS key", () => {
    const { stack, providers } = cluster(COMPLIANT);
    new RdsGlobalCluster(stack, "global", {
      provider: providers.primary,
      globalClusterIdentifier: "shop-global",
      engine: "aurora-postgresql",
      storageEncrypted: true,
    });
    expect(violationsOf("SS-RDS-1", stack)).toEqual([]);
  });
});

describe("SS-RDS-2 production databases have deletion protection", () => {
  it("fails a production cluster and instance without deletion protection", () => {
    const { stack, providers } = cluster({ ...COMPLIANT, deletionProtection: false });
    new DbInstance(stack, "instance", {
      provider: providers.primary,
      identifier: "shop-reports",
      engine: "postgres",
      instanceClass: "db.t4g.micro",
      storageEncrypted: true,
      kmsKeyId: keyArn(TEST_REGIONS.primary),
      backupRetentionPeriod: 7,
    });
    expect(violationsOf("SS-RDS-2", stack, { production: true })).toEqual([
      violationAt(
        "SS-RDS-2",
        "test/cluster",
        "deletion_protection is false in production",
        "aws_rds_cluster.cluster",
      ),
      violationAt(
        "SS-RDS-2",
        "test/instance",
        "deletion_protection is unset in production",
        "aws_db_instance.instance",
      ),
    ]);
  });

  it("passes protected production databases, and unprotected ones outside production", () => {
    expect(violationsOf("SS-RDS-2", cluster(COMPLIANT).stack, { production: true })).toEqual([]);
    expect(violationsOf("SS-RDS-2", cluster({}).stack)).toEqual([]);
  });
});

describe("SS-RDS-3 database backups are kept at least 7 days", () => {
  it.each(
    named([
      { name: "the 1-day default", props: {}, days: 1 },
      { name: "short retention (3 days)", props: { backupRetentionPeriod: 3 }, days: 3 },
    ]),
  )("fails %s", (_name, { props, days }) => {
    expect(violationsOf("SS-RDS-3", cluster(props).stack)).toEqual([
      violationAt(
        "SS-RDS-3",
        "test/cluster",
        `keeps automated backups ${days} day(s) (backup_retention_period); at least 7 are required`,
        "aws_rds_cluster.cluster",
      ),
    ]);
  });

  it("passes 7 days or more", () => {
    expect(violationsOf("SS-RDS-3", cluster({ backupRetentionPeriod: 7 }).stack)).toEqual([]);
  });
});
