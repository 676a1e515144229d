import { otherRole, type RegionRole } from "../../../functions/shared/region-roles";
import { type Finding, finding } from "../rule";
import {
  block,
  blocks,
  isSet,
  type StackModel,
  shown,
  type TerraformElement,
} from "../terraform-model";

/**
 * Types that are not regional: global services (IAM, Route 53 except its regional resolver,
 * CloudFront, Organizations, Budgets) and single resources that span regions (a global
 * database; CloudWatch dashboards, which AWS documents as global).
 */
const GLOBAL_TYPE_PREFIXES = [
  "aws_iam_",
  "aws_route53_",
  "aws_cloudfront_",
  "aws_organizations_",
  "aws_budgets_",
];
const REGIONAL_EXCEPTIONS_TO_GLOBAL_PREFIXES = ["aws_route53_resolver_"];
const GLOBAL_TYPES = ["aws_rds_global_cluster", "aws_cloudwatch_dashboard"];

/**
 * Types whose counterpart in the other region is a replica block of the same resource, checked
 * resource by resource by {@link dataCopiedToOtherRegion}: secrets (and their versions, which
 * the replica carries) and DynamoDB tables.
 */
const REPLICATED_IN_PLACE = [
  "aws_secretsmanager_secret",
  "aws_secretsmanager_secret_version",
  "aws_dynamodb_table",
];

function isGlobalType(type: string): boolean {
  if (GLOBAL_TYPES.includes(type)) return true;
  if (REGIONAL_EXCEPTIONS_TO_GLOBAL_PREFIXES.some((prefix) => type.startsWith(prefix))) {
    return false;
  }
  return GLOBAL_TYPE_PREFIXES.some((prefix) => type.startsWith(prefix));
}

/**
 * Every regional resource type the stack creates in the primary region also exists in the
 * secondary region, and every SSM parameter (the app's settings) exists there under the same
 * name. Checked by type, not count: the standby may run fewer of each.
 */
export function regionalCounterparts(stack: StackModel): Finding[] {
  const { primary, secondary } = stack.regions;
  if (!primary || !secondary) return [];
  const findings: Finding[] = [];
  for (const type of stack.resourceTypes()) {
    if (!type.startsWith("aws_") || isGlobalType(type) || REPLICATED_IN_PLACE.includes(type)) {
      continue;
    }
    const resources = stack.resources(type);
    if (resources.some((r) => r.role === "secondary")) continue;
    for (const resource of resources.filter((r) => r.role === "primary")) {
      findings.push(
        finding(
          resource,
          `${type} exists only in the primary region (${primary}); the secondary region (${secondary}) has none, so this part is lost with the primary region`,
        ),
      );
    }
  }
  const parameters = stack.resources("aws_ssm_parameter");
  const secondaryNames = new Set(
    parameters.filter((p) => p.role === "secondary").map((p) => p.attributes.name),
  );
  if (secondaryNames.size > 0) {
    for (const parameter of parameters.filter((p) => p.role === "primary")) {
      if (!secondaryNames.has(parameter.attributes.name)) {
        findings.push(
          finding(
            parameter,
            `parameter ${shown(parameter.attributes.name)} exists only in the primary region (${primary}); the app in the secondary region (${secondary}) cannot read it`,
          ),
        );
      }
    }
  }
  return findings;
}

/**
 * The region serving traffic: the one whose load balancer the PRIMARY failover record points
 * at (after a failover that is the secondary), or the primary when there is no such record.
 */
export function activeRole(stack: StackModel): RegionRole {
  for (const record of stack.resources("aws_route53_record")) {
    if (block(record.attributes.failover_routing_policy).type !== "PRIMARY") continue;
    const [target] = stack.referenced(block(record.attributes.alias).name);
    if (target?.role) return target.role;
  }
  return "primary";
}

/** Path segments that name a role, e.g. `compute-primary`, `primary-instance-0`. */
const ROLE_IN_PATH = /(^|[/_-])(primary|secondary)(?=$|[/_-])/g;

/**
 * The same part in the other region: the resource of the same type whose construct path differs
 * only by role, or, when each region has exactly one of the type, that one.
 */
function counterpartOf(
  stack: StackModel,
  resource: TerraformElement,
  role: RegionRole,
): TerraformElement | undefined {
  const candidates = stack.resources(resource.type).filter((r) => r.role === role);
  const swapped = resource.path.replace(
    ROLE_IN_PATH,
    (_, separator: string, found: string) => `${separator}${otherRole(found as RegionRole)}`,
  );
  const byPath = candidates.find((r) => r.path === swapped);
  if (byPath) return byPath;
  const own = stack.resources(resource.type).filter((r) => r.role === resource.role);
  return candidates.length === 1 && own.length === 1 ? candidates[0] : undefined;
}

