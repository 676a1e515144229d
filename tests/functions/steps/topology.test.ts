import { CloudWatchClient, GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import {
  DescribeDBClustersCommand,
  DescribeGlobalClustersCommand,
  GlobalClusterNotFoundFault,
  RDSClient,
} from "@aws-sdk/client-rds";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { readTopology, type TopologyDependencies } from "../../../functions/orchestration/topology";
import { awsClient } from "../../../functions/shared/aws-clients";
import { toStepError } from "../../../functions/shared/errors";
import {
  abortTimeout,
  awsError,
  cluster,
  globalCluster,
  PRIMARY_ARN,
  SECONDARY_ARN,
  SETTINGS,
  SWITCHING_OVER,
  throttling,
} from "./fixtures";

const NOW = new Date("2026-11-25T12:00:00Z");

const clients = {
  rds: { primary: awsClient(RDSClient, "us-east-2"), secondary: awsClient(RDSClient, "us-west-2") },
  cloudWatch: {
    primary: awsClient(CloudWatchClient, "us-east-2"),
    secondary: awsClient(CloudWatchClient, "us-west-2"),
  },
};
const rds = {
  primary: mockClient(clients.rds.primary),
  secondary: mockClient(clients.rds.secondary),
};
const cloudWatch = {
  primary: mockClient(clients.cloudWatch.primary),
  secondary: mockClient(clients.cloudWatch.secondary),
};
const deps: TopologyDependencies = { settings: SETTINGS, ...clients, now: () => NOW };

function healthyRegions(writer: "primary" | "secondary" = "primary") {
  for (const role of ["primary", "secondary"] as const) {
    rds[role].on(DescribeDBClustersCommand).resolves({ DBClusters: [cluster(role)] });
    rds[role]
      .on(DescribeGlobalClustersCommand)
      .resolves({ GlobalClusters: [globalCluster(writer)] });
    cloudWatch[role].on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: "lag", Values: [1250, 900], Timestamps: [] },
        { Id: "rpo", Values: [1100, 800], Timestamps: [] },
      ],
    });
  }
}

function lagQuery(clusterIdentifier: string) {
  return {
    MetricDataQueries: [
      {
        // A Metrics Insights query: it matches whichever dimension sets the metric is published with.
        Id: "lag",
        Expression: `SELECT MAX(AuroraGlobalDBReplicationLag) FROM "AWS/RDS" WHERE DBClusterIdentifier = '${clusterIdentifier}'`,
        Period: 60,
        ReturnData: true,
      },
      {
        Id: "rpo",
        Expression: `SELECT MAX(AuroraGlobalDBRPOLag) FROM "AWS/RDS" WHERE DBClusterIdentifier = '${clusterIdentifier}'`,
        Period: 60,
        ReturnData: true,
      },
    ],
    StartTime: new Date("2026-11-25T11:55:00Z"),
    EndTime: NOW,
    ScanBy: "TimestampDescending",
  };
}

beforeEach(() => {
  for (const stub of [rds.primary, rds.secondary, cloudWatch.primary, cloudWatch.secondary]) {
    stub.reset();
  }
});

