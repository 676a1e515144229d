import { type Finding, finding } from "../rule";
import { block, blocks, isSet, isTrue, type StackModel, shown } from "../terraform-model";

/** Tables (and their replicas) encrypted with a customer managed key. */
export function tablesEncryptedWithKms(stack: StackModel): Finding[] {
  const findings: Finding[] = [];
  for (const table of stack.resources("aws_dynamodb_table")) {
    const encryption = block(table.attributes.server_side_encryption);
    if (!isTrue(encryption.enabled)) {
      findings.push(
        finding(
          table,
          "has no server_side_encryption { enabled = true }, so it uses an AWS-owned key",
        ),
      );
    } else if (!isSet(encryption.kms_key_arn)) {
      findings.push(
        finding(
          table,
          "has server_side_encryption without kms_key_arn, so it uses the AWS-managed aws/dynamodb key",
        ),
      );
    }
    for (const replica of blocks(table.attributes.replica)) {
      if (!isSet(replica.kms_key_arn)) {
        findings.push(
          finding(table, `replica in ${shown(replica.region_name)} has no kms_key_arn`),
        );
      }
    }
  }
  return findings;
}

/** Point-in-time recovery on every table: restore to any second of the last 35 days. */
export function tablesRecoverToPointInTime(stack: StackModel): Finding[] {
  return stack
    .resources("aws_dynamodb_table")
    .filter((table) => !isTrue(block(table.attributes.point_in_time_recovery).enabled))
    .map((table) => finding(table, "has no point_in_time_recovery { enabled = true }"));
}

/** In production, tables cannot be deleted by a stray destroy or console click. */
export function productionTablesProtected(stack: StackModel): Finding[] {
  if (!stack.production) return [];
  return stack
    .resources("aws_dynamodb_table")
    .filter((table) => !isTrue(table.attributes.deletion_protection_enabled))
    .map((table) =>
      finding(
        table,
        `deletion_protection_enabled is ${shown(table.attributes.deletion_protection_enabled)} in production`,
      ),
    );
}
