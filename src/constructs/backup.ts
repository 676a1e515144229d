import { BackupPlan } from "@cdktf/provider-aws/lib/backup-plan";
import { BackupSelection } from "@cdktf/provider-aws/lib/backup-selection";
import { BackupVault } from "@cdktf/provider-aws/lib/backup-vault";
import { BackupVaultLockConfiguration } from "@cdktf/provider-aws/lib/backup-vault-lock-configuration";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Construct } from "constructs";
import {
  otherRole,
  perRole,
  REGION_ROLES,
  type RegionRole,
} from "../../functions/shared/region-roles";
import { ARN, backupNamePrefix } from "../aws-formats";
import { cronExpressionProblem } from "../config/cron-expression";
import {
  VAULT_LOCK_MIN_CHANGEABLE_DAYS,
  VAULT_LOCK_MODES,
  type VaultLockMode,
} from "../config/schema";
import { isKnown, ProblemCollector } from "../errors";
import { Guardrails } from "../guardrails";
import type { RegionContext } from "./region-context";
import { confusedDeputyConditions, serviceTrustPolicy } from "./service-trust";

/** What Backup needs to know about one region of the pair. */
export interface BackupRegion extends RegionContext {
  /** Provider of the region the vault lives in. */
  readonly provider: AwsProvider;
  /** Region of `provider`; scopes the role's trust to AWS Backup of this region and the other. */
  readonly region: string;
  /** The region's KMS key; the vault, and every copy that lands in it, is encrypted with it. */
  readonly kmsKeyArn: string;
}

/**
 * AWS Backup Vault Lock on both vaults (https://docs.aws.amazon.com/aws-backup/latest/devguide/vault-lock.html):
 * nobody can delete a recovery point or shorten its retention, and every backup or copy job
 * into the vault must keep its recovery point between `minRetentionDays` and
 * `maxRetentionDays`, or the vault fails the job.
 *
 * WARNING: a `compliance` lock becomes immutable `changeableForDays` after it is applied (the
 * grace time): from then on no user, not the root user and not AWS, can change or remove it,
 * and the vault cannot be deleted until every recovery point in it has expired. A `governance`
 * lock can be changed or removed by principals with the backup:PutBackupVaultLockConfiguration /
 * backup:DeleteBackupVaultLockConfiguration permissions.
 *
 * Side effect: every argument of aws_backup_vault_lock_configuration forces replacement, so
 * changing or removing the lock deletes and re-puts it (hashicorp/terraform-provider-aws
 * internal/service/backup/vault_lock_configuration.go); past a compliance lock's grace time that
 * delete fails and the apply with it.
 */
export interface BackupVaultLock {
  readonly mode: VaultLockMode;
  /**
   * Compliance mode only: days, at least 3 (the AWS cooling-off period), during which the lock
   * can still be changed or removed. Its presence is what makes a lock a compliance lock, so a
   * governance lock has none.
   */
  readonly changeableForDays?: number;
  /** Shortest retention a recovery point in the vault may have; at most both retentions. */
  readonly minRetentionDays: number;
  /** Longest retention a recovery point in the vault may have; at least both retentions. */
  readonly maxRetentionDays: number;
}

export interface BackupProps {
  /** Prefix of every name, `<project>-<env>`; vaults add the role. At most 40 characters. */
  readonly namePrefix: string;
  /** Provider and KMS key of each region; each region gets a vault. */
  readonly regions: Readonly<Record<RegionRole, BackupRegion>>;
  /**
   * Resources the plan backs up: the database cluster ARN and assets bucket ARN(s) of the
   * `activeRegion` (an AWS Backup plan only protects resources in its own region).
   */
  readonly resourceArns: string[];
  /**
   * When the plan starts a backup: `cron(minutes hours day-of-month month day-of-week year)`,
   * UTC, at most once an hour (the AWS Backup limit).
   * @default "cron(0 5 * * ? *)" - daily at 05:00 UTC
   */
  readonly schedule?: string;
  /** Days a recovery point is kept in the vault of the region it was taken in (>= 7). @default 35 */
  readonly retentionDays?: number;
  /** Days the copy in the other region's vault is kept (>= 1). @default - same as `retentionDays` */
  readonly copyRetentionDays?: number;
  /**
   * The region that holds the writer. The plan, its selection and its role's use live there and
   * copy every recovery point to the other region's vault. Set it with the stack's
   * `activeRegion` after a failover, so backups follow the writer; changing it replaces the plan
   * and selection (recovery points already taken stay in their vaults until they expire).
   * @default "primary"
   */
  readonly activeRegion?: RegionRole;
  /**
   * Account the vaults and the role are in; the role's trust admits AWS Backup acting for it.
   * @default - the account of the active region's provider, looked up with aws_caller_identity
   */
  readonly accountId?: string;
  /**
   * Vault Lock on both vaults. Both vaults get the same lock, because each receives local
   * backups (`retentionDays`) and copies (`copyRetentionDays`) depending on `activeRegion`.
   * See {@link BackupVaultLock} before choosing `compliance`.
   * @default - no vault lock
   */
  readonly vaultLock?: BackupVaultLock;
}

