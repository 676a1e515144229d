import { type Finding, finding } from "../rule";
import { blocks, isSet, isTrue, type StackModel, shown } from "../terraform-model";

/** Symmetric keys rotate their key material yearly. */
export function keysRotate(stack: StackModel): Finding[] {
  return stack
    .resources("aws_kms_key")
    .filter((key) => {
      const spec = key.attributes.customer_master_key_spec;
      // Asymmetric and HMAC keys cannot rotate automatically.
      const symmetric = spec === undefined || spec === "SYMMETRIC_DEFAULT";
      return symmetric && !isTrue(key.attributes.enable_key_rotation);
    })
    .map((key) =>
      finding(key, `enable_key_rotation is ${shown(key.attributes.enable_key_rotation)}`),
    );
}

/** The argument in which each data store names its KMS key. */
const KEY_ARGUMENTS: readonly { type: string; attribute: string }[] = [
  { type: "aws_sns_topic", attribute: "kms_master_key_id" },
  { type: "aws_sqs_queue", attribute: "kms_master_key_id" },
  { type: "aws_secretsmanager_secret", attribute: "kms_key_id" },
  { type: "aws_backup_vault", attribute: "kms_key_arn" },
];

/** An AWS-managed key alias (`alias/aws/sns`): not ours to control, share or audit. */
function isAwsManagedKey(value: string): boolean {
  return value.startsWith("alias/aws/") || /:alias\/aws\//.test(value);
}

/**
 * Topics, queues, secrets (and their replicas) and backup vaults encrypted with a customer
 * managed key; log groups, buckets, databases, tables and volumes have rules of their own.
 */
export function dataStoresUseCustomerManagedKeys(stack: StackModel): Finding[] {
  const findings: Finding[] = [];
  for (const { type, attribute } of KEY_ARGUMENTS) {
    for (const store of stack.resources(type)) {
      const key = store.attributes[attribute];
      if (!isSet(key)) {
        findings.push(finding(store, `has no ${attribute}`));
      } else if (isAwsManagedKey(key)) {
        findings.push(finding(store, `uses the AWS-managed key ${key} (${attribute})`));
      }
    }
  }
  for (const secret of stack.resources("aws_secretsmanager_secret")) {
    for (const replica of blocks(secret.attributes.replica)) {
      if (!isSet(replica.kms_key_id) || isAwsManagedKey(replica.kms_key_id)) {
        findings.push(
          finding(
            secret,
            `replica in ${shown(replica.region)} has kms_key_id ${shown(replica.kms_key_id)}; name that region's customer managed key`,
          ),
        );
      }
    }
  }
  return findings;
}
