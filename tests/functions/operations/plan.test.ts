import { describe, expect, it } from "vitest";
import { buildPlan, workflowPlan, writerWaitOf } from "../../../functions/orchestration/plan";
import type { ClusterReading } from "../../../functions/shared/operation";
import {
  activeCapacity,
  healthyTopology,
  healthyTraffic,
  primaryDownTopology,
  primaryDownTraffic,
  settings,
  standbyCapacity,
} from "./fixtures";

const context = { settings };

/** The writer wait step; the page bound is 300 s + 10 s per second of lag (60 s when unknown). */
const waitStep = (role: "primary" | "secondary", pageAfterSeconds: number) =>
  `wait until shopsmart-prod-${role} is the writer, with the lock held for as long as Aurora ` +
  `reports the promotion running; page if it runs longer than ${pageAfterSeconds} s`;

const failoverTail = (pageAfterSeconds = 320) => [
  waitStep("secondary", pageAfterSeconds),
  "point shop.example.com at secondary (us-west-2) as PRIMARY and primary (us-east-2) as SECONDARY",
  "verify that shopsmart-prod-secondary is the writer and read both endpoints' health",
  "record the operation in the ledger and notify by SNS",
];
const FAILOVER_TAIL = failoverTail();

/** A healthy topology with one cluster's reading changed. */
function withCluster(role: "primary" | "secondary", patch: Partial<ClusterReading>) {
  const topology = healthyTopology();
  topology.clusters[role] = { ...topology.clusters[role], ...patch };
  return topology;
}

/** After a failover: writer in the secondary, secondary at active size. */
function failedOverTopology() {
  const topology = healthyTopology();
  return healthyTopology({
    writerRegion: "secondary",
    clusters: {
      primary: { ...topology.clusters.primary, isWriter: false },
      secondary: { ...topology.clusters.secondary, isWriter: true },
    },
  });
}