function count(value: unknown): number | undefined {
  return typeof value === "number" ? value : undefined;
}

/** Instances per Aurora cluster address (`count` meta-arguments counted). */
function instancesPerCluster(stack: StackModel): Map<string, number> {
  const perCluster = new Map<string, number>();
  for (const instance of stack.resources("aws_rds_cluster_instance")) {
    const instances = count(instance.attributes.count) ?? 1;
    for (const cluster of stack.referenced(
      instance.attributes.cluster_identifier,
      "aws_rds_cluster",
    )) {
      perCluster.set(cluster.address, (perCluster.get(cluster.address) ?? 0) + instances);
    }
  }
  return perCluster;
}

/**
 * The warm standby (the region not serving traffic) keeps at least one web instance and one
 * database instance running, and never more than the active region.
 */
export function standbyCapacity(stack: StackModel): Finding[] {
  if (!stack.regions.primary || !stack.regions.secondary) return [];
  const active = activeRole(stack);
  const standby = otherRole(active);
  const findings: Finding[] = [];

  for (const group of stack.resources("aws_autoscaling_group").filter((g) => g.role === standby)) {
    const minSize = count(group.attributes.min_size);
    const desired = count(group.attributes.desired_capacity) ?? minSize;
    if (minSize !== undefined && minSize < 1) {
      findings.push(
        finding(
          group,
          `warm standby (${standby} region) has min_size ${minSize}; it must keep at least 1 instance`,
        ),
      );
    }
    const counterpart = counterpartOf(stack, group, active);
    const activeDesired = counterpart
      ? (count(counterpart.attributes.desired_capacity) ?? count(counterpart.attributes.min_size))
      : undefined;
    if (desired !== undefined && activeDesired !== undefined && desired > activeDesired) {
      findings.push(
        finding(
          group,
          `warm standby (${standby} region) runs desired_capacity ${desired}, more than the active region's ${activeDesired}`,
        ),
      );
    }
  }

  const instances = instancesPerCluster(stack);
  for (const cluster of stack.resources("aws_rds_cluster").filter((c) => c.role === standby)) {
    const standbyInstances = instances.get(cluster.address) ?? 0;
    if (standbyInstances < 1) {
      findings.push(
        finding(
          cluster,
          `warm standby (${standby} region) cluster has no aws_rds_cluster_instance`,
        ),
      );
    }
    const counterpart = counterpartOf(stack, cluster, active);
    const activeInstances = counterpart ? (instances.get(counterpart.address) ?? 0) : undefined;
    if (activeInstances !== undefined && standbyInstances > activeInstances) {
      findings.push(
        finding(
          cluster,
          `warm standby (${standby} region) cluster has ${standbyInstances} instances, more than the active region's ${activeInstances}`,
        ),
      );
    }
  }
  return findings;
}

/** The region of a referenced resource, or the region inside a literal ARN. */
function regionOf(stack: StackModel, value: unknown): string | undefined {
  const [referenced] = stack.referenced(value);
  if (referenced) return referenced.region;
  if (typeof value === "string" && value.startsWith("arn:")) {
    const region = value.split(":")[3];
    return region === "" ? undefined : region;
  }
  return undefined;
}

/**
 * Copies of data land in the other region of the pair: S3 replication destinations and backup
 * copy actions point at the other region; every secret has a replica in the other region; every
 * DynamoDB table in the primary region has a replica in the secondary.
 */
