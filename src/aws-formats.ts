/**
 * Formats and value sets AWS imposes, shared by the env-config schema and the constructs' own
 * prop validation so both reject the same inputs with the same rule.
 */

/** RFC 1123 host name with at least two labels, lower-case (Route 53 stores names lower-case). */
export const DOMAIN_NAME_PATTERN =
  /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** A Route 53 hosted zone id, e.g. `Z0123456789ABCDEFGHIJ`. */
export const HOSTED_ZONE_ID_PATTERN = /^Z[A-Z0-9]{1,31}$/;

/** The retention periods CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

/** `LOG_RETENTION_DAYS` as the end of an error message. */
export const LOG_RETENTION_DAYS_EXPECTED = `a CloudWatch Logs retention: ${LOG_RETENTION_DAYS.join(", ")}`;