describe("buildPlan", () => {
  it("plans a planned failover on a healthy system with no blockers", () => {
    expect(
      buildPlan(
        { kind: "failover", mode: "planned" },
        healthyTopology(),
        healthyTraffic(),
        context,
      ),
    ).toEqual({
      kind: "failover",
      mode: "planned",
      source: "primary",
      target: "secondary",
      writerRegion: "primary",
      replicationLagSeconds: 2,
      rpoLagSeconds: 2,
      health: { primary: "healthy", secondary: "healthy" },
      capacity: { primary: activeCapacity, secondary: standbyCapacity },
      writerWait: {
        pageAfterSeconds: 320,
        reason: "max(300 s, 3 x the 60 s promotion estimate) + 10 x replication lag 2 s",
      },
      steps: [
        "switch over the global database shopsmart-prod-global to shopsmart-prod-secondary " +
          "(us-west-2) (SwitchoverGlobalCluster: no data loss)",
        "in parallel, scale shopsmart-prod-secondary-app (us-west-2) to min 2 / desired 4 / max 8",
        ...FAILOVER_TAIL,
      ],
      blockers: [],
    });
  });

  it("plans an unplanned failover with the primary region down: unknowns do not block", () => {
    const plan = buildPlan(
      { kind: "failover", mode: "unplanned" },
      primaryDownTopology(),
      primaryDownTraffic(),
      context,
    );
    expect(plan.blockers).toEqual([]);
    expect(plan.writerRegion).toBe("unknown");
    expect(plan.steps).toEqual([
      "fail over the global database shopsmart-prod-global to shopsmart-prod-secondary " +
        "(us-west-2) (FailoverGlobalCluster with AllowDataLoss, detach-and-promote if that " +
        "fails): an unknown amount of the latest writes may be lost (RPO lag unknown)",
      "in parallel, scale shopsmart-prod-secondary-app (us-west-2) to min 2 / desired 4 / max 8",
      ...failoverTail(900),
    ]);
  });

  it("plans a switchover for an unplanned request while the primary cluster answers as the available writer", () => {
    const plan = buildPlan(
      { kind: "failover", mode: "unplanned" },
      healthyTopology({ replicationLagSeconds: 3.5 }),
      healthyTraffic(),
      context,
    );
    expect(plan.steps[0]).toBe(
      "switch over the global database shopsmart-prod-global to shopsmart-prod-secondary " +
        "(us-west-2) (SwitchoverGlobalCluster: no data loss, as the primary cluster answers as " +
        "the available writer; a failover with AllowDataLoss only if it stops answering or " +
        "goes down)",
    );
  });

  it("refuses an unplanned failover while the primary answers and may still write: pending-resync target, or a busy source", () => {
    const resyncing = buildPlan(
      { kind: "failover", mode: "unplanned" },
      withCluster("secondary", { synchronizationStatus: "pending-resync" }),
      healthyTraffic(),
      context,
    );
    expect(resyncing.blockers).toEqual([
      "the primary (us-east-2) cluster shopsmart-prod-primary answers and is the available " +
        "writer, while the secondary cluster is pending-resync, not connected: a switchover " +
        "cannot start yet. A failover with data loss is only for a source that does not answer " +
        "or is down: wait until a switchover can start (GET /status), then request it again",
    ]);
    const busy = buildPlan(
      { kind: "failover", mode: "unplanned" },
      withCluster("primary", { status: "backing-up" }),
      healthyTraffic(),
      context,
    );
    expect(busy.blockers[0]).toMatch(
      /answers and is backing-up, not down: it may still take writes/,
    );
    // Down (its key unusable): a failover with data loss goes on.
    const down = buildPlan(
      { kind: "failover", mode: "unplanned" },
      withCluster("primary", { status: "inaccessible-encryption-credentials" }),
      healthyTraffic(),
      context,
    );
    expect(down.blockers).toEqual([]);
  });

  it("states the lag bound of an unplanned failover and a target already at size", () => {
    const topology = healthyTopology({ replicationLagSeconds: 3.5 });
    topology.clusters.primary = { ...topology.clusters.primary, status: "failing-over" };
    const plan = buildPlan(
      { kind: "failover", mode: "unplanned" },
      topology,
      healthyTraffic({ capacity: { primary: activeCapacity, secondary: activeCapacity } }),
      context,
    );
    expect(plan.steps.slice(0, 2)).toEqual([
      "fail over the global database shopsmart-prod-global to shopsmart-prod-secondary " +
        "(us-west-2) (FailoverGlobalCluster with AllowDataLoss, detach-and-promote if that " +
        "fails): writes from the last 3.5 s may be lost (RPO lag at preflight)",
      "in parallel, scale shopsmart-prod-secondary-app (us-west-2) to min 2 / desired 4 / max 8 " +
        "(already at that size: no change)",
    ]);
  });

  it("fails a planned failover while the primary region does not answer", () => {
    const plan = buildPlan(
      { kind: "failover", mode: "planned" },
      primaryDownTopology(),
      primaryDownTraffic(),
      context,
    );
    expect(plan.blockers).toEqual([
      "a planned failover needs the primary (us-east-2) region reachable, and it did not " +
        "answer: Retryable.Timeout: AbortError: aborted. If that region is down, request mode " +
        '"unplanned"',
      "a planned failover needs the writer in primary (us-east-2), and the writer region is " +
        "unknown: primary (us-east-2) did not answer DescribeDBClusters",
    ]);
  });

  it("does not block when the writer already is in the target: the run completes what an earlier one left undone", () => {
    for (const mode of ["planned", "unplanned"] as const) {
      const plan = buildPlan(
        { kind: "failover", mode },
        failedOverTopology(),
        healthyTraffic(),
        context,
      );
      expect(plan.blockers).toEqual([]);
      expect(plan.steps[0]).toBe(
        "no promotion: shopsmart-prod-secondary (us-west-2) already is the writer (an earlier " +
          "run promoted it); the steps below complete what that run left undone",
      );
    }
  });

  it("adopts a promotion towards the target that an earlier run started, and waits for it", () => {
    const plan = buildPlan(
      { kind: "failover", mode: "planned" },
      healthyTopology({
        failover: {
          status: "switching-over",
          fromClusterArn: settings.regions.primary.clusterArn,
          toClusterArn: settings.regions.secondary.clusterArn,
          isDataLossAllowed: false,
        },
      }),
      healthyTraffic(),
      context,
    );
    expect(plan.blockers).toEqual([]);
    expect(plan.steps[0]).toBe(
      "wait for the switchover of shopsmart-prod-global to shopsmart-prod-secondary (us-west-2) " +
        "that is already switching-over (an earlier run started it); nothing is called again",
    );
  });

  it("judges a partition by Route 53's verdict only, never by this region's own probe", () => {
    const unplanned = { kind: "failover", mode: "unplanned" } as const;
    // Route 53's API is down, but the DNS answer still names the primary: Route 53 sees it up,
    // though this region's probe of it fails (a partition from here). Refused.
    const dnsSaysUp = healthyTraffic({
      health: { primary: "unhealthy", secondary: "healthy" },
      route53Health: { primary: "healthy", secondary: "unknown" },
      served: "primary",
    });
    expect(buildPlan(unplanned, primaryDownTopology(), dnsSaysUp, context).blockers).toHaveLength(
      1,
    );
    // Neither Route 53's API nor DNS says anything: nothing contradicts the outage.
    const unknown = healthyTraffic({
      health: { primary: "unhealthy", secondary: "healthy" },
      route53Health: { primary: "unknown", secondary: "unknown" },
      served: "unknown",
    });
    expect(buildPlan(unplanned, primaryDownTopology(), unknown, context).blockers).toEqual([]);
  });

  it("refuses a data-loss failover during a partition: the primary does not answer from here, but Route 53 sees it healthy", () => {
    const plan = buildPlan(
      { kind: "failover", mode: "unplanned" },
      primaryDownTopology(),
      healthyTraffic(),
      context,
    );
    expect(plan.blockers).toEqual([
      "the primary (us-east-2) region did not answer from here (Retryable.Timeout: AbortError: " +
        "aborted), but Route 53's health checkers see its endpoint healthy: that is a partition " +
        "between the regions, not an outage, and a failover with data loss now could leave two " +
        "writers. Nothing was changed; if the region really is down its health check fails " +
        "within minutes, then retry (or request a planned failover once it answers again)",
    ]);
    // The same primary with its health check failing is an outage: the failover goes on.
    expect(
      buildPlan(
        { kind: "failover", mode: "unplanned" },
        primaryDownTopology(),
        primaryDownTraffic(),
        context,
      ).blockers,
    ).toEqual([]);
  });

  it("refuses a switchover to a target that is not connected (pending-resync)", () => {
    const plan = buildPlan(
      { kind: "failover", mode: "planned" },
      withCluster("secondary", { synchronizationStatus: "pending-resync" }),
      healthyTraffic(),
      context,
    );
    expect(plan.blockers).toEqual([
      "the secondary cluster shopsmart-prod-secondary is pending-resync, not connected: a " +
        "switchover needs it replicating from the writer; wait until GET /status shows it connected",
    ]);
  });

  it("derives the page bound from the config's promotion estimate and the lag", () => {
    expect(writerWaitOf({ rpoLagSeconds: 2, replicationLagSeconds: 1 }, {})).toEqual({
      pageAfterSeconds: 320,
      reason: "max(300 s, 3 x the 60 s promotion estimate) + 10 x replication lag 2 s",
    });
    expect(
      writerWaitOf(
        { rpoLagSeconds: 90, replicationLagSeconds: 80 },
        { databasePromotionSeconds: 200 },
      ).pageAfterSeconds,
    ).toBe(600 + 900);
    expect(writerWaitOf({ rpoLagSeconds: null, replicationLagSeconds: null }, {}).reason).toContain(
      "lag unknown, 60 s assumed",
    );
  });

  it("gives the workflow the blockers as one sentence and the bound in writer checks", () => {
    const plan = buildPlan(
      { kind: "failover", mode: "planned" },
      primaryDownTopology(),
      primaryDownTraffic(),
      context,
    );
    const forWorkflow = workflowPlan(plan, 15);
    expect(forWorkflow.blocked).toBe(true);
    expect(forWorkflow.blockerSummary).toBe(plan.blockers.join("; "));
    expect(forWorkflow.pageAfterChecks).toBe(60); // 900 s / 15 s
    expect(workflowPlan({ ...plan, blockers: [] }, 7).pageAfterChecks).toBe(129); // ceil(900 / 7)
  });

  it("fails any operation while another one runs or the global cluster is failing over", () => {
    const plan = buildPlan(
      { kind: "failover", mode: "unplanned" },
      healthyTopology({
        failover: {
          status: "cancelling",
          fromClusterArn: settings.regions.primary.clusterArn,
          toClusterArn: settings.regions.secondary.clusterArn,
          isDataLossAllowed: true,
        },
      }),
      healthyTraffic(),
      { settings, runningOperationId: "op-20250304T040000Z-000001" },
    );
    expect(plan.blockers).toEqual([
      "an operation is running: op-20250304T040000Z-000001; wait for it to finish " +
        "(GET /operations/op-20250304T040000Z-000001)",
      "the global cluster shopsmart-prod-global is already cancelling: wait for it to " +
        "finish, then read GET /status",
    ]);
  });

  it("fails a planned failover to a detached or unavailable secondary cluster", () => {
    const plan = buildPlan(
      { kind: "failover", mode: "planned" },
      withCluster("secondary", { globalMember: false, status: "modifying" }),
      healthyTraffic(),
      context,
    );
    expect(plan.blockers).toEqual([
      "the secondary cluster shopsmart-prod-secondary is not a member of the global cluster " +
        "shopsmart-prod-global (detached by an unplanned failover?): a detached cluster cannot " +
        "rejoin; rebuilding the global database is a manual, reviewed change (docs/dr-plan.md, " +
        '"After a detach-and-promote") before any switchover',
      "the secondary cluster shopsmart-prod-secondary is modifying: a switchover needs it " +
        "available; wait and retry",
    ]);
  });

  it("fails an unplanned failover when the secondary region does not answer", () => {
    const topology = healthyTopology();
    const plan = buildPlan(
      { kind: "failover", mode: "unplanned" },
      healthyTopology({
        clusters: {
          primary: topology.clusters.primary,
          secondary: { ...topology.clusters.secondary, status: null },
        },
        unreachable: [
          { role: "secondary", region: "us-west-2", reason: "Retryable.ServerError: 503" },
        ],
      }),
      healthyTraffic(),
      context,
    );
    expect(plan.blockers).toEqual([
      "the secondary (us-west-2) region did not answer, and the promotion happens there: " +
        "Retryable.ServerError: 503",
    ]);
  });

  it("plans a failback from the secondary with both regions healthy", () => {
    const plan = buildPlan(
      { kind: "failback", mode: "planned" },
      failedOverTopology(),
      healthyTraffic({ capacity: { primary: standbyCapacity, secondary: activeCapacity } }),
      context,
    );
    expect(plan).toEqual({
      kind: "failback",
      mode: "planned",
      source: "secondary",
      target: "primary",
      writerRegion: "secondary",
      replicationLagSeconds: 2,
      rpoLagSeconds: 2,
      health: { primary: "healthy", secondary: "healthy" },
      capacity: { primary: standbyCapacity, secondary: activeCapacity },
      writerWait: {
        pageAfterSeconds: 320,
        reason: "max(300 s, 3 x the 60 s promotion estimate) + 10 x replication lag 2 s",
      },
      steps: [
        "switch over the global database shopsmart-prod-global to shopsmart-prod-primary " +
          "(us-east-2) (SwitchoverGlobalCluster: no data loss)",
        "in parallel, scale shopsmart-prod-primary-app (us-east-2) to min 2 / desired 4 / max 8",
        waitStep("primary", 320),
        "point shop.example.com at primary (us-east-2) as PRIMARY and secondary (us-west-2) as SECONDARY",
        "verify that shopsmart-prod-primary is the writer and read both endpoints' health",
        "scale shopsmart-prod-secondary-app (us-west-2) to min 1 / desired 1 / max 8",
        "record the operation in the ledger and notify by SNS",
      ],
      blockers: [],
    });
  });

  it("lets a failback scale up a fenced primary: its endpoint is unhealthy only because its group is at zero", () => {
    const fenced = { minSize: 0, desiredCapacity: 0, maxSize: 0, inService: 0 };
    const plan = buildPlan(
      { kind: "failback", mode: "planned" },
      failedOverTopology(),
      healthyTraffic({
        health: { primary: "unhealthy", secondary: "healthy" },
        capacity: { primary: fenced, secondary: activeCapacity },
      }),
      context,
    );
    expect(plan.blockers).toEqual([]);
    expect(plan.steps[1]).toBe(
      "in parallel, scale shopsmart-prod-primary-app (us-east-2) to min 2 / desired 4 / max 8",
    );
  });

  it("fails a failback while the primary endpoint is unhealthy and its cluster detached", () => {
    const topology = failedOverTopology();
    const plan = buildPlan(
      { kind: "failback", mode: "planned" },
      healthyTopology({
        ...topology,
        clusters: {
          primary: { ...topology.clusters.primary, globalMember: false },
          secondary: topology.clusters.secondary,
        },
      }),
      healthyTraffic({ health: { primary: "unhealthy", secondary: "healthy" } }),
      context,
    );
    expect(plan.blockers).toEqual([
      "a failback needs both endpoints healthy, and the primary (us-east-2) endpoint is " +
        "unhealthy: fix it (or wait for its health check) first",
      "the primary cluster shopsmart-prod-primary is not a member of the global cluster " +
        "shopsmart-prod-global (detached by an unplanned failover?): a detached cluster cannot " +
        "rejoin; rebuilding the global database is a manual, reviewed change (docs/dr-plan.md, " +
        '"After a detach-and-promote") before any switchover',
    ]);
  });

  it("fails a failback after a detach-and-promote, naming the detached source instead of 'nothing to do'", () => {
    // The global cluster still names the primary its writer; the detached secondary took writes.
    const plan = buildPlan(
      { kind: "failback", mode: "planned" },
      withCluster("secondary", { globalMember: false, isWriter: null }),
      healthyTraffic(),
      context,
    );
    expect(plan.blockers).toEqual([
      "the secondary cluster shopsmart-prod-secondary was detached from the global cluster " +
        "shopsmart-prod-global (detach-and-promote) and takes writes on its own; the global " +
        "cluster's primary cluster lacks them, so a planned failback would leave them behind. " +
        'Rebuilding the global database is a manual, reviewed change (docs/dr-plan.md, "After a ' +
        'detach-and-promote")',
    ]);
  });

  it("plans a failback whose writer is already in the primary as the remaining steps only", () => {
    const plan = buildPlan(
      { kind: "failback", mode: "planned" },
      healthyTopology(),
      healthyTraffic(),
      context,
    );
    expect(plan.blockers).toEqual([]);
    expect(plan.steps[0]).toMatch(
      /^no promotion: shopsmart-prod-primary \(us-east-2\) already is the writer/,
    );
  });

  it("fails a failback with the writer region unknown and the primary unreachable", () => {
    const plan = buildPlan(
      { kind: "failback", mode: "planned" },
      primaryDownTopology(),
      primaryDownTraffic(),
      context,
    );
    expect(plan.blockers).toEqual([
      "the primary (us-east-2) region did not answer, and the promotion happens there: " +
        "Retryable.Timeout: AbortError: aborted",
      "a failback needs both endpoints healthy, and the primary (us-east-2) endpoint is " +
        "unhealthy: fix it (or wait for its health check) first",
      "a failback needs the writer in secondary (us-west-2), and the writer region is unknown: " +
        "primary (us-east-2) did not answer DescribeDBClusters",
    ]);
  });
});
