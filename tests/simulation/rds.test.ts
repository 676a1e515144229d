import {
  DescribeDBClustersCommand,
  DescribeGlobalClustersCommand,
  FailoverGlobalClusterCommand,
  RDSClient,
  RemoveFromGlobalClusterCommand,
  SwitchoverGlobalClusterCommand,
} from "@aws-sdk/client-rds";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { classifyError } from "../../functions/shared/errors";
import { RegionPair, SimulatedClock, simulatedSettings } from "../../src/simulation";
import { bindSimulatedAws, type SimulatedAws } from "../support/simulated-aws";

const settings = simulatedSettings();
const { primary, secondary } = settings.regions;
const globalId = settings.globalClusterIdentifier;

let clock: SimulatedClock;
let pair: RegionPair;
let aws: SimulatedAws;
const rds = {
  primary: new RDSClient({ region: primary.region }),
  secondary: new RDSClient({ region: secondary.region }),
};

async function globalCluster(client = rds.secondary) {
  const { GlobalClusters } = await client.send(
    new DescribeGlobalClustersCommand({ GlobalClusterIdentifier: globalId }),
  );
  return GlobalClusters?.[0];
}

function writerArn(cluster: Awaited<ReturnType<typeof globalCluster>>) {
  return cluster?.GlobalClusterMembers?.find((member) => member.IsWriter)?.DBClusterArn;
}

beforeEach(() => {
  clock = new SimulatedClock({ start: 0 });
  pair = new RegionPair({
    settings,
    clock,
    timings: { switchoverMs: 60_000, failoverMs: 45_000, detachMs: 30_000 },
  });
  aws = bindSimulatedAws(pair);
});

afterEach(() => aws.restore());

