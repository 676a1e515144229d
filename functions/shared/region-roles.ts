/**
 * The two roles of the warm-standby pair, written once for every layer: the config schema, the
 * constructs and the stack, the Lambda functions, the simulator and the CLIs. Here, in the Lambda
 * layer's shared code, because functions/ may not import infrastructure code, while src/ may
 * import this (src/config/schema.ts re-exports it).
 */

/** Both roles, primary first: the order every per-role list and record follows. */
export const REGION_ROLES = ["primary", "secondary"] as const;

/** A region by its role in the environment config (not by which one currently serves traffic). */
export type RegionRole = (typeof REGION_ROLES)[number];

/** The role of the other region of the pair. */
export function otherRole(role: RegionRole): RegionRole {
  return role === "primary" ? "secondary" : "primary";
}

/**
 * A record with one value per role, `value(role)` evaluated for the primary first, then the
 * secondary (the order constructs are created in, which Terraform addresses do not depend on but
 * the synthesized JSON's order does).
 */
export function perRole<T>(value: (role: RegionRole) => T): Record<RegionRole, T> {
  return { primary: value("primary"), secondary: value("secondary") };
}

/**
 * Which role's capacity a region runs: the active region (config `activeRegion`, the writer's
 * and traffic's region) the `primary` capacity, the other the `secondary` (warm-standby)
 * capacity, so that after a failover and `activeRegion` flipped, a re-apply keeps the new
 * primary at full size.
 */
export function capacityRoleOf(role: RegionRole, activeRegion: RegionRole): RegionRole {
  return role === activeRegion ? "primary" : "secondary";
}