export function dataCopiedToOtherRegion(stack: StackModel): Finding[] {
  const findings: Finding[] = [];

  for (const replication of stack.resources("aws_s3_bucket_replication_configuration")) {
    const source = regionOf(stack, replication.attributes.bucket) ?? replication.region;
    for (const rule of blocks(replication.attributes.rule)) {
      const destination = block(rule.destination).bucket;
      const target = regionOf(stack, destination);
      if (source && target === source) {
        findings.push(
          finding(
            replication,
            `rule ${shown(rule.id)} replicates to a bucket in the same region (${source})`,
          ),
        );
      }
    }
  }

  for (const plan of stack.resources("aws_backup_plan")) {
    for (const rule of blocks(plan.attributes.rule)) {
      const copies = blocks(rule.copy_action);
      if (copies.length === 0) {
        findings.push(
          finding(
            plan,
            `rule ${shown(rule.rule_name)} keeps recovery points only in ${plan.region ?? "its own region"} (no copy_action)`,
          ),
        );
      }
      for (const copy of copies) {
        const target = regionOf(stack, copy.destination_vault_arn);
        if (plan.region && target === plan.region) {
          findings.push(
            finding(
              plan,
              `rule ${shown(rule.rule_name)} copies recovery points to a vault in the same region (${plan.region})`,
            ),
          );
        }
      }
    }
  }

  const regions = stack.regions;
  for (const secret of stack.resources("aws_secretsmanager_secret")) {
    if (!secret.role) continue;
    const otherRegion = regions[otherRole(secret.role)];
    const replicaRegions = blocks(secret.attributes.replica).map((r) => r.region);
    if (otherRegion && !replicaRegions.includes(otherRegion)) {
      findings.push(
        finding(
          secret,
          `has no replica in the ${otherRole(secret.role)} region (${otherRegion}), so it is unreadable there when its region fails`,
        ),
      );
    }
  }

  for (const table of stack.resources("aws_dynamodb_table")) {
    if (table.role !== "primary" || !regions.secondary) continue;
    const replicaRegions = blocks(table.attributes.replica).map((r) => r.region_name);
    if (!replicaRegions.includes(regions.secondary)) {
      findings.push(
        finding(
          table,
          `lives in the primary region (${regions.primary}) with no replica in the secondary region (${regions.secondary})`,
        ),
      );
    }
  }
  return findings;
}

/**
 * S3 replication is measurable and complete: Replication Time Control (a 15-minute objective),
 * replication metrics, and delete markers replicated.
 */
export function replicationMonitored(stack: StackModel): Finding[] {
  const findings: Finding[] = [];
  for (const replication of stack.resources("aws_s3_bucket_replication_configuration")) {
    for (const rule of blocks(replication.attributes.rule)) {
      if (rule.status !== "Enabled") continue;
      const destination = block(rule.destination);
      const missing = [
        block(destination.replication_time).status !== "Enabled" && "destination.replication_time",
        block(destination.metrics).status !== "Enabled" && "destination.metrics",
        block(rule.delete_marker_replication).status !== "Enabled" && "delete_marker_replication",
      ].filter((name): name is string => typeof name === "string");
      if (missing.length > 0) {
        findings.push(
          finding(replication, `rule ${shown(rule.id)} does not enable ${missing.join(", ")}`),
        );
      }
    }
  }
  return findings;
}

/** Where the automation hands work on: the argument that names what is invoked. */
const INVOCATIONS: readonly { type: string; attribute: string }[] = [
  { type: "aws_sfn_state_machine", attribute: "definition" },
  { type: "aws_apigatewayv2_integration", attribute: "integration_uri" },
  { type: "aws_cloudwatch_event_target", attribute: "arn" },
  { type: "aws_scheduler_schedule", attribute: "target" },
];
const INVOKED_TYPES = ["aws_lambda_function", "aws_sfn_state_machine"];
/** Stores the automation writes to while failing over (ledger, notifications). */
const WRITTEN_TYPES = ["aws_dynamodb_table", "aws_sns_topic", "aws_sqs_queue"];

/**
 * Nothing the failover runs on lives only in the primary region: state machines, API
 * integrations, event targets and schedules outside the primary region invoke no Lambda
 * function or state machine in the primary region, and functions outside the primary region
 * keep no ledger table, topic or queue there in their environment.
 */
export function failoverPathOutsidePrimary(stack: StackModel): Finding[] {
  if (!stack.regions.primary || !stack.regions.secondary) return [];
  const findings: Finding[] = [];
  for (const { type, attribute } of INVOCATIONS) {
    for (const caller of stack.resources(type)) {
      if (caller.role === "primary") continue;
      for (const callee of stack.referenced(caller.attributes[attribute])) {
        if (callee.role === "primary" && INVOKED_TYPES.includes(callee.type)) {
          findings.push(
            finding(
              caller,
              `invokes ${callee.path} (${callee.type}) in the primary region (${stack.regions.primary}), which is down when a failover is needed`,
            ),
          );
        }
      }
    }
  }
  for (const fn of stack.resources("aws_lambda_function")) {
    if (fn.role === "primary") continue;
    const environment = block(fn.attributes.environment).variables;
    for (const store of stack.referenced(environment)) {
      if (store.role === "primary" && WRITTEN_TYPES.includes(store.type)) {
        findings.push(
          finding(
            fn,
            `keeps ${store.path} (${store.type}) of the primary region (${stack.regions.primary}) in its environment; the failover cannot write to it when that region is down`,
          ),
        );
      }
    }
  }
  return findings;
}

