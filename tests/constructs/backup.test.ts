import { TerraformOutput } from "cdktf";
import { describe, expect, it } from "vitest";
import { Backup, type BackupProps } from "../../src/constructs/backup";
import {
  dataSourceAt,
  listResources,
  policyStatements,
  resourceAt,
  stackWithProviders,
  synth,
  TEST_REGIONS,
} from "../support/synth";

const KEYS = {
  primary: "arn:aws:kms:us-east-2:111111111111:key/primary",
  secondary: "arn:aws:kms:us-west-2:111111111111:key/secondary",
};
const RESOURCES = [
  "arn:aws:rds:us-east-2:111111111111:cluster:shop-test-primary",
  "arn:aws:s3:::shop-test-primary-assets-111111111111",
];

type Overrides = Partial<Omit<BackupProps, "regions">>;

function build(overrides: Overrides = {}) {
  const { stack, providers } = stackWithProviders();
  const backup = new Backup(stack, "backup", {
    namePrefix: "shop-test",
    regions: {
      primary: {
        provider: providers.primary,
        region: TEST_REGIONS.primary,
        kmsKeyArn: KEYS.primary,
      },
      secondary: {
        provider: providers.secondary,
        region: TEST_REGIONS.secondary,
        kmsKeyArn: KEYS.secondary,
      },
    },
    resourceArns: RESOURCES,
    accountId: "111111111111",
    ...overrides,
  });
  return { stack, backup };
}

function synthBackup(overrides: Overrides = {}) {
  return synth(build(overrides).stack);
}

type Rule = {
  rule_name: string;
  schedule: string;
  target_vault_name: string;
  lifecycle: { delete_after: number };
  copy_action: { destination_vault_arn: string; lifecycle: { delete_after: number } }[];
};