describe("Aurora global database", () => {
  it("describes the global cluster with the primary as writer and the secondary connected", async () => {
    const cluster = await globalCluster();
    expect(cluster).toMatchObject({
      GlobalClusterIdentifier: globalId,
      GlobalClusterArn: `arn:aws:rds::123456789012:global-cluster:${globalId}`,
      Status: "available",
      Engine: "aurora-postgresql",
      EngineVersion: "16.8",
      Endpoint: `${globalId}.global-c1x2y3z4w5v6.global.rds.amazonaws.com`,
      GlobalClusterMembers: [
        { DBClusterArn: primary.clusterArn, IsWriter: true, Readers: [secondary.clusterArn] },
        {
          DBClusterArn: secondary.clusterArn,
          IsWriter: false,
          Readers: [],
          SynchronizationStatus: "connected",
        },
      ],
    });
    expect(cluster?.FailoverState).toBeUndefined();
  });

  it("finds a cluster by identifier only in its own region (DescribeDBClusters is regional)", async () => {
    const { DBClusters } = await rds.secondary.send(
      new DescribeDBClustersCommand({ DBClusterIdentifier: secondary.clusterIdentifier }),
    );
    expect(DBClusters?.[0]).toMatchObject({
      DBClusterArn: secondary.clusterArn,
      Status: "available",
      GlobalClusterIdentifier: globalId,
      ReplicationSourceIdentifier: primary.clusterArn,
      Endpoint: `${secondary.clusterIdentifier}.cluster-c1x2y3z4w5v6.us-west-2.rds.amazonaws.com`,
      DBClusterMembers: [
        { DBInstanceIdentifier: `${secondary.clusterIdentifier}-1`, IsClusterWriter: false },
        { DBInstanceIdentifier: `${secondary.clusterIdentifier}-2`, IsClusterWriter: false },
      ],
    });
    await expect(
      rds.primary.send(
        new DescribeDBClustersCommand({ DBClusterIdentifier: secondary.clusterArn }),
      ),
    ).rejects.toMatchObject({
      name: "DBClusterNotFoundFault",
      message: `DBCluster ${secondary.clusterArn} not found.`,
      $metadata: { httpStatusCode: 404 },
    });
  });

  it("answers SwitchoverGlobalCluster only in the writer's region and FailoverGlobalCluster only in the target's (the User Guide's --region)", async () => {
    await expect(
      rds.secondary.send(
        new SwitchoverGlobalClusterCommand({
          GlobalClusterIdentifier: globalId,
          TargetDbClusterIdentifier: secondary.clusterArn,
        }),
      ),
    ).rejects.toMatchObject({
      name: "InvalidGlobalClusterStateFault",
      message: `Call this operation in ${primary.region}, the AWS Region of the current primary cluster (${primary.clusterArn}); it was called in ${secondary.region}.`,
    });
    await expect(
      rds.primary.send(
        new FailoverGlobalClusterCommand({
          GlobalClusterIdentifier: globalId,
          TargetDbClusterIdentifier: secondary.clusterArn,
          AllowDataLoss: true,
        }),
      ),
    ).rejects.toMatchObject({ name: "InvalidGlobalClusterStateFault" });
    expect(pair.rds.promotions).toEqual([]);
    expect((await globalCluster())?.FailoverState).toBeUndefined();
  });

  it("takes longer to switch over the more the secondary lags (switchoverMsPerLagMs)", async () => {
    const lagged = new RegionPair({
      settings,
      clock,
      timings: { switchoverMs: 60_000, switchoverMsPerLagMs: 2 },
      replicationLagMs: 30_000,
    });
    aws.restore();
    aws = bindSimulatedAws(lagged);
    await rds.primary.send(
      new SwitchoverGlobalClusterCommand({
        GlobalClusterIdentifier: globalId,
        TargetDbClusterIdentifier: secondary.clusterArn,
      }),
    );
    // 60 s plus 2 ms per ms of the 30 s lag: 120 s.
    await clock.advance(119_000);
    expect(lagged.rds.globalWriter()).toBe("primary");
    await clock.advance(1_000);
    expect(lagged.rds.globalWriter()).toBe("secondary");
  });

  it("switches over: switching-over for a while, a second request is refused, then the target writes", async () => {
    const response = await rds.primary.send(
      new SwitchoverGlobalClusterCommand({
        GlobalClusterIdentifier: globalId,
        TargetDbClusterIdentifier: secondary.clusterArn,
      }),
    );
    expect(response.GlobalCluster).toMatchObject({
      Status: "switching-over",
      FailoverState: {
        Status: "pending",
        FromDbClusterArn: primary.clusterArn,
        ToDbClusterArn: secondary.clusterArn,
        IsDataLossAllowed: false,
      },
    });

    await clock.advance(10_000);
    expect((await globalCluster())?.FailoverState?.Status).toBe("switching-over");
    expect(writerArn(await globalCluster())).toBe(primary.clusterArn);
    await expect(
      rds.primary.send(
        new SwitchoverGlobalClusterCommand({
          GlobalClusterIdentifier: globalId,
          TargetDbClusterIdentifier: secondary.clusterArn,
        }),
      ),
    ).rejects.toMatchObject({
      name: "InvalidGlobalClusterStateFault",
      message: `Global cluster ${globalId} is switching-over; another switchover or failover is in progress.`,
      Code: "InvalidGlobalClusterStateFault",
      $fault: "client",
    });

    await clock.advance(50_000);
    const after = await globalCluster();
    expect(after?.Status).toBe("available");
    expect(after?.FailoverState).toBeUndefined();
    expect(writerArn(after)).toBe(secondary.clusterArn);
    expect(
      after?.GlobalClusterMembers?.find((member) => member.DBClusterArn === primary.clusterArn),
    ).toMatchObject({
      IsWriter: false,
      SynchronizationStatus: "connected",
    });
    const { DBClusters } = await rds.secondary.send(new DescribeDBClustersCommand({}));
    expect(DBClusters?.[0]?.DBClusterMembers?.[0]?.IsClusterWriter).toBe(true);
    expect(pair.rds.promotions).toEqual([
      {
        kind: "switchover",
        cluster: "secondary",
        startedAt: 0,
        finishedAt: 60_000,
        dataLossMs: 0,
        outcome: "completed",
      },
    ]);
  });

  it("refuses a switchover to the cluster that already writes", async () => {
    await expect(
      rds.primary.send(
        new SwitchoverGlobalClusterCommand({
          GlobalClusterIdentifier: globalId,
          TargetDbClusterIdentifier: primary.clusterArn,
        }),
      ),
    ).rejects.toMatchObject({
      name: "InvalidGlobalClusterStateFault",
      message: `The DB cluster ${primary.clusterArn} is already the primary cluster of global cluster ${globalId}.`,
    });
  });

  it("refuses a switchover while a member region is down; FailoverGlobalCluster with AllowDataLoss works", async () => {
    pair.regionDown("primary");
    pair.setReplicationLag(2_500);

    const unreachable = await rds.primary
      .send(new DescribeGlobalClustersCommand({}))
      .catch((error: unknown) => error);
    expect(unreachable).toMatchObject({ name: "TimeoutError", code: "ETIMEDOUT" });
    expect(classifyError(unreachable).name).toBe("Retryable.Timeout");

    // In the writer's region the call times out like every other; elsewhere it is refused.
    await expect(
      rds.primary.send(
        new SwitchoverGlobalClusterCommand({
          GlobalClusterIdentifier: globalId,
          TargetDbClusterIdentifier: secondary.clusterArn,
        }),
      ),
    ).rejects.toMatchObject({ name: "TimeoutError" });
    await expect(
      rds.secondary.send(
        new SwitchoverGlobalClusterCommand({
          GlobalClusterIdentifier: globalId,
          TargetDbClusterIdentifier: secondary.clusterArn,
        }),
      ),
    ).rejects.toMatchObject({ name: "InvalidGlobalClusterStateFault" });

    const failover = await rds.secondary.send(
      new FailoverGlobalClusterCommand({
        GlobalClusterIdentifier: globalId,
        TargetDbClusterIdentifier: secondary.clusterArn,
        AllowDataLoss: true,
      }),
    );
    expect(failover.GlobalCluster).toMatchObject({
      Status: "failing-over",
      FailoverState: { IsDataLossAllowed: true, ToDbClusterArn: secondary.clusterArn },
    });
    await clock.advance(45_000);
    const after = await globalCluster();
    expect(after?.Status).toBe("available");
    expect(writerArn(after)).toBe(secondary.clusterArn);
    expect(
      after?.GlobalClusterMembers?.find((member) => member.DBClusterArn === primary.clusterArn),
    ).toMatchObject({
      IsWriter: false,
      SynchronizationStatus: "pending-resync",
    });
    expect(pair.rds.promotions.at(-1)).toMatchObject({
      kind: "failover",
      dataLossMs: 2_500,
      outcome: "completed",
    });

    pair.regionUp("primary");
    const recovered = await globalCluster(rds.primary);
    expect(
      recovered?.GlobalClusterMembers?.find((member) => member.DBClusterArn === primary.clusterArn)
        ?.SynchronizationStatus,
    ).toBe("connected");
  });

  it("rejects AllowDataLoss together with Switchover", async () => {
    await expect(
      rds.secondary.send(
        new FailoverGlobalClusterCommand({
          GlobalClusterIdentifier: globalId,
          TargetDbClusterIdentifier: secondary.clusterArn,
          AllowDataLoss: true,
          Switchover: true,
        }),
      ),
    ).rejects.toMatchObject({
      name: "InvalidParameterCombination",
      $metadata: { httpStatusCode: 400 },
    });
  });

  it("cancels a switchover whose source region goes down before it completes", async () => {
    await rds.primary.send(
      new SwitchoverGlobalClusterCommand({
        GlobalClusterIdentifier: globalId,
        TargetDbClusterIdentifier: secondary.clusterArn,
      }),
    );
    pair.regionDown("primary");
    await clock.advance(60_000);
    expect(pair.rds.globalWriter()).toBe("primary");
    expect(pair.rds.globalStatus()).toBe("available");
    expect(pair.rds.promotions.at(-1)?.outcome).toBe("cancelled");
  });

  it("detaches a secondary: it leaves the global cluster and writes once promoted", async () => {
    pair.regionDown("primary");
    const response = await rds.secondary.send(
      new RemoveFromGlobalClusterCommand({
        GlobalClusterIdentifier: globalId,
        DbClusterIdentifier: secondary.clusterArn,
      }),
    );
    expect(
      response.GlobalCluster?.GlobalClusterMembers?.map((member) => member.DBClusterArn),
    ).toEqual([primary.clusterArn]);

    const describe = async () =>
      (
        await rds.secondary.send(
          new DescribeDBClustersCommand({ DBClusterIdentifier: secondary.clusterIdentifier }),
        )
      ).DBClusters?.[0];
    expect(await describe()).toMatchObject({ Status: "promoting" });
    expect((await describe())?.GlobalClusterIdentifier).toBeUndefined();
    expect((await describe())?.ReplicationSourceIdentifier).toBeUndefined();

    await clock.advance(30_000);
    expect(await describe()).toMatchObject({
      Status: "available",
      DBClusterMembers: [{ IsClusterWriter: true }, { IsClusterWriter: false }],
    });
    expect(pair.snapshot().database.clusters).toEqual({
      primary: { status: "available", writable: true, member: true },
      secondary: { status: "available", writable: true, member: false },
    });

    await expect(
      rds.secondary.send(
        new RemoveFromGlobalClusterCommand({
          GlobalClusterIdentifier: globalId,
          DbClusterIdentifier: secondary.clusterArn,
        }),
      ),
    ).rejects.toMatchObject({
      name: "DBClusterNotFoundFault",
      message: `The DB cluster ${secondary.clusterArn} isn't a member of global cluster ${globalId}.`,
    });
  });

  it("makes every promotion slower under slowPromotion", async () => {
    pair.slowPromotion(120_000);
    await rds.primary.send(
      new SwitchoverGlobalClusterCommand({
        GlobalClusterIdentifier: globalId,
        TargetDbClusterIdentifier: secondary.clusterArn,
      }),
    );
    await clock.advance(60_000);
    expect(pair.rds.globalStatus()).toBe("switching-over");
    await clock.advance(120_000);
    expect(pair.rds.globalWriter()).toBe("secondary");
  });

  it("answers GlobalClusterNotFoundFault for an unknown global cluster", async () => {
    await expect(
      rds.secondary.send(
        new DescribeGlobalClustersCommand({ GlobalClusterIdentifier: "other-global" }),
      ),
    ).rejects.toMatchObject({
      name: "GlobalClusterNotFoundFault",
      $metadata: { httpStatusCode: 404 },
    });
  });
});