const DEFAULT_SCHEDULE = "cron(0 5 * * ? *)";
const MIN_RETENTION_DAYS = 7;
// Vault names allow 2-50 letters, digits, '-' and '_'; the longest suffix is "-secondary".
const MAX_NAME_PREFIX_LENGTH = 50 - "-secondary".length;

/**
 * AWS managed policies of the backup role. The general ones are service-role policies; the S3
 * ones were added later under the plain `policy/` path. The S3 pair is always attached: the
 * selection holds bucket ARNs, and ARNs are unresolved at synth time, so they cannot be sniffed.
 */
export const BACKUP_MANAGED_POLICY_ARNS = [
  "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
  "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
  "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Backup",
  "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Restore",
] as const;

/**
 * AWS Backup for the pair: a KMS-encrypted vault in each region, and a plan in the active
 * region that backs up `resourceArns` on `schedule` and copies every recovery point to the
 * other region's vault, so a region's loss never takes its only backups with it.
 *
 * Direction. An AWS Backup plan can only protect resources of its own region, so one plan
 * cannot cover the writer wherever it is. Running a plan in both regions all the time would
 * back up the read-only replicas as well, doubling backup storage for data already copied
 * across. Instead the plan follows the writer: with `activeRegion: "secondary"` (set after a
 * failover) it runs in the secondary region against the secondary's resources and copies back
 * to the primary vault. While the primary region is down those copy jobs fail, but the local
 * recovery points are still taken; the vaults exist in both regions at all times.
 *
 * Encryption. Aurora recovery points keep the cluster's own key (RDS snapshots are not
 * re-encrypted by AWS Backup), S3 recovery points use the vault key, and a cross-region copy
 * is re-encrypted with the destination vault's key, which is why each vault uses its own
 * region's key. The role may use both keys; the key policies already let IAM grant that.
 *
 * Snapshot (not continuous) backups: continuous backup of an Aurora cluster makes AWS Backup
 * manage the cluster's backup retention, which would fight the database construct's
 * `backup_retention_period` on every plan.
 *
 * Vault Lock (`vaultLock`, off by default) goes on both vaults with the same settings. A
 * compliance lock is irreversible once its grace time is over; see {@link BackupVaultLock}.
 */
export class Backup extends Construct {
  /** Vault ARN of each region. */
  readonly vaultArns: Readonly<Record<RegionRole, string>>;
  /** Vault name of each region. */
  readonly vaultNames: Readonly<Record<RegionRole, string>>;
  /** Id of the backup plan (in the active region). */
  readonly planId: string;
  /** ARN of the role AWS Backup assumes to back up, copy and restore. */
  readonly roleArn: string;

