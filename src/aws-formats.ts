/**
 * Format rules for the strings this project hands to AWS, as data: each rule is a pattern plus
 * the words that tell a user what would be accepted. The env-config schema (src/config/schema.ts)
 * and the constructs' prop validation (through `ProblemCollector.pattern` in src/errors.ts) read
 * the same rule, so both reject the same inputs and say so in the same words. This module lives
 * beside both rather than in src/config/ because constructs must not depend on the env file.
 */

/** A format a string must have, and what a valid one is, as the end of "expected ...". */
export interface FormatRule {
  /** Matches the whole of a valid value. */
  readonly pattern: RegExp;
  /** Longest valid value, where the pattern does not bound it. */
  readonly maxLength?: number;
  /** What would be accepted, starting with its article ("a", "an") where it has one. */
  readonly expected: string;
}

/** Whether `value` has the format `rule` describes. */
export function hasFormat(rule: FormatRule, value: string): boolean {
  return (
    rule.pattern.test(value) && (rule.maxLength === undefined || value.length <= rule.maxLength)
  );
}

/** RFC 1123 host name with at least two labels, lower-case (Route 53 stores names lower-case). */
export const DOMAIN_NAME: FormatRule = {
  pattern: /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
  expected: "a domain name such as shop.example.com (lower-case)",
};

/** A hosted zone's name: a domain name, asked for with an apex as the example. */
export const ZONE_NAME: FormatRule = {
  pattern: DOMAIN_NAME.pattern,
  expected: "a domain name such as example.com",
};

/** A Route 53 hosted zone id. */
export const HOSTED_ZONE_ID: FormatRule = {
  pattern: /^Z[A-Z0-9]{1,31}$/,
  expected: "a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ",
};

/** A 12-digit AWS account id. */
export const ACCOUNT_ID: FormatRule = {
  pattern: /^\d{12}$/,
  expected: "a 12-digit AWS account id",
};

/** An EC2 instance type: family (with generation and options), a dot, a size. */
export const EC2_INSTANCE_TYPE: FormatRule = {
  pattern: /^[a-z][a-z0-9-]*\.[a-z0-9]+$/,
  expected: "an EC2 instance type such as m7i.large",
};

/** An RDS DB instance class. */
export const RDS_INSTANCE_CLASS: FormatRule = {
  pattern: /^db\.[a-z0-9]+\.[a-z0-9]+$/,
  expected: "an RDS instance class such as db.r7g.large",
};

/**
 * An instance class an Aurora global database accepts: anything but the burstable `db.t*`
 * classes. Checked after `RDS_INSTANCE_CLASS`, so a malformed class gets that message alone.
 */
export const AURORA_GLOBAL_INSTANCE_CLASS: FormatRule = {
  pattern: /^(?!db\.t\d)/,
  expected:
    "a memory-optimized class such as db.r7g.large: Aurora global databases do not support burstable (db.t*) classes",
};

/**
 * The app's health path, one rule for the three places the env file's `dns.healthCheck.path`
 * goes: the web tier's systemd unit (hence the narrow character set), the Route 53 health check's
 * `ResourcePath` (at most 255 characters,
 * https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheckConfig.html) and the
 * path run-drill polls (whose settings schema checks the leading '/' again).
 */
export const HEALTH_PATH: FormatRule = {
  pattern: /^\/[\w./-]{0,254}$/,
  expected:
    "a URL path starting with '/' of letters, digits, '_', '.', '/' and '-', at most 255 characters",
};

/** An SSM parameter path that holds parameters (so it ends in "/"), as an IAM policy scopes it. */
export const SSM_PARAMETER_PATH: FormatRule = {
  pattern: /^\/(?:[A-Za-z0-9_.-]+\/)+$/,
  expected: 'an SSM path starting and ending with "/"',
};

/** An ARN in the standard partition; only its start is checked, the service owns the rest. */
export const ARN: FormatRule = {
  pattern: /^arn:aws:[a-z0-9-]+:/,
  expected: "an ARN such as arn:aws:rds:...:cluster:name",
};

/** A VPC security group id. */
export const SECURITY_GROUP_ID: FormatRule = {
  pattern: /^sg-[0-9a-f]{8,17}$/,
  expected: "a security group id such as sg-0123456789abcdef0",
};

/** An SQS queue name (standard queues: no ".fifo" suffix). */
export const SQS_QUEUE_NAME: FormatRule = {
  pattern: /^[A-Za-z0-9_-]{1,80}$/,
  expected: "an SQS queue name: 1-80 letters, digits, '-' and '_'",
};

/** An S3 general purpose bucket name. */
export const S3_BUCKET_NAME: FormatRule = {
  pattern: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
  expected: "3-63 lower-case letters, digits, '.' and '-' (the S3 naming rules)",
};

/** An S3 bucket name without dots, so a TLS wildcard certificate matches its endpoints. */
export const S3_BUCKET_NAME_WITHOUT_DOTS: FormatRule = {
  pattern: /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/,
  expected: "an S3 bucket name: 3-63 lower-case letters, digits and '-'",
};

/**
 * Project and environment names, which join into every resource name prefix, and the prefix of
 * RDS identifiers: RDS allows no "--" in an identifier, so neither does this rule, and an env file
 * with "--" in a name is refused by the schema rather than later by the database construct.
 */
export const RESOURCE_NAME: FormatRule = {
  pattern: /^[a-z](?:-?[a-z0-9])+$/,
  expected: "lower-case letters, digits and single '-', starting with a letter",
};

/** A prefix of load balancer and target group names (ELB allows mixed case). */
export function loadBalancerNamePrefix(maxLength: number): FormatRule {
  return {
    pattern: /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/,
    maxLength,
    expected: `at most ${maxLength} letters, digits and hyphens, not starting or ending with a hyphen`,
  };
}

/** A prefix of IAM role, Lambda function and EventBridge rule names, kept lower-case. */
export function lowerCaseNamePrefix(maxLength: number): FormatRule {
  return {
    pattern: /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/,
    maxLength,
    expected: `at most ${maxLength} lower-case letters, digits and hyphens, not starting or ending with a hyphen`,
  };
}

/** A prefix of RDS identifiers: {@link RESOURCE_NAME}, at most `maxLength` long. */
export function rdsIdentifierPrefix(maxLength: number): FormatRule {
  return {
    pattern: RESOURCE_NAME.pattern,
    maxLength,
    expected: `at most ${maxLength} ${RESOURCE_NAME.expected}`,
  };
}

/** A prefix of AWS Backup vault and plan names. */
export function backupNamePrefix(maxLength: number): FormatRule {
  return {
    pattern: /^[a-zA-Z0-9_-]+$/,
    maxLength,
    expected: `1-${maxLength} letters, digits, '-' and '_'`,
  };
}

/** The retention periods CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

/** `LOG_RETENTION_DAYS` as the end of an error message. */
export const LOG_RETENTION_DAYS_EXPECTED = `a CloudWatch Logs retention: ${LOG_RETENTION_DAYS.join(", ")}`;
