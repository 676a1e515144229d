/**
 * The names of the DR deployment's resources, written once: the stack creates its resources
 * under them, the Lambdas find them by them and the simulator models them under the same, so a
 * simulated environment cannot drift from the synthesized one (tests/simulation/names.test.ts).
 *
 * Every name derives from the environment's `namePrefix`, `<project>-<environment>`
 * ({@link namePrefixOf}). The DR lever alarms stay in dr-metrics.ts with their metrics and the
 * function list in function-names.ts; both are re-exported here so a reader finds every name in
 * one place.
 */
import type { RegionRole } from "./region-roles";

export { primaryDownAlarmName, trafficFenceAlarmName } from "./dr-metrics";
export { FUNCTION_NAMES, type FunctionName, functionName } from "./function-names";

/** `<project>-<environment>`: the stack's name and the prefix of every resource name. */
export function namePrefixOf(project: string, environment: string): string {
  return `${project}-${environment}`;
}

/** `/<project>/<environment>/`: the SSM path of the app's settings in each region. */
export function parameterPathOf(project: string, environment: string): string {
  return `/${project}/${environment}/`;
}

/** `<namePrefix>-global`: the Aurora global cluster, also the first label of its writer endpoint. */
export function globalClusterIdentifier(namePrefix: string): string {
  return `${namePrefix}-global`;
}

/** `<namePrefix>-<role>`: the region's Aurora cluster in the global database. */
export function clusterIdentifier(namePrefix: string, role: RegionRole): string {
  return `${namePrefix}-${role}`;
}

/**
 * `<namePrefix>-<role>`: the prefix of a region's own resources (key alias, network, compute),
 * so the two regions' names never collide.
 */
export function regionNamePrefix(namePrefix: string, role: RegionRole): string {
  return `${namePrefix}-${role}`;
}

/** `<namePrefix>-<role>-alerts`: the region's alert topic (the secondary's gets the automation's). */
export function alertTopicName(namePrefix: string, role: RegionRole): string {
  return `${namePrefix}-${role}-alerts`;
}

/** `<namePrefix>-dr-operations`: the DynamoDB ledger of operations and its lock. */
export function ledgerTableName(namePrefix: string): string {
  return `${namePrefix}-dr-operations`;
}

/** `<namePrefix>-dr-operations`: the HTTP API that starts and reports operations. */
export function operationsApiName(namePrefix: string): string {
  return `${namePrefix}-dr-operations`;
}

/** The automation's state machines: the failover workflow and the scheduled drill. */
export type StateMachineKind = "operation" | "drill";

/** `<namePrefix>-dr-operation` or `<namePrefix>-dr-drill` (the drill's role and schedule too). */
export function stateMachineName(namePrefix: string, kind: StateMachineKind): string {
  return `${namePrefix}-dr-${kind}`;
}

/** `<namePrefix>-dr-probe-missing`: the alarm on probe-primary falling silent. */
export function probeMissingAlarmName(namePrefix: string): string {
  return `${namePrefix}-dr-probe-missing`;
}

/**
 * `<namePrefix>-<role>-endpoint-health`: the alarm on the region's Route 53 health check, for
 * notification only; automatic failover keys on the secondary region's primary-down alarm.
 */
export function endpointHealthAlarmName(namePrefix: string, role: RegionRole): string {
  return `${namePrefix}-${role}-endpoint-health`;
}

/** The SSM parameter (relative to the parameter path) the web tier reads the writer endpoint from. */
export const WRITER_ENDPOINT_PARAMETER = "db/writer-endpoint";

/** `<parameterPath>db/writer-endpoint`, which a detach-and-promote rewrites in the target region. */
export function writerEndpointParameterName(parameterPath: string): string {
  return `${parameterPath}${WRITER_ENDPOINT_PARAMETER}`;
}

/** `<parameterPath>db/reader-endpoint`'s relative name: the region's own cluster reader endpoint. */
export const READER_ENDPOINT_PARAMETER = "db/reader-endpoint";

/** The relative name of the parameter holding the database name. */
export const DATABASE_NAME_PARAMETER = "db/name";

/** The relative name of the parameter telling the web tier which role its region has. */
export const REGION_ROLE_PARAMETER = "app/region-role";

/** The database the clusters create when the stack names none. */
export const DEFAULT_DATABASE_NAME = "shopsmart";

/**
 * `<regionPrefix>-web`: the web tier of a region ({@link regionNamePrefix}): its Auto Scaling
 * group (which the automation scales), launch template, security group and instance role.
 */
export function webTierName(regionPrefix: string): string {
  return `${regionPrefix}-web`;
}

/** The schedule rule that runs probe-primary: `<namePrefix>-dr-probe-primary`. */
export function probeRuleName(namePrefix: string): string {
  return `${namePrefix}-dr-probe-primary`;
}

/** The rule that invokes the auto-failover function: `<namePrefix>-dr-auto-failover`. */
export function autoFailoverRuleName(namePrefix: string): string {
  return `${namePrefix}-dr-auto-failover`;
}

/**
 * The rule on the workflow's executions ending: `<namePrefix>-dr-auto-failover-resume`. Step
 * Functions sends "Step Functions Execution Status Change" events of standard workflows to the
 * default bus of its own region
 * (https://docs.aws.amazon.com/step-functions/latest/dg/eventbridge-integration.html).
 */
export function resumeRuleName(namePrefix: string): string {
  return `${namePrefix}-dr-auto-failover-resume`;
}

/** `<owner>-dlq`: the dead-letter queue (and its alarm) of a rule or schedule named `owner`. */
export function deadLetterQueueName(owner: string): string {
  return `${owner}-dlq`;
}

/** `<namePrefix>-drills-<account>`: at most 59 characters for the longest prefix (39). */
export function drillReportBucketName(namePrefix: string, accountId: string): string {
  return `${namePrefix}-drills-${accountId}`;
}
