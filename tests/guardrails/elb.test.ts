import { Lb } from "@cdktf/provider-aws/lib/lb";
import { describe, expect, it } from "vitest";
import { violation, violationsOf } from "../support/guardrails";
import { stackWithProviders } from "../support/synth";
import { violationAt } from "./violation-at";

function loadBalancer(props: {
  type?: string;
  accessLogs?: { bucket: string; enabled?: boolean };
  deletionProtection?: boolean;
}) {
  const { stack, providers } = stackWithProviders();
  new Lb(stack, "load-balancer", {
    provider: providers.primary,
    name: "web",
    loadBalancerType: props.type,
    accessLogs: props.accessLogs,
    enableDeletionProtection: props.deletionProtection,
  });
  return stack;
}

const LOGGED = { accessLogs: { bucket: "shop-test-primary-access-logs", enabled: true } };

describe("SS-ELB-1 Application Load Balancers write access logs", () => {
  it("fails an ALB without access logs, or with them switched off", () => {
    expect(violationsOf("SS-ELB-1", loadBalancer({}))).toEqual([
      violation(
        "SS-ELB-1",
        "test/load-balancer",
        "access_logs.enabled is unset and access_logs.bucket is unset, so requests leave no record",
      ),
    ]);
    expect(
      violationsOf(
        "SS-ELB-1",
        loadBalancer({ type: "application", accessLogs: { bucket: "logs", enabled: false } }),
      ),
    ).toEqual([
      violation(
        "SS-ELB-1",
        "test/load-balancer",
        'access_logs.enabled is false and access_logs.bucket is "logs", so requests leave no record',
      ),
    ]);
  });

  it("passes an ALB that logs to a bucket, and leaves network load balancers alone", () => {
    expect(violationsOf("SS-ELB-1", loadBalancer(LOGGED))).toEqual([]);
    expect(violationsOf("SS-ELB-1", loadBalancer({ type: "network" }))).toEqual([]);
  });
});

describe("SS-ELB-2 production load balancers have deletion protection", () => {
  it("fails an unprotected production load balancer", () => {
    expect(
      violationsOf("SS-ELB-2", loadBalancer({ deletionProtection: false }), { production: true }),
    ).toEqual([
      violationAt(
        "SS-ELB-2",
        "test/load-balancer",
        "enable_deletion_protection is false in production",
        "aws_lb.load-balancer",
      ),
    ]);
  });

  it("passes a protected production load balancer, and an unprotected one outside production", () => {
    expect(
      violationsOf("SS-ELB-2", loadBalancer({ deletionProtection: true }), { production: true }),
    ).toEqual([]);
    expect(violationsOf("SS-ELB-2", loadBalancer({}))).toEqual([]);
  });
});