  constructor(scope: Construct, id: string, props: BackupProps) {
    super(scope, id);
    const schedule = props.schedule ?? DEFAULT_SCHEDULE;
    const retentionDays = props.retentionDays ?? 35;
    const copyRetentionDays = props.copyRetentionDays ?? retentionDays;
    const activeRegion = props.activeRegion ?? "primary";
    validate(this.node.path, props, { schedule, retentionDays, copyRetentionDays, activeRegion });
    const standbyRegion = otherRole(activeRegion);
    const { namePrefix } = props;

    const vaults = perRole((role) => {
      const vault = new BackupVault(this, `${role}-vault`, {
        provider: props.regions[role].provider,
        name: `${namePrefix}-${role}`,
        kmsKeyArn: props.regions[role].kmsKeyArn,
        // A vault holding recovery points is never deleted by a destroy.
        forceDestroy: false,
      });
      if (props.vaultLock) {
        const lock = props.vaultLock;
        new BackupVaultLockConfiguration(this, `${role}-vault-lock`, {
          provider: props.regions[role].provider,
          backupVaultName: vault.name,
          // Set only for compliance mode: with it the lock becomes immutable on the lock date,
          // without it the lock stays changeable (governance)
          // (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_PutBackupVaultLockConfiguration.html).
          changeableForDays: lock.mode === "compliance" ? lock.changeableForDays : undefined,
          minRetentionDays: lock.minRetentionDays,
          maxRetentionDays: lock.maxRetentionDays,
        });
      }
      return vault;
    });
    this.vaultArns = perRole((role) => vaults[role].arn);
    this.vaultNames = perRole((role) => vaults[role].name);

    // IAM is global; the role goes through the active region's provider like the plan using it.
    const provider = props.regions[activeRegion].provider;
    const accountId =
      props.accountId ?? new DataAwsCallerIdentity(this, "account", { provider }).accountId;
    const trust = serviceTrustPolicy(this, "trust", {
      provider,
      service: "backup.amazonaws.com",
      // Backup, copy and restore jobs run in either region (the plan follows activeRegion).
      condition: confusedDeputyConditions(
        accountId,
        REGION_ROLES.map((r) => `arn:aws:backup:${props.regions[r].region}:${accountId}:*`),
      ),
    });
    const role = new IamRole(this, "role", {
      provider,
      name: `${namePrefix}-backup`,
      assumeRolePolicy: trust.json,
    });
    this.roleArn = role.arn;
    const attachments = BACKUP_MANAGED_POLICY_ARNS.map(
      (policyArn) =>
        new IamRolePolicyAttachment(this, `role-${policyArn.split("/").pop()}`, {
          provider,
          role: role.name,
          policyArn,
        }),
    );
    const keyAccess = new DataAwsIamPolicyDocument(this, "key-access", {
      provider,
      statement: [
        {
          // AWS Backup acts with this role, and a job whose role cannot use the key "succeeds"
          // without backing anything up; the managed policies grant KMS only via S3 and EC2.
          sid: "UseRegionalKeys",
          actions: ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
          resources: REGION_ROLES.map((r) => props.regions[r].kmsKeyArn),
        },
        {
          // RDS copies a snapshot across regions under a grant on the destination key.
          sid: "GrantRegionalKeysToAwsServices",
          actions: ["kms:CreateGrant"],
          resources: REGION_ROLES.map((r) => props.regions[r].kmsKeyArn),
          condition: [{ test: "Bool", variable: "kms:GrantIsForAWSResource", values: ["true"] }],
        },
      ],
    });
    const keyPolicy = new IamRolePolicy(this, "role-key-access", {
      provider,
      role: role.id,
      name: "use-regional-keys",
      policy: keyAccess.json,
    });

    const plan = new BackupPlan(this, `${activeRegion}-plan`, {
      provider,
      name: `${namePrefix}-backup`,
      rule: [
        {
          ruleName: `scheduled-copy-to-${standbyRegion}`,
          targetVaultName: vaults[activeRegion].name,
          schedule,
          lifecycle: { deleteAfter: retentionDays },
          copyAction: [
            {
              destinationVaultArn: vaults[standbyRegion].arn,
              lifecycle: { deleteAfter: copyRetentionDays },
            },
          ],
        },
      ],
    });
    this.planId = plan.id;

    const selection = new BackupSelection(this, `${activeRegion}-selection`, {
      provider,
      name: `${namePrefix}-data`,
      planId: plan.id,
      iamRoleArn: role.arn,
      resources: props.resourceArns,
      // Without its permissions in place the first job would fail or, for KMS, back up nothing.
      dependsOn: [...attachments, keyPolicy],
    });

    for (const singleRegionPart of [plan, selection]) {
      Guardrails.suppress(
        singleRegionPart,
        "SS-DR-1",
        "backups run only where the writer is (activeRegion) and copy every recovery point to the other region's vault; after a failover, re-applying with activeRegion = secondary moves the plan there",
      );
    }
  }
}

interface ResolvedSettings {
  readonly schedule: string;
  readonly retentionDays: number;
  readonly copyRetentionDays: number;
  readonly activeRegion: RegionRole;
}