describe("readTopology", () => {
  it("reads both regions, and the replication and RPO lag of the secondary cluster", async () => {
    healthyRegions();

    const report = await readTopology(deps, { onUnreachable: "report" });

    expect(report).toEqual({
      globalClusterStatus: "available",
      failover: null,
      writerRegion: "primary",
      clusters: {
        primary: {
          role: "primary",
          clusterIdentifier: "shopsmart-prod-primary",
          clusterArn: PRIMARY_ARN,
          status: "available",
          globalMember: true,
          isWriter: true,
          synchronizationStatus: null,
        },
        secondary: {
          role: "secondary",
          clusterIdentifier: "shopsmart-prod-secondary",
          clusterArn: SECONDARY_ARN,
          status: "available",
          globalMember: true,
          isWriter: false,
          synchronizationStatus: "connected",
        },
      },
      replicationLagSeconds: 1.25,
      rpoLagSeconds: 1.1,
      unreachable: [],
      notes: [],
    });
    for (const role of ["primary", "secondary"] as const) {
      expect(rds[role].commandCalls(DescribeDBClustersCommand)[0]?.args[0].input).toEqual({
        DBClusterIdentifier: SETTINGS.regions[role].clusterIdentifier,
      });
      expect(rds[role].commandCalls(DescribeGlobalClustersCommand)[0]?.args[0].input).toEqual({
        GlobalClusterIdentifier: "shopsmart-prod-global",
      });
    }
    expect(cloudWatch.primary.calls()).toHaveLength(0);
    expect(cloudWatch.secondary.commandCalls(GetMetricDataCommand)[0]?.args[0].input).toEqual(
      lagQuery("shopsmart-prod-secondary"),
    );
  });

  it("passes an abort signal to every call", async () => {
    healthyRegions();
    await readTopology(deps, { onUnreachable: "report" });
    for (const call of [...rds.primary.calls(), ...cloudWatch.secondary.calls()]) {
      expect((call.args as unknown[])[1]).toEqual({ abortSignal: expect.any(AbortSignal) });
    }
  });

  it("reads the lag of the primary cluster after a failover", async () => {
    healthyRegions("secondary");

    const report = await readTopology(deps, { onUnreachable: "report" });

    expect(report.writerRegion).toBe("secondary");
    expect(cloudWatch.secondary.calls()).toHaveLength(0);
    expect(cloudWatch.primary.commandCalls(GetMetricDataCommand)[0]?.args[0].input).toEqual(
      lagQuery("shopsmart-prod-primary"),
    );
  });

  it("reports the primary region unknown when every primary call times out (unplanned)", async () => {
    healthyRegions();
    rds.primary.on(DescribeDBClustersCommand).rejects(abortTimeout());
    rds.primary.on(DescribeGlobalClustersCommand).rejects(abortTimeout());
    cloudWatch.primary.on(GetMetricDataCommand).rejects(abortTimeout());

    const report = await readTopology(deps, { onUnreachable: "report" });

    expect(report.writerRegion).toBe("primary");
    expect(report.clusters.primary).toMatchObject({
      status: null,
      globalMember: true,
      isWriter: true,
    });
    expect(report.replicationLagSeconds).toBe(1.25);
    expect(report.unreachable).toEqual([
      {
        role: "primary",
        region: "us-east-2",
        reason: "Retryable.Timeout: AbortError: Request aborted",
      },
    ]);
    expect(report.notes).toEqual([
      "The primary cluster's status is unknown: us-east-2 did not answer.",
    ]);
  });

  it("reports the writer unknown when neither region answers for the global cluster", async () => {
    for (const role of ["primary", "secondary"] as const) {
      rds[role].on(DescribeDBClustersCommand).rejects(awsError("InternalFailure", 500));
      rds[role].on(DescribeGlobalClustersCommand).rejects(abortTimeout());
    }

    const report = await readTopology(deps, { onUnreachable: "report" });

    expect(report).toMatchObject({
      globalClusterStatus: null,
      writerRegion: "unknown",
      replicationLagSeconds: null,
      clusters: {
        primary: { status: null, globalMember: null, isWriter: null },
        secondary: { status: null, globalMember: null, isWriter: null },
      },
    });
    expect(report.unreachable.map((entry) => entry.role)).toEqual(["primary", "secondary"]);
    expect(report.notes).toContain(
      "Global cluster shopsmart-prod-global could not be read in either region.",
    );
    expect(report.notes).toContain(
      "Replication lag unknown: us-west-2 (the secondary cluster) did not answer.",
    );
    expect(cloudWatch.secondary.calls()).toHaveLength(0);
  });

  it("reports a switchover in progress", async () => {
    healthyRegions();
    const switching = globalCluster("primary", {
      Status: "switching-over",
      FailoverState: {
        Status: SWITCHING_OVER,
        FromDbClusterArn: PRIMARY_ARN,
        ToDbClusterArn: SECONDARY_ARN,
        IsDataLossAllowed: false,
      },
    });
    rds.secondary.on(DescribeGlobalClustersCommand).resolves({ GlobalClusters: [switching] });

    const report = await readTopology(deps, { onUnreachable: "report" });

    expect(report.globalClusterStatus).toBe("switching-over");
    expect(report.failover).toEqual({
      status: "switching-over",
      fromClusterArn: PRIMARY_ARN,
      toClusterArn: SECONDARY_ARN,
      isDataLossAllowed: false,
    });
  });

  it("reports a detached secondary and does not read its lag", async () => {
    healthyRegions();
    const withoutSecondary = globalCluster("primary", { members: ["primary"] });
    rds.primary.on(DescribeGlobalClustersCommand).resolves({ GlobalClusters: [withoutSecondary] });
    rds.secondary
      .on(DescribeGlobalClustersCommand)
      .resolves({ GlobalClusters: [withoutSecondary] });

    const report = await readTopology(deps, { onUnreachable: "report" });

    expect(report.clusters.secondary).toMatchObject({ globalMember: false, isWriter: false });
    expect(report.replicationLagSeconds).toBeNull();
    expect(report.notes).toEqual([
      "Replication lag not read: the secondary cluster is not in the global cluster.",
    ]);
    expect(cloudWatch.secondary.calls()).toHaveLength(0);
  });

  it("reports a missing global cluster", async () => {
    healthyRegions();
    for (const role of ["primary", "secondary"] as const) {
      rds[role]
        .on(DescribeGlobalClustersCommand)
        .rejects(new GlobalClusterNotFoundFault({ message: "not found", $metadata: {} }));
    }

    const report = await readTopology(deps, { onUnreachable: "report" });

    expect(report.writerRegion).toBe("unknown");
    expect(report.globalClusterStatus).toBeNull();
    expect(report.notes[0]).toBe("Global cluster shopsmart-prod-global does not exist.");
  });

  it("reports no lag when CloudWatch has no datapoints", async () => {
    healthyRegions();
    cloudWatch.secondary
      .on(GetMetricDataCommand)
      .resolves({ MetricDataResults: [{ Id: "lag", Values: [] }] });

    const report = await readTopology(deps, { onUnreachable: "report" });

    expect(report.replicationLagSeconds).toBeNull();
    expect(report.notes).toEqual([
      "Replication lag unknown: no AuroraGlobalDBReplicationLag datapoints for shopsmart-prod-secondary in the last 5 minutes.",
    ]);
  });

  it("fails with Retryable.Timeout when a region times out and onUnreachable is throw (planned)", async () => {
    healthyRegions();
    rds.primary.on(DescribeDBClustersCommand).rejects(abortTimeout());

    const error = await readTopology(deps, { onUnreachable: "throw" }).catch((caught) => caught);

    expect(toStepError(error)).toMatchObject({
      name: "Retryable.Timeout",
      message: "AbortError: Request aborted",
    });
  });

  it("fails with Retryable.Throttled on throttling even when reporting unreachable regions", async () => {
    healthyRegions();
    rds.secondary.on(DescribeGlobalClustersCommand).rejects(throttling());

    const error = await readTopology(deps, { onUnreachable: "report" }).catch((caught) => caught);

    expect(toStepError(error)).toMatchObject({
      name: "Retryable.Throttled",
      message: "Throttling: Rate exceeded",
    });
  });

  it("fails when the configured cluster does not exist", async () => {
    healthyRegions();
    rds.secondary.on(DescribeDBClustersCommand).resolves({ DBClusters: [] });

    await expect(readTopology(deps, { onUnreachable: "report" })).rejects.toThrow(
      "DB cluster shopsmart-prod-secondary not found in us-west-2; check regions.<role>.clusterIdentifier in SHOPSMART_DR_SETTINGS.",
    );
  });
});