describe("Backup", () => {
  const json = synthBackup({ schedule: "cron(30 2 ? * SUN *)", retentionDays: 14 });

  it("creates a vault in each region encrypted with that region's KMS key", () => {
    expect(resourceAt(json, "aws_backup_vault", "primary-vault")).toMatchObject({
      name: "shop-test-primary",
      kms_key_arn: KEYS.primary,
      force_destroy: false,
      provider: "aws.primary",
    });
    expect(resourceAt(json, "aws_backup_vault", "secondary-vault")).toMatchObject({
      name: "shop-test-secondary",
      kms_key_arn: KEYS.secondary,
      force_destroy: false,
      provider: "aws.secondary",
    });
  });

  it("backs up on the schedule into the primary vault and keeps recovery points retentionDays", () => {
    const plan = resourceAt(json, "aws_backup_plan", "primary-plan");
    expect(plan.provider).toBe("aws.primary");
    expect(plan.name).toBe("shop-test-backup");
    const [rule] = plan.rule as Rule[];
    expect(rule).toMatchObject({
      rule_name: "scheduled-copy-to-secondary",
      schedule: "cron(30 2 ? * SUN *)",
      lifecycle: { delete_after: 14 },
    });
    expect(rule.target_vault_name).toMatch(/aws_backup_vault\.backup_primary-vault.*\.name\}$/);
    expect(rule).not.toHaveProperty("enable_continuous_backup");
  });

  it("copies every recovery point to the secondary vault, keeping the copy as long by default", () => {
    const [rule] = resourceAt(json, "aws_backup_plan", "primary-plan").rule as Rule[];
    expect(rule.copy_action).toEqual([
      {
        destination_vault_arn: expect.stringMatching(
          /aws_backup_vault\.backup_secondary-vault.*\.arn\}$/,
        ),
        lifecycle: { delete_after: 14 },
      },
    ]);
  });

  it("keeps copies for copyRetentionDays when it differs from retentionDays", () => {
    const [rule] = resourceAt(
      synthBackup({ retentionDays: 7, copyRetentionDays: 90 }),
      "aws_backup_plan",
      "primary-plan",
    ).rule as Rule[];
    expect(rule.lifecycle).toEqual({ delete_after: 7 });
    expect(rule.copy_action[0].lifecycle).toEqual({ delete_after: 90 });
  });

  it("defaults to a daily 05:00 UTC backup kept 35 days", () => {
    const [rule] = resourceAt(synthBackup(), "aws_backup_plan", "primary-plan").rule as Rule[];
    expect(rule.schedule).toBe("cron(0 5 * * ? *)");
    expect(rule.lifecycle).toEqual({ delete_after: 35 });
    expect(rule.copy_action[0].lifecycle).toEqual({ delete_after: 35 });
  });

  it("selects exactly the given resources, once their role has its permissions", () => {
    const selection = resourceAt(json, "aws_backup_selection", "primary-selection");
    expect(selection).toMatchObject({
      provider: "aws.primary",
      name: "shop-test-data",
      resources: RESOURCES,
      plan_id: expect.stringMatching(/aws_backup_plan\.backup_primary-plan.*\.id\}$/),
      iam_role_arn: expect.stringMatching(/aws_iam_role\.backup_role.*\.arn\}$/),
    });
    const dependsOn = selection.depends_on as string[];
    expect(dependsOn).toHaveLength(5);
    expect(dependsOn.filter((d) => d.startsWith("aws_iam_role_policy_attachment."))).toHaveLength(
      4,
    );
    expect(dependsOn).toContainEqual(expect.stringMatching(/^aws_iam_role_policy\./));
  });

  it("uses a role only AWS Backup can assume, for this account and both regions when it says so", () => {
    expect(resourceAt(json, "aws_iam_role", "backup/role")).toMatchObject({
      name: "shop-test-backup",
      provider: "aws.primary",
    });
    // IfExists: AWS Backup is not documented to send these keys, and a strict operator on a
    // missing key would deny the AssumeRole and stop every backup.
    expect(policyStatements(json, "backup/trust")).toEqual([
      {
        actions: ["sts:AssumeRole"],
        principals: [{ type: "Service", identifiers: ["backup.amazonaws.com"] }],
        condition: [
          {
            test: "StringEqualsIfExists",
            variable: "aws:SourceAccount",
            values: ["111111111111"],
          },
          {
            test: "ArnLikeIfExists",
            variable: "aws:SourceArn",
            values: [
              "arn:aws:backup:us-east-2:111111111111:*",
              "arn:aws:backup:us-west-2:111111111111:*",
            ],
          },
        ],
      },
    ]);
  });

  it("looks the account up with the active region's provider when none is given", () => {
    const lookedUp = synthBackup({ accountId: undefined, activeRegion: "secondary" });
    expect(dataSourceAt(lookedUp, "aws_caller_identity", "backup/account").provider).toBe(
      "aws.secondary",
    );
    expect(json.data).not.toHaveProperty("aws_caller_identity");
  });

  it("locks no vault by default", () => {
    expect(listResources(json, "aws_backup_vault_lock_configuration")).toEqual([]);
  });

  it("puts a governance lock, without a lock date, on both vaults", () => {
    const locked = synthBackup({
      vaultLock: { mode: "governance", minRetentionDays: 7, maxRetentionDays: 365 },
    });
    for (const role of ["primary", "secondary"] as const) {
      const lock = resourceAt(locked, "aws_backup_vault_lock_configuration", `${role}-vault-lock`);
      expect(lock).toMatchObject({
        provider: `aws.${role}`,
        backup_vault_name: expect.stringMatching(
          new RegExp(`aws_backup_vault\\.backup_${role}-vault.*\\.name\\}$`),
        ),
        min_retention_days: 7,
        max_retention_days: 365,
      });
      expect(lock).not.toHaveProperty("changeable_for_days");
    }
  });

  it("puts a compliance lock that becomes immutable after changeableForDays on both vaults", () => {
    const locked = synthBackup({
      retentionDays: 35,
      copyRetentionDays: 14,
      vaultLock: {
        mode: "compliance",
        changeableForDays: 3,
        minRetentionDays: 14,
        maxRetentionDays: 35,
      },
    });
    for (const role of ["primary", "secondary"] as const) {
      expect(
        resourceAt(locked, "aws_backup_vault_lock_configuration", `${role}-vault-lock`),
      ).toMatchObject({ changeable_for_days: 3, min_retention_days: 14, max_retention_days: 35 });
    }
  });

  it("attaches the AWS Backup managed policies, including the S3 pair under their own path", () => {
    const attached = listResources(json, "aws_iam_role_policy_attachment")
      .map((a) => a.policy_arn)
      .sort();
    expect(attached).toEqual([
      "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Backup",
      "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Restore",
      "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
      "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
    ]);
    for (const attachment of listResources(json, "aws_iam_role_policy_attachment")) {
      expect(attachment.role).toMatch(/aws_iam_role\.backup_role.*\.name\}$/);
    }
  });

  it("lets the role use both regional keys and no other key, without wildcard actions", () => {
    const statements = policyStatements(json, "backup/key-access");
    expect(statements).toEqual([
      {
        sid: "UseRegionalKeys",
        actions: ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
        resources: [KEYS.primary, KEYS.secondary],
      },
      {
        sid: "GrantRegionalKeysToAwsServices",
        actions: ["kms:CreateGrant"],
        resources: [KEYS.primary, KEYS.secondary],
        condition: [{ test: "Bool", variable: "kms:GrantIsForAWSResource", values: ["true"] }],
      },
    ]);
    expect(resourceAt(json, "aws_iam_role_policy", "backup/role-key-access").policy).toMatch(
      /data\.aws_iam_policy_document\.backup_key-access.*\.json\}$/,
    );
  });

  it("exposes the vault ARNs and the plan id", () => {
    const { stack, backup } = build();
    new TerraformOutput(stack, "primary-vault-arn", { value: backup.vaultArns.primary });
    new TerraformOutput(stack, "secondary-vault-arn", { value: backup.vaultArns.secondary });
    new TerraformOutput(stack, "plan-id", { value: backup.planId });
    const outputs = synth(stack).output ?? {};
    expect(outputs["primary-vault-arn"].value).toMatch(
      /^\$\{aws_backup_vault\.backup_primary-vault.*\.arn\}$/,
    );
    expect(outputs["secondary-vault-arn"].value).toMatch(
      /^\$\{aws_backup_vault\.backup_secondary-vault.*\.arn\}$/,
    );
    expect(outputs["plan-id"].value).toMatch(/^\$\{aws_backup_plan\.backup_primary-plan.*\.id\}$/);
  });

  it("runs the plan in the secondary region and copies back to the primary vault after failover", () => {
    const failedOver = synthBackup({ activeRegion: "secondary" });
    expect(listResources(failedOver, "aws_backup_plan")).toHaveLength(1);
    expect(listResources(failedOver, "aws_backup_selection")).toHaveLength(1);
    const plan = resourceAt(failedOver, "aws_backup_plan", "secondary-plan");
    expect(plan.provider).toBe("aws.secondary");
    const [rule] = plan.rule as Rule[];
    expect(rule.rule_name).toBe("scheduled-copy-to-primary");
    expect(rule.target_vault_name).toMatch(/aws_backup_vault\.backup_secondary-vault/);
    expect(rule.copy_action[0].destination_vault_arn).toMatch(
      /aws_backup_vault\.backup_primary-vault/,
    );
    expect(resourceAt(failedOver, "aws_backup_selection", "secondary-selection").provider).toBe(
      "aws.secondary",
    );
    // Both vaults stay, so recovery points taken before the switch keep their home.
    expect(listResources(failedOver, "aws_backup_vault")).toHaveLength(2);
  });

  it("fails when the schedule is not a cron expression", () => {
    expect(() => build({ schedule: "rate(1 day)" })).toThrow(
      'Invalid props for test/backup:\n  - schedule: got "rate(1 day)"; expected the form cron(minutes hours day-of-month month day-of-week year)',
    );
  });

  it("fails when the schedule would start jobs more than once an hour", () => {
    expect(() => build({ schedule: "cron(0/15 * * * ? *)" })).toThrow(
      'Invalid props for test/backup:\n  - schedule: got "cron(0/15 * * * ? *)"; expected a single minute in the minutes field, e.g. cron(0 5 * * ? *): AWS Backup starts jobs at most once an hour',
    );
  });

  it("fails when retention is under a week and copies are kept under a day", () => {
    expect(() => build({ retentionDays: 6, copyRetentionDays: 0 })).toThrow(
      "Invalid props for test/backup:\n" +
        "  - retentionDays: got 6; expected a whole number of days >= 7, so a week of recovery points survives a late discovery\n" +
        "  - copyRetentionDays: got 0; expected a whole number of days >= 1",
    );
  });

  it("fails when retention is not a whole number of days", () => {
    expect(() => build({ retentionDays: 10.5 })).toThrow(
      "Invalid props for test/backup:\n  - retentionDays: got 10.5; expected a whole number of days >= 7, so a week of recovery points survives a late discovery",
    );
  });

  it("fails when there is nothing to back up or an entry is not an ARN", () => {
    expect(() => build({ resourceArns: [] })).toThrow(
      "Invalid props for test/backup:\n  - resourceArns: got []; expected at least one resource ARN (the database cluster and the assets bucket)",
    );
    expect(() => build({ resourceArns: ["shop-test-primary-assets"] })).toThrow(
      'Invalid props for test/backup:\n  - resourceArns[0]: got "shop-test-primary-assets"; expected an ARN such as arn:aws:rds:...:cluster:name',
    );
  });

  it("fails on a compliance lock without its grace time and retentions outside the lock's range", () => {
    expect(() =>
      build({
        retentionDays: 35,
        copyRetentionDays: 7,
        vaultLock: { mode: "compliance", minRetentionDays: 14, maxRetentionDays: 30 },
      }),
    ).toThrow(
      "Invalid props for test/backup:\n" +
        "  - vaultLock.changeableForDays: missing; expected a whole number of days >= 3 in compliance mode (AWS Backup's cooling-off period; the lock is immutable after it)\n" +
        "  - vaultLock.minRetentionDays: got 14; expected at most 7, the shorter of retentionDays (35) and copyRetentionDays (7): the vaults fail backup and copy jobs that keep recovery points for less\n" +
        "  - vaultLock.maxRetentionDays: got 30; expected at least 35, the longer of retentionDays (35) and copyRetentionDays (7): the vaults fail backup and copy jobs that keep recovery points for more",
    );
  });

  it("fails on a compliance grace time under 3 days and on a governance lock with one", () => {
    const lock = { minRetentionDays: 7, maxRetentionDays: 35 };
    expect(() =>
      build({ vaultLock: { mode: "compliance", changeableForDays: 2, ...lock } }),
    ).toThrow(
      "Invalid props for test/backup:\n  - vaultLock.changeableForDays: got 2; expected a whole number of days >= 3 in compliance mode (AWS Backup's cooling-off period; the lock is immutable after it)",
    );
    expect(() =>
      build({ vaultLock: { mode: "governance", changeableForDays: 3, ...lock } }),
    ).toThrow(
      'Invalid props for test/backup:\n  - vaultLock.changeableForDays: got 3; expected no value in governance mode: a lock with changeableForDays is a compliance lock, immutable after that many days (use mode "compliance" if that is meant)',
    );
  });

  it("fails when the name prefix would make vault names too long", () => {
    const namePrefix = "a".repeat(41);
    expect(() => build({ namePrefix })).toThrow(
      `Invalid props for test/backup:\n  - namePrefix: got "${namePrefix}"; expected 1-40 letters, digits, '-' and '_' (vault names add "-secondary" and allow 50)`,
    );
  });
});