function validate(path: string, props: BackupProps, settings: ResolvedSettings): void {
  const problems = new ProblemCollector();
  problems.pattern("namePrefix", props.namePrefix, backupNamePrefix(MAX_NAME_PREFIX_LENGTH), {
    detail: ' (vault names add "-secondary" and allow 50)',
  });
  if (props.resourceArns.length === 0) {
    problems.add(
      "resourceArns",
      props.resourceArns,
      "at least one resource ARN (the database cluster and the assets bucket)",
    );
  }
  props.resourceArns.forEach((arn, index) => {
    problems.pattern(`resourceArns[${index}]`, arn, ARN);
  });
  const { schedule } = settings;
  if (isKnown(schedule)) {
    const cronProblem = cronExpressionProblem(schedule);
    if (cronProblem) {
      problems.add("schedule", schedule, cronProblem);
    } else if (!/^\d{1,2}$/.test(schedule.trim().slice("cron(".length).trim().split(/\s+/)[0])) {
      problems.add(
        "schedule",
        schedule,
        "a single minute in the minutes field, e.g. cron(0 5 * * ? *): AWS Backup starts jobs at most once an hour",
      );
    }
  }
  problems.wholeNumberInRange(
    "retentionDays",
    settings.retentionDays,
    { min: MIN_RETENTION_DAYS },
    `a whole number of days >= ${MIN_RETENTION_DAYS}, so a week of recovery points survives a late discovery`,
  );
  problems.wholeNumberInRange(
    "copyRetentionDays",
    settings.copyRetentionDays,
    { min: 1 },
    "a whole number of days >= 1",
  );
  if (!REGION_ROLES.includes(settings.activeRegion)) {
    problems.add("activeRegion", settings.activeRegion, '"primary" or "secondary"');
  }
  if (props.vaultLock) validateVaultLock(problems, props.vaultLock, settings);
  problems.throwIfAnyFor(path);
}

/**
 * A vault lock AWS accepts and that does not fail this plan's own jobs: each vault takes both
 * local backups and copies, so both retentions must lie within [min, max].
 */
function validateVaultLock(
  problems: ProblemCollector,
  lock: BackupVaultLock,
  settings: ResolvedSettings,
): void {
  if (!VAULT_LOCK_MODES.includes(lock.mode)) {
    problems.add("vaultLock.mode", lock.mode, '"governance" or "compliance"');
  }
  if (lock.mode === "compliance") {
    problems.wholeNumberInRange(
      "vaultLock.changeableForDays",
      lock.changeableForDays,
      { min: VAULT_LOCK_MIN_CHANGEABLE_DAYS },
      `a whole number of days >= ${VAULT_LOCK_MIN_CHANGEABLE_DAYS} in compliance mode (AWS Backup's cooling-off period; the lock is immutable after it)`,
    );
  } else if (lock.changeableForDays !== undefined) {
    problems.add(
      "vaultLock.changeableForDays",
      lock.changeableForDays,
      'no value in governance mode: a lock with changeableForDays is a compliance lock, immutable after that many days (use mode "compliance" if that is meant)',
    );
  }
  const { minRetentionDays: min, maxRetentionDays: max } = lock;
  const days = "a whole number of days >= 1";
  const minValid = problems.wholeNumberInRange("vaultLock.minRetentionDays", min, { min: 1 }, days);
  problems.wholeNumberInRange("vaultLock.maxRetentionDays", max, { min: 1 }, days);
  const { retentionDays, copyRetentionDays } = settings;
  const retentions = [retentionDays, copyRetentionDays];
  if (!retentions.concat(min, max).every(isKnown)) return;
  const shortest = Math.min(...retentions);
  const longest = Math.max(...retentions);
  const both = `retentionDays (${retentionDays}) and copyRetentionDays (${copyRetentionDays})`;
  if (minValid && min > shortest) {
    problems.add(
      "vaultLock.minRetentionDays",
      min,
      `at most ${shortest}, the shorter of ${both}: the vaults fail backup and copy jobs that keep recovery points for less`,
    );
  }
  if (Number.isInteger(max) && max < longest) {
    problems.add(
      "vaultLock.maxRetentionDays",
      max,
      `at least ${longest}, the longer of ${both}: the vaults fail backup and copy jobs that keep recovery points for more`,
    );
  }
}
