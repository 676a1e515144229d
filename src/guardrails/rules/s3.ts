import { statementsOfPolicyArgument } from "../policy-documents";
import { type Finding, finding } from "../rule";
import { block, isSet, isTrue, type StackModel, type TerraformElement } from "../terraform-model";

/**
 * The bucket-level settings resources (`aws_s3_bucket_<setting>`) of each bucket, found by their
 * `bucket` argument: a reference to the bucket, or its literal name.
 */
function settingsOf(stack: StackModel, type: string): Map<string, TerraformElement[]> {
  return stack.cached(`s3-settings:${type}`, () => {
    const byBucket = new Map<string, TerraformElement[]>();
    for (const setting of stack.resources(type)) {
      for (const bucket of bucketsNamedBy(stack, setting.attributes.bucket)) {
        byBucket.set(bucket.address, [...(byBucket.get(bucket.address) ?? []), setting]);
      }
    }
    return byBucket;
  });
}

/** The buckets a `bucket` / `target_bucket` argument names, by reference or literal name. */
function bucketsNamedBy(stack: StackModel, value: unknown): TerraformElement[] {
  const referenced = stack.referenced(value, "aws_s3_bucket");
  if (referenced.length > 0) return referenced;
  return stack.resources("aws_s3_bucket").filter((b) => b.attributes.bucket === value);
}

/** Buckets that receive S3 server access logs from another bucket of the stack. */
function accessLogTargets(stack: StackModel): Set<string> {
  return stack.cached("s3-access-log-targets", () => {
    const targets = new Set<string>();
    for (const logging of stack.resources("aws_s3_bucket_logging")) {
      for (const bucket of bucketsNamedBy(stack, logging.attributes.target_bucket)) {
        targets.add(bucket.address);
      }
    }
    return targets;
  });
}

/**
 * SSE-KMS with a key of the stack. SSE-S3 (AES256) only on buckets that receive server access
 * logs, which S3 cannot deliver into SSE-KMS buckets.
 */
export function bucketsEncryptedWithKms(stack: StackModel): Finding[] {
  const findings: Finding[] = [];
  const logTargets = accessLogTargets(stack);
  const configurations = settingsOf(stack, "aws_s3_bucket_server_side_encryption_configuration");
  for (const bucket of stack.resources("aws_s3_bucket")) {
    const [configuration] = configurations.get(bucket.address) ?? [];
    if (!configuration) {
      findings.push(
        finding(
          bucket,
          "has no aws_s3_bucket_server_side_encryption_configuration, so objects get S3-managed keys (SSE-S3), not a KMS key",
        ),
      );
      continue;
    }
    const byDefault = block(
      block(configuration.attributes.rule).apply_server_side_encryption_by_default,
    );
    const algorithm = byDefault.sse_algorithm;
    if (algorithm === "AES256") {
      if (!logTargets.has(bucket.address)) {
        findings.push(
          finding(
            bucket,
            "encrypts with SSE-S3 (AES256) but receives no server access logs; only access-log buckets may use SSE-S3",
          ),
        );
      }
    } else if (!isSet(byDefault.kms_master_key_id)) {
      findings.push(
        finding(
          bucket,
          `encrypts with ${JSON.stringify(algorithm)} but names no kms_master_key_id, so S3 uses the AWS-managed aws/s3 key`,
        ),
      );
    }
  }
  return findings;
}

const PUBLIC_ACCESS_SETTINGS = [
  "block_public_acls",
  "block_public_policy",
  "ignore_public_acls",
  "restrict_public_buckets",
] as const;

/** An `aws_s3_bucket_public_access_block` with all four settings on. */
export function bucketsBlockPublicAccess(stack: StackModel): Finding[] {
  const findings: Finding[] = [];
  const blocksByBucket = settingsOf(stack, "aws_s3_bucket_public_access_block");
  for (const bucket of stack.resources("aws_s3_bucket")) {
    const [publicAccessBlock] = blocksByBucket.get(bucket.address) ?? [];
    if (!publicAccessBlock) {
      findings.push(finding(bucket, "has no aws_s3_bucket_public_access_block"));
      continue;
    }
    const off = PUBLIC_ACCESS_SETTINGS.filter((s) => !isTrue(publicAccessBlock.attributes[s]));
    if (off.length > 0) {
      findings.push(finding(bucket, `has a public access block with ${off.join(", ")} not true`));
    }
  }
  return findings;
}

/** A bucket policy with a statement that denies every request made without TLS. */
export function bucketsRequireTls(stack: StackModel): Finding[] {
  const findings: Finding[] = [];
  const policiesByBucket = settingsOf(stack, "aws_s3_bucket_policy");
  for (const bucket of stack.resources("aws_s3_bucket")) {
    const policies = policiesByBucket.get(bucket.address) ?? [];
    const deniesPlainHttp = policies.some((policy) =>
      statementsOfPolicyArgument(stack, policy, policy.attributes.policy).some(
        (statement) =>
          statement.effect === "Deny" &&
          statement.actions.some((action) => action === "s3:*" || action === "*") &&
          statement.resources.some((resource) => resource === "*" || resource.endsWith("/*")) &&
          statement.conditions.some(
            (condition) =>
              condition.test === "Bool" &&
              condition.variable === "aws:SecureTransport" &&
              condition.values.includes("false"),
          ),
      ),
    );
    if (!deniesPlainHttp) {
      findings.push(
        finding(
          bucket,
          policies.length === 0
            ? "has no bucket policy, so requests over plain HTTP are allowed"
            : 'has a bucket policy without a Deny of "s3:*" on its objects when "aws:SecureTransport" is "false"',
        ),
      );
    }
  }
  return findings;
}

/** Versioning enabled: replication needs it, and it is the undo for overwrites and deletes. */
export function bucketsVersioned(stack: StackModel): Finding[] {
  const findings: Finding[] = [];
  const versioningByBucket = settingsOf(stack, "aws_s3_bucket_versioning");
  for (const bucket of stack.resources("aws_s3_bucket")) {
    const enabled = (versioningByBucket.get(bucket.address) ?? []).some(
      (v) => block(v.attributes.versioning_configuration).status === "Enabled",
    );
    if (!enabled) {
      findings.push(finding(bucket, 'has no aws_s3_bucket_versioning with status "Enabled"'));
    }
  }
  return findings;
}

/** In production, `force_destroy` stays off so a destroy cannot delete a bucket with data. */
export function productionBucketsKept(stack: StackModel): Finding[] {
  if (!stack.production) return [];
  return stack
    .resources("aws_s3_bucket")
    .filter((bucket) => isTrue(bucket.attributes.force_destroy))
    .map((bucket) =>
      finding(bucket, "sets force_destroy = true in production: a destroy deletes its objects"),
    );
}
