import { type Finding, finding } from "../rule";
import { block, isSet, isTrue, type StackModel, shown } from "../terraform-model";

/** `aws_alb` is the provider's older name for `aws_lb`. */
const LOAD_BALANCER_TYPES = ["aws_lb", "aws_alb"];

/**
 * Application Load Balancers write access logs to S3 (`access_logs { bucket, enabled = true }`;
 * the provider's `load_balancer_type` defaults to "application"). Network and Gateway Load
 * Balancers are left out: they log only TLS listeners, or not at all.
 */
export function loadBalancersWriteAccessLogs(stack: StackModel): Finding[] {
  const findings: Finding[] = [];
  for (const type of LOAD_BALANCER_TYPES) {
    for (const loadBalancer of stack.resources(type)) {
      const kind = loadBalancer.attributes.load_balancer_type ?? "application";
      if (kind !== "application") continue;
      const logs = block(loadBalancer.attributes.access_logs);
      if (!isTrue(logs.enabled) || !isSet(logs.bucket)) {
        findings.push(
          finding(
            loadBalancer,
            `access_logs.enabled is ${shown(logs.enabled)} and access_logs.bucket is ${shown(logs.bucket)}, so requests leave no record`,
          ),
        );
      }
    }
  }
  return findings;
}

/** In production, load balancers cannot be deleted by a stray destroy or console click. */
export function productionLoadBalancersProtected(stack: StackModel): Finding[] {
  if (!stack.production) return [];
  const findings: Finding[] = [];
  for (const type of LOAD_BALANCER_TYPES) {
    for (const loadBalancer of stack.resources(type)) {
      const protection = loadBalancer.attributes.enable_deletion_protection;
      if (!isTrue(protection)) {
        findings.push(
          finding(loadBalancer, `enable_deletion_protection is ${shown(protection)} in production`),
        );
      }
    }
  }
  return findings;
}