/**
 * DNS fails over without any API call: each failover record has a health check, and every
 * PRIMARY record has a SECONDARY record for the same name (and the other way round).
 */
export function dnsFailoverHealthChecked(stack: StackModel): Finding[] {
  const findings: Finding[] = [];
  const kindsByName = new Map<string, Set<string>>();
  const records = stack
    .resources("aws_route53_record")
    .filter((r) => isSet(block(r.attributes.failover_routing_policy).type));
  for (const record of records) {
    const kind = String(block(record.attributes.failover_routing_policy).type);
    const key = recordKey(record);
    kindsByName.set(key, new Set([...(kindsByName.get(key) ?? []), kind]));
    if (!isSet(record.attributes.health_check_id)) {
      findings.push(
        finding(
          record,
          `${kind} failover record for ${shown(record.attributes.name)} has no health_check_id`,
        ),
      );
    }
  }
  for (const record of records) {
    const kind = String(block(record.attributes.failover_routing_policy).type);
    const partner = kind === "PRIMARY" ? "SECONDARY" : "PRIMARY";
    if (!kindsByName.get(recordKey(record))?.has(partner)) {
      findings.push(
        finding(
          record,
          `${kind} failover record for ${shown(record.attributes.name)} has no ${partner} record, so DNS has nowhere to fail over to`,
        ),
      );
    }
  }
  return findings;
}

function recordKey(record: TerraformElement): string {
  const { zone_id: zone, name, type } = record.attributes;
  return JSON.stringify([zone, name, type]);
}

/** The detail-type of the events CloudWatch sends when an alarm changes state. */
const ALARM_STATE_CHANGE = "CloudWatch Alarm State Change";

/** Whether an event rule's pattern matches alarm state changes (its trigger is an alarm). */
function matchesAlarmStateChanges(rule: TerraformElement): boolean {
  const pattern = rule.attributes.event_pattern;
  if (typeof pattern !== "string" || pattern.includes("${")) return false;
  try {
    const detailType = (JSON.parse(pattern) as Record<string, unknown>)["detail-type"];
    return Array.isArray(detailType) && detailType.includes(ALARM_STATE_CHANGE);
  } catch {
    return false;
  }
}

/**
 * What decides and moves an automatic failover lives in the secondary region, where the
 * automation runs: alarm-triggered event rules, event targets that forward to another bus, and
 * the alarms Route 53's CloudWatch-alarm health checks follow (the traffic lever). In the primary
 * region they die with it; in us-east-1 (when it is not the secondary) they die with a
 * us-east-1 outage, which may be the primary's.
 */
export function recoveryPathInSecondary(stack: StackModel): Finding[] {
  const secondary = stack.regions.secondary;
  if (!stack.regions.primary || !secondary) return [];
  const findings: Finding[] = [];
  const outside = (element: TerraformElement) =>
    element.region !== undefined && element.region !== secondary;

  for (const rule of stack.resources("aws_cloudwatch_event_rule")) {
    if (matchesAlarmStateChanges(rule) && outside(rule)) {
      findings.push(
        finding(
          rule,
          `starts automation on alarm state changes in ${rule.region}, not in the secondary region (${secondary}): automatic failover would depend on ${rule.region}`,
        ),
      );
    }
  }
  for (const target of stack.resources("aws_cloudwatch_event_target")) {
    const arn = target.attributes.arn;
    if (outside(target) && typeof arn === "string" && arn.includes(":event-bus/")) {
      findings.push(
        finding(
          target,
          `forwards events from ${target.region} to another event bus: whatever they start depends on ${target.region}`,
        ),
      );
    }
  }
  for (const check of stack.resources("aws_route53_health_check")) {
    if (check.attributes.type !== "CLOUDWATCH_METRIC") continue;
    const region = check.attributes.cloudwatch_alarm_region;
    if (typeof region === "string" && !region.includes("${") && region !== secondary) {
      findings.push(
        finding(
          check,
          `follows a CloudWatch alarm in ${region}, not in the secondary region (${secondary}): the automation could not move that lever while ${region} is down`,
        ),
      );
    }
  }
  return findings;
}
