import { type Finding, finding } from "../rule";
import { isSet, isTrue, type StackModel, shown } from "../terraform-model";

/** Database storage encrypted, with a KMS key of the stack where the resource takes one. */
export function databasesEncryptedWithKms(stack: StackModel): Finding[] {
  const findings: Finding[] = [];
  for (const type of ["aws_rds_cluster", "aws_db_instance"]) {
    for (const database of stack.resources(type)) {
      const { storage_encrypted: encrypted, kms_key_id: key } = database.attributes;
      if (!isTrue(encrypted)) {
        findings.push(finding(database, `storage_encrypted is ${shown(encrypted)}`));
      } else if (!isSet(key)) {
        findings.push(
          finding(
            database,
            "has no kms_key_id, so it is encrypted with the AWS-managed aws/rds key",
          ),
        );
      }
    }
  }
  for (const global of stack.resources("aws_rds_global_cluster")) {
    // A global cluster created from an existing cluster inherits that cluster's encryption.
    if (isSet(global.attributes.source_db_cluster_identifier)) continue;
    if (!isTrue(global.attributes.storage_encrypted)) {
      findings.push(
        finding(global, `storage_encrypted is ${shown(global.attributes.storage_encrypted)}`),
      );
    }
  }
  return findings;
}

/** In production, databases cannot be deleted by a stray destroy or console click. */
export function productionDatabasesProtected(stack: StackModel): Finding[] {
  if (!stack.production) return [];
  const findings: Finding[] = [];
  for (const type of ["aws_rds_global_cluster", "aws_rds_cluster", "aws_db_instance"]) {
    for (const database of stack.resources(type)) {
      const protection = database.attributes.deletion_protection;
      if (!isTrue(protection)) {
        findings.push(
          finding(database, `deletion_protection is ${shown(protection)} in production`),
        );
      }
    }
  }
  return findings;
}

/** Backups are kept at least a week: point-in-time restore reaches back that far. */
export const MINIMUM_BACKUP_RETENTION_DAYS = 7;

/** Automated backups kept for at least {@link MINIMUM_BACKUP_RETENTION_DAYS} days. */
export function databaseBackupsRetained(stack: StackModel): Finding[] {
  const findings: Finding[] = [];
  for (const type of ["aws_rds_cluster", "aws_db_instance"]) {
    for (const database of stack.resources(type)) {
      // Unset means the AWS default of 1 day.
      const days = database.attributes.backup_retention_period ?? 1;
      if (typeof days === "number" && days < MINIMUM_BACKUP_RETENTION_DAYS) {
        findings.push(
          finding(
            database,
            `keeps automated backups ${days} day(s) (backup_retention_period); at least ${MINIMUM_BACKUP_RETENTION_DAYS} are required`,
          ),
        );
      }
    }
  }
  return findings;
}
