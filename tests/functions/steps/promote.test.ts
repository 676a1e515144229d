import {
  DescribeDBClustersCommand,
  DescribeGlobalClustersCommand,
  FailoverGlobalClusterCommand,
  InvalidGlobalClusterStateFault,
  RDSClient,
  RemoveFromGlobalClusterCommand,
  SwitchoverGlobalClusterCommand,
} from "@aws-sdk/client-rds";
import {
  GetParameterCommand,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
} from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import {
  type PromoteDependencies,
  promoteDatabase,
} from "../../../functions/orchestration/promote";
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

const clients = {
  rds: { primary: awsClient(RDSClient, "us-east-2"), secondary: awsClient(RDSClient, "us-west-2") },
  ssm: { primary: awsClient(SSMClient, "us-east-2"), secondary: awsClient(SSMClient, "us-west-2") },
};
const rds = {
  primary: mockClient(clients.rds.primary),
  secondary: mockClient(clients.rds.secondary),
};
const ssm = {
  primary: mockClient(clients.ssm.primary),
  secondary: mockClient(clients.ssm.secondary),
};
const deps: PromoteDependencies = { settings: SETTINGS, ...clients };

const SECONDARY_ENDPOINT = "shopsmart-prod-secondary.cluster-abc123.us-west-2.rds.amazonaws.com";
const PARAMETER = "/shopsmart/prod/db/writer-endpoint";
const GLOBAL_WRITER_ENDPOINT = "shopsmart-prod-global.global-xyz.global.rds.amazonaws.com";

function secondaryState(options: {
  global?: ReturnType<typeof globalCluster>;
  globalError?: Error;
  clusterOverrides?: Parameters<typeof cluster>[1];
}) {
  rds.secondary
    .on(DescribeDBClustersCommand)
    .resolves({ DBClusters: [cluster("secondary", options.clusterOverrides)] });
  if (options.globalError) {
    rds.secondary.on(DescribeGlobalClustersCommand).rejects(options.globalError);
  } else {
    rds.secondary
      .on(DescribeGlobalClustersCommand)
      .resolves({ GlobalClusters: [options.global ?? globalCluster("primary")] });
  }
}

/** The primary writes; the secondary member reports `synchronization` (SynchronizationStatus). */
function primaryWriterWithSecondary(synchronization: "connected" | "pending-resync") {
  return globalCluster("primary", {
    GlobalClusterMembers: [
      { DBClusterArn: PRIMARY_ARN, IsWriter: true },
      { DBClusterArn: SECONDARY_ARN, IsWriter: false, SynchronizationStatus: synchronization },
    ],
  });
}

/** FailoverGlobalCluster in the secondary region fails with a terminal error. */
function failoverRefused(message: string) {
  rds.secondary
    .on(FailoverGlobalClusterCommand)
    .rejects(new InvalidGlobalClusterStateFault({ message, $metadata: {} }));
}

/** The primary region does not answer (the outage detach-and-promote is for). */
function primaryUnreachable() {
  rds.primary.on(DescribeDBClustersCommand).rejects(abortTimeout());
}

/** Every switchover, failover and detach call, in either region. */
function mutatingCalls() {
  return [rds.primary, rds.secondary].flatMap((stub) => [
    ...stub.commandCalls(SwitchoverGlobalClusterCommand),
    ...stub.commandCalls(FailoverGlobalClusterCommand),
    ...stub.commandCalls(RemoveFromGlobalClusterCommand),
  ]);
}

function inputsOf(stub: typeof rds.secondary | typeof ssm.secondary) {
  return stub.calls().map((call) => ({
    command: call.args[0].constructor.name,
    input: call.args[0].input,
  }));
}

beforeEach(() => {
  for (const stub of [rds.primary, rds.secondary, ssm.primary, ssm.secondary]) stub.reset();
});

describe("promoteDatabase, planned", () => {
  it("switches over to the secondary cluster by ARN: reads in the target region, SwitchoverGlobalCluster in the writer's (aurora-global-database-disaster-recovery.html: --region of the primary)", async () => {
    secondaryState({});

    const result = await promoteDatabase(deps, { mode: "planned", target: "secondary" });

    expect(result).toEqual({
      action: "switchover-started",
      changed: true,
      method: "switchover",
      detail:
        "SwitchoverGlobalCluster of shopsmart-prod-global to shopsmart-prod-secondary (us-west-2) started.",
      target: "secondary",
      targetClusterArn: SECONDARY_ARN,
    });
    expect(inputsOf(rds.secondary)).toEqual([
      {
        command: "DescribeDBClustersCommand",
        input: { DBClusterIdentifier: "shopsmart-prod-secondary" },
      },
      {
        command: "DescribeGlobalClustersCommand",
        input: { GlobalClusterIdentifier: "shopsmart-prod-global" },
      },
    ]);
    expect(inputsOf(rds.primary)).toEqual([
      {
        command: "SwitchoverGlobalClusterCommand",
        input: {
          GlobalClusterIdentifier: "shopsmart-prod-global",
          TargetDbClusterIdentifier: SECONDARY_ARN,
        },
      },
    ]);
    expect(ssm.secondary.calls()).toHaveLength(0);
  });

  it("does not call again on a re-run while the switchover runs", async () => {
    secondaryState({
      global: globalCluster("primary", {
        Status: "switching-over",
        FailoverState: {
          Status: SWITCHING_OVER,
          FromDbClusterArn: PRIMARY_ARN,
          ToDbClusterArn: SECONDARY_ARN,
          IsDataLossAllowed: false,
        },
      }),
    });

    const result = await promoteDatabase(deps, { mode: "planned", target: "secondary" });

    expect(result).toMatchObject({
      action: "switchover-in-progress",
      changed: false,
      detail:
        "A switchover of shopsmart-prod-global to shopsmart-prod-secondary (us-west-2) is already switching-over; not calling again.",
    });
    expect(mutatingCalls()).toHaveLength(0);
  });

  it("does nothing when the target already is the writer (re-run after completion)", async () => {
    secondaryState({ global: globalCluster("secondary") });

    const result = await promoteDatabase(deps, { mode: "planned", target: "secondary" });

    expect(result).toMatchObject({
      action: "already-writer",
      changed: false,
      detail:
        "shopsmart-prod-secondary (us-west-2) already is the writer of shopsmart-prod-global; nothing to do.",
    });
    expect(mutatingCalls()).toHaveLength(0);
  });

  it("does not claim a switchover when an unplanned re-run finds the target already the writer (the method that promoted it is unknown)", async () => {
    secondaryState({ global: globalCluster("secondary") });

    const result = await promoteDatabase(deps, { mode: "unplanned", target: "secondary" });

    expect(result).toMatchObject({ action: "already-writer", changed: false, method: "unknown" });
    expect(result.detail).toContain("data loss is reported as the RPO lag at preflight");
    expect(mutatingCalls()).toHaveLength(0);
  });

  it("switches back to the primary on failback", async () => {
    rds.primary.on(DescribeDBClustersCommand).resolves({ DBClusters: [cluster("primary")] });
    rds.primary
      .on(DescribeGlobalClustersCommand)
      .resolves({ GlobalClusters: [globalCluster("secondary")] });

    const result = await promoteDatabase(deps, { mode: "planned", target: "primary" });

    expect(result.action).toBe("switchover-started");
    // Called where the writer (the secondary) is; the target region is only read.
    expect(rds.secondary.commandCalls(SwitchoverGlobalClusterCommand)[0]?.args[0].input).toEqual({
      GlobalClusterIdentifier: "shopsmart-prod-global",
      TargetDbClusterIdentifier: PRIMARY_ARN,
    });
    expect(rds.secondary.calls()).toHaveLength(1);
  });

  it("fails a failback when the source was detached, instead of calling the stale primary the writer", async () => {
    // After a detach-and-promote the global cluster still lists only the old primary, as writer;
    // the detached secondary took writes the primary lacks.
    rds.primary.on(DescribeDBClustersCommand).resolves({ DBClusters: [cluster("primary")] });
    rds.primary
      .on(DescribeGlobalClustersCommand)
      .resolves({ GlobalClusters: [globalCluster("primary", { members: ["primary"] })] });

    await expect(promoteDatabase(deps, { mode: "planned", target: "primary" })).rejects.toThrow(
      `Cluster ${SECONDARY_ARN} is not a member of global cluster shopsmart-prod-global: it was detached (detach-and-promote) and takes writes on its own, so a planned operation to ${PRIMARY_ARN}, which the global cluster still holds without those writes, would leave them behind. Rebuild the global database from the detached cluster before a planned failover or failback.`,
    );
    expect(mutatingCalls()).toHaveLength(0);
  });

  it("reports a switchover an earlier, lost call started (InvalidGlobalClusterStateFault)", async () => {
    secondaryState({});
    rds.secondary
      .on(DescribeGlobalClustersCommand)
      .resolvesOnce({ GlobalClusters: [globalCluster("primary")] })
      .resolves({
        GlobalClusters: [
          globalCluster("primary", {
            Status: "switching-over",
            FailoverState: {
              Status: "pending",
              ToDbClusterArn: SECONDARY_ARN,
              IsDataLossAllowed: false,
            },
          }),
        ],
      });
    rds.primary
      .on(SwitchoverGlobalClusterCommand)
      .rejects(new InvalidGlobalClusterStateFault({ message: "in progress", $metadata: {} }));

    const result = await promoteDatabase(deps, { mode: "planned", target: "secondary" });

    expect(result.action).toBe("switchover-in-progress");
    expect(rds.primary.commandCalls(SwitchoverGlobalClusterCommand)).toHaveLength(1);
  });

  it("fails with InvalidGlobalClusterStateFault when the re-read shows nothing running", async () => {
    secondaryState({});
    rds.primary
      .on(SwitchoverGlobalClusterCommand)
      .rejects(
        new InvalidGlobalClusterStateFault({ message: "engine versions differ", $metadata: {} }),
      );

    const error = await promoteDatabase(deps, { mode: "planned", target: "secondary" }).catch(
      (caught) => caught,
    );

    expect(toStepError(error)).toMatchObject({
      name: "InvalidGlobalClusterStateFault",
      message: "engine versions differ",
    });
  });

  it("fails with Retryable.Throttled when the switchover is throttled", async () => {
    secondaryState({});
    rds.primary.on(SwitchoverGlobalClusterCommand).rejects(throttling());

    const error = await promoteDatabase(deps, { mode: "planned", target: "secondary" }).catch(
      (caught) => caught,
    );

    expect(toStepError(error)).toMatchObject({
      name: "Retryable.Throttled",
      message: "Throttling: Rate exceeded",
    });
  });

  it("fails with Retryable.Timeout, without switching over, when the global cluster read times out", async () => {
    secondaryState({ globalError: abortTimeout() });

    const error = await promoteDatabase(deps, { mode: "planned", target: "secondary" }).catch(
      (caught) => caught,
    );

    expect(toStepError(error)).toMatchObject({
      name: "Retryable.Timeout",
      message: "AbortError: Request aborted",
    });
    expect(mutatingCalls()).toHaveLength(0);
  });

  it("fails when the target was detached earlier", async () => {
    secondaryState({ global: globalCluster("primary", { members: ["primary"] }) });

    await expect(promoteDatabase(deps, { mode: "planned", target: "secondary" })).rejects.toThrow(
      `Cluster ${SECONDARY_ARN} is not a member of global cluster shopsmart-prod-global, so a switchover to it is impossible (it was detached by an earlier detach-and-promote). It cannot rejoin: rebuild the global database (docs/dr-plan.md) before a planned failover or failback.`,
    );
    expect(mutatingCalls()).toHaveLength(0);
  });

  it("fails when another operation holds the global cluster", async () => {
    secondaryState({
      global: globalCluster("primary", {
        FailoverState: {
          Status: SWITCHING_OVER,
          ToDbClusterArn: "arn:aws:rds:eu-west-1:1:cluster:other",
        },
      }),
    });

    const error = await promoteDatabase(deps, { mode: "planned", target: "secondary" }).catch(
      (caught) => caught,
    );

    expect(error).toMatchObject({
      name: "GlobalClusterBusy",
      message:
        "Global cluster shopsmart-prod-global is switching-over towards arn:aws:rds:eu-west-1:1:cluster:other, not towards this operation's target; wait for it to finish, then re-run.",
    });
  });

  it("fails while an earlier switchover is being cancelled", async () => {
    secondaryState({
      global: globalCluster("primary", {
        FailoverState: { Status: "cancelling", ToDbClusterArn: SECONDARY_ARN },
      }),
    });

    const error = await promoteDatabase(deps, { mode: "planned", target: "secondary" }).catch(
      (caught) => caught,
    );

    expect(error).toMatchObject({
      name: "GlobalClusterOperationCancelling",
      message:
        "A switchover or failover of global cluster shopsmart-prod-global is being cancelled; re-run the operation once the global cluster is available again.",
    });
    expect(mutatingCalls()).toHaveLength(0);
  });
});

describe("promoteDatabase, unplanned", () => {
  it("switches over (no data loss) when the source answers as the available writer and the target is connected, e.g. only the web tier failed", async () => {
    secondaryState({
      global: primaryWriterWithSecondary("connected"),
    });
    rds.primary.on(DescribeDBClustersCommand).resolves({ DBClusters: [cluster("primary")] });

    const result = await promoteDatabase(deps, { mode: "unplanned", target: "secondary" });

    expect(result).toEqual({
      action: "switchover-started",
      changed: true,
      method: "switchover",
      detail:
        "SwitchoverGlobalCluster of shopsmart-prod-global to shopsmart-prod-secondary (us-west-2) started.",
      decision:
        "unplanned request, but shopsmart-prod-primary (us-east-2) answers as the available writer and shopsmart-prod-secondary is connected: switchover, no data loss",
      target: "secondary",
      targetClusterArn: SECONDARY_ARN,
    });
    expect(rds.secondary.commandCalls(FailoverGlobalClusterCommand)).toHaveLength(0);
    expect(
      rds.primary.commandCalls(SwitchoverGlobalClusterCommand).map((call) => call.args[0].input),
    ).toEqual([
      {
        GlobalClusterIdentifier: "shopsmart-prod-global",
        TargetDbClusterIdentifier: SECONDARY_ARN,
      },
    ]);
  });

  it("fails over with data loss when the source answers but is not available, naming why", async () => {
    secondaryState({});
    rds.primary.on(DescribeDBClustersCommand).resolves({
      DBClusters: [cluster("primary", { Status: "inaccessible-encryption-credentials" })],
    });

    const result = await promoteDatabase(deps, { mode: "unplanned", target: "secondary" });

    expect(result).toMatchObject({
      action: "failover-started",
      method: "failover",
      decision:
        "shopsmart-prod-primary (us-east-2) is inaccessible-encryption-credentials: failover with data loss",
    });
    expect(rds.primary.commandCalls(SwitchoverGlobalClusterCommand)).toHaveLength(0);
    expect(rds.secondary.commandCalls(SwitchoverGlobalClusterCommand)).toHaveLength(0);
  });

  it("refuses a failover with data loss while the source answers as the available writer and the target is not connected (SourceNotDown)", async () => {
    secondaryState({
      global: primaryWriterWithSecondary("pending-resync"),
    });
    rds.primary.on(DescribeDBClustersCommand).resolves({ DBClusters: [cluster("primary")] });

    const error = await promoteDatabase(deps, { mode: "unplanned", target: "secondary" }).catch(
      (caught) => caught,
    );

    expect(toStepError(error)).toMatchObject({
      name: "SourceNotDown",
      retryable: false,
      message:
        "Not failing over with data loss: shopsmart-prod-primary (us-east-2) answers and is the available writer, while shopsmart-prod-secondary is pending-resync, not connected: a switchover cannot start yet. A failover with data loss is only for a source that does not answer or is down; wait until a switchover can start (GET /status), then request the failover again.",
    });
    expect(mutatingCalls()).toHaveLength(0);
  });

  it("refuses a failover with data loss while the source answers in a state that may still write (backing-up, an in-region failing-over)", async () => {
    for (const status of ["backing-up", "failing-over", "modifying"]) {
      rds.primary.reset();
      rds.secondary.reset();
      secondaryState({});
      rds.primary
        .on(DescribeDBClustersCommand)
        .resolves({ DBClusters: [cluster("primary", { Status: status })] });

      const error = await promoteDatabase(deps, { mode: "unplanned", target: "secondary" }).catch(
        (caught) => caught,
      );

      expect(toStepError(error).name, status).toBe("SourceNotDown");
      expect(mutatingCalls(), status).toHaveLength(0);
    }
  });

  it("retries (throttled) rather than choose data loss when the source region cannot tell its state", async () => {
    secondaryState({});
    rds.primary.on(DescribeDBClustersCommand).rejects(throttling());

    const error = await promoteDatabase(deps, { mode: "unplanned", target: "secondary" }).catch(
      (caught) => caught,
    );

    expect(toStepError(error).name).toBe("Retryable.Throttled");
    expect(mutatingCalls()).toHaveLength(0);
  });

  it("fails over with AllowDataLoss to the secondary cluster by ARN when the source region does not answer", async () => {
    secondaryState({});
    primaryUnreachable();

    const result = await promoteDatabase(deps, { mode: "unplanned", target: "secondary" });

    expect(result).toEqual({
      action: "failover-started",
      changed: true,
      method: "failover",
      detail:
        "FailoverGlobalCluster (AllowDataLoss) of shopsmart-prod-global to shopsmart-prod-secondary (us-west-2) started.",
      decision:
        "shopsmart-prod-primary (us-east-2) did not answer (Retryable.Timeout: AbortError: Request aborted): failover with data loss",
      target: "secondary",
      targetClusterArn: SECONDARY_ARN,
    });
    expect(
      rds.secondary.commandCalls(FailoverGlobalClusterCommand).map((call) => call.args[0].input),
    ).toEqual([
      {
        GlobalClusterIdentifier: "shopsmart-prod-global",
        TargetDbClusterIdentifier: SECONDARY_ARN,
        AllowDataLoss: true,
      },
    ]);
    // The only call to the primary region: does its cluster still answer as the writer?
    expect(inputsOf(rds.primary)).toEqual([
      {
        command: "DescribeDBClustersCommand",
        input: { DBClusterIdentifier: "shopsmart-prod-primary" },
      },
    ]);
  });

  it("does not call again on a re-run while the failover runs", async () => {
    secondaryState({
      global: globalCluster("primary", {
        Status: "failing-over",
        FailoverState: {
          Status: "failing-over",
          ToDbClusterArn: SECONDARY_ARN,
          IsDataLossAllowed: true,
        },
      }),
    });

    const result = await promoteDatabase(deps, { mode: "unplanned", target: "secondary" });

    expect(result).toMatchObject({
      action: "failover-in-progress",
      changed: false,
      method: "failover",
    });
    expect(mutatingCalls()).toHaveLength(0);
  });

  it("fails with Retryable.Throttled, without detaching, when the failover is throttled", async () => {
    secondaryState({});
    primaryUnreachable();
    rds.secondary.on(FailoverGlobalClusterCommand).rejects(throttling());

    const error = await promoteDatabase(deps, { mode: "unplanned", target: "secondary" }).catch(
      (caught) => caught,
    );

    expect(toStepError(error)).toMatchObject({
      name: "Retryable.Throttled",
      message: "Throttling: Rate exceeded",
    });
    expect(rds.secondary.commandCalls(RemoveFromGlobalClusterCommand)).toHaveLength(0);
  });

  it("fails with Retryable.Timeout, without detaching, when the failover call times out", async () => {
    secondaryState({});
    primaryUnreachable();
    rds.secondary.on(FailoverGlobalClusterCommand).rejects(abortTimeout());

    const error = await promoteDatabase(deps, { mode: "unplanned", target: "secondary" }).catch(
      (caught) => caught,
    );

    expect(toStepError(error)).toMatchObject({
      name: "Retryable.Timeout",
      message: "AbortError: Request aborted",
    });
    expect(rds.secondary.commandCalls(RemoveFromGlobalClusterCommand)).toHaveLength(0);
  });

  it("detaches and promotes when the failover fails with a terminal error", async () => {
    secondaryState({});
    primaryUnreachable();
    failoverRefused("primary unreachable");
    ssm.secondary
      .on(GetParameterCommand)
      .resolves({ Parameter: { Value: GLOBAL_WRITER_ENDPOINT } });

    const result = await promoteDatabase(deps, { mode: "unplanned", target: "secondary" });

    expect(result).toEqual({
      action: "detached",
      changed: true,
      method: "detach",
      detail: `Detached shopsmart-prod-secondary from shopsmart-prod-global (RemoveFromGlobalCluster); it is now a standalone writer. Set ${PARAMETER} in us-west-2 to ${SECONDARY_ENDPOINT}.`,
      fallbackReason:
        "FailoverGlobalCluster failed: InvalidGlobalClusterStateFault: primary unreachable",
      writerEndpointParameter: { name: PARAMETER, value: SECONDARY_ENDPOINT, updated: true },
      target: "secondary",
      targetClusterArn: SECONDARY_ARN,
    });
    expect(inputsOf(rds.secondary).slice(2)).toEqual([
      {
        command: "FailoverGlobalClusterCommand",
        input: {
          GlobalClusterIdentifier: "shopsmart-prod-global",
          TargetDbClusterIdentifier: SECONDARY_ARN,
          AllowDataLoss: true,
        },
      },
      {
        command: "DescribeGlobalClustersCommand",
        input: { GlobalClusterIdentifier: "shopsmart-prod-global" },
      },
      {
        command: "RemoveFromGlobalClusterCommand",
        input: {
          GlobalClusterIdentifier: "shopsmart-prod-global",
          DbClusterIdentifier: SECONDARY_ARN,
        },
      },
    ]);
    expect(inputsOf(ssm.secondary)).toEqual([
      { command: "GetParameterCommand", input: { Name: PARAMETER } },
      {
        command: "PutParameterCommand",
        input: { Name: PARAMETER, Value: SECONDARY_ENDPOINT, Type: "String", Overwrite: true },
      },
    ]);
    // The only calls to the primary region: can it switch over (no), and is its cluster still
    // there to take writes before detaching (no)?
    const describePrimary = {
      command: "DescribeDBClustersCommand",
      input: { DBClusterIdentifier: "shopsmart-prod-primary" },
    };
    expect(inputsOf(rds.primary)).toEqual([describePrimary, describePrimary]);
    expect(ssm.primary.calls()).toHaveLength(0);
  });

  it("refuses to detach while the source cluster answers as available: that would make two writers", async () => {
    // Down at the first read (its key unusable), so a failover with data loss; the failover is
    // refused, and by the time of the detach the source answers as available again.
    secondaryState({});
    failoverRefused("not now");
    rds.primary
      .on(DescribeDBClustersCommand)
      .resolvesOnce({
        DBClusters: [
          cluster("primary", { Status: "inaccessible-encryption-credentials-recoverable" }),
        ],
      })
      .resolves({ DBClusters: [cluster("primary")] });

    const error = await promoteDatabase(deps, { mode: "unplanned", target: "secondary" }).catch(
      (caught) => caught,
    );

    expect(toStepError(error)).toMatchObject({
      name: "SourceStillAvailable",
      retryable: false,
      message:
        "Not detaching from shopsmart-prod-global (FailoverGlobalCluster failed: " +
        "InvalidGlobalClusterStateFault: not now): the source cluster shopsmart-prod-primary in " +
        "us-east-2 answers and is available, so it would go on taking writes and the two " +
        "clusters would diverge (split brain). Its region is up: use a planned failover " +
        "(switchover, no data loss), or stop the writes in us-east-2 first and run the unplanned " +
        "failover again.",
    });
    expect(rds.secondary.commandCalls(RemoveFromGlobalClusterCommand)).toHaveLength(0);
    expect(ssm.secondary.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  it("detaches when the source cluster no longer exists, and retries (throttled) when it cannot tell", async () => {
    secondaryState({});
    failoverRefused("not now");
    ssm.secondary.on(GetParameterCommand).resolves({ Parameter: { Value: SECONDARY_ENDPOINT } });

    rds.primary.on(DescribeDBClustersCommand).rejects(throttling());
    const throttled = await promoteDatabase(deps, { mode: "unplanned", target: "secondary" }).catch(
      (caught) => caught,
    );
    expect(toStepError(throttled).name).toBe("Retryable.Throttled");
    expect(rds.secondary.commandCalls(RemoveFromGlobalClusterCommand)).toHaveLength(0);

    rds.primary
      .on(DescribeDBClustersCommand)
      .rejects(
        awsError("DBClusterNotFoundFault", 404, "DBCluster shopsmart-prod-primary not found"),
      );
    const detached = await promoteDatabase(deps, { mode: "unplanned", target: "secondary" });
    expect(detached.action).toBe("detached");
  });

  it("detaches and promotes when the global cluster cannot be read", async () => {
    secondaryState({
      globalError: awsError("InternalFailure", 500, "We encountered an internal error"),
    });
    primaryUnreachable();
    ssm.secondary
      .on(GetParameterCommand)
      .rejects(new ParameterNotFound({ message: "none", $metadata: {} }));

    const result = await promoteDatabase(deps, { mode: "unplanned", target: "secondary" });

    expect(result).toMatchObject({
      action: "detached",
      fallbackReason:
        "global cluster shopsmart-prod-global could not be read: Retryable.ServerError: InternalFailure: We encountered an internal error",
      writerEndpointParameter: { name: PARAMETER, value: SECONDARY_ENDPOINT, updated: true },
    });
    expect(rds.secondary.commandCalls(FailoverGlobalClusterCommand)).toHaveLength(0);
    expect(rds.secondary.commandCalls(RemoveFromGlobalClusterCommand)).toHaveLength(1);
    expect(ssm.secondary.commandCalls(PutParameterCommand)).toHaveLength(1);
  });

  it("does not detach again on a re-run after detach-and-promote", async () => {
    secondaryState({ global: globalCluster("primary", { members: ["primary"] }) });
    ssm.secondary.on(GetParameterCommand).resolves({ Parameter: { Value: SECONDARY_ENDPOINT } });

    const result = await promoteDatabase(deps, { mode: "unplanned", target: "secondary" });

    expect(result).toMatchObject({
      action: "already-detached",
      changed: false,
      detail: `shopsmart-prod-secondary is already detached from shopsmart-prod-global. ${PARAMETER} in us-west-2 already is ${SECONDARY_ENDPOINT}.`,
      writerEndpointParameter: { name: PARAMETER, value: SECONDARY_ENDPOINT, updated: false },
    });
    expect(mutatingCalls()).toHaveLength(0);
    expect(ssm.secondary.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  it("finishes a detach-and-promote that crashed before the parameter was written", async () => {
    secondaryState({
      globalError: abortTimeout(),
      clusterOverrides: { GlobalClusterIdentifier: undefined },
    });
    ssm.secondary
      .on(GetParameterCommand)
      .resolves({ Parameter: { Value: GLOBAL_WRITER_ENDPOINT } });

    const result = await promoteDatabase(deps, { mode: "unplanned", target: "secondary" });

    expect(result).toMatchObject({ action: "already-detached", changed: true });
    expect(mutatingCalls()).toHaveLength(0);
    expect(
      ssm.secondary.commandCalls(PutParameterCommand).map((call) => call.args[0].input),
    ).toEqual([{ Name: PARAMETER, Value: SECONDARY_ENDPOINT, Type: "String", Overwrite: true }]);
  });

  it("fails with Retryable.Timeout when the target cluster itself cannot be read", async () => {
    rds.secondary.on(DescribeDBClustersCommand).rejects(abortTimeout());

    const error = await promoteDatabase(deps, { mode: "unplanned", target: "secondary" }).catch(
      (caught) => caught,
    );

    expect(toStepError(error)).toMatchObject({
      name: "Retryable.Timeout",
      message: "AbortError: Request aborted",
    });
    expect(mutatingCalls()).toHaveLength(0);
  });
});

describe("promoteDatabase, re-run after a crash", () => {
  it("switches over exactly once across two runs", async () => {
    secondaryState({});
    await promoteDatabase(deps, { mode: "planned", target: "secondary" });
    // What the global cluster reports once the switchover is under way.
    rds.secondary.on(DescribeGlobalClustersCommand).resolves({
      GlobalClusters: [
        globalCluster("primary", {
          Status: "switching-over",
          FailoverState: {
            Status: SWITCHING_OVER,
            ToDbClusterArn: SECONDARY_ARN,
            IsDataLossAllowed: false,
          },
        }),
      ],
    });

    const rerun = await promoteDatabase(deps, { mode: "planned", target: "secondary" });

    expect(rerun.action).toBe("switchover-in-progress");
    expect(rds.primary.commandCalls(SwitchoverGlobalClusterCommand)).toHaveLength(1);
  });

  it("detaches and writes the parameter exactly once across two runs", async () => {
    secondaryState({});
    primaryUnreachable();
    failoverRefused("primary unreachable");
    ssm.secondary
      .on(GetParameterCommand)
      .resolves({ Parameter: { Value: GLOBAL_WRITER_ENDPOINT } });
    await promoteDatabase(deps, { mode: "unplanned", target: "secondary" });
    // After the detach: the target left the global cluster and the parameter holds its endpoint.
    secondaryState({
      global: globalCluster("primary", { members: ["primary"] }),
      clusterOverrides: { GlobalClusterIdentifier: undefined },
    });
    ssm.secondary.on(GetParameterCommand).resolves({ Parameter: { Value: SECONDARY_ENDPOINT } });

    const rerun = await promoteDatabase(deps, { mode: "unplanned", target: "secondary" });

    expect(rerun).toMatchObject({ action: "already-detached", changed: false });
    expect(rds.secondary.commandCalls(FailoverGlobalClusterCommand)).toHaveLength(1);
    expect(rds.secondary.commandCalls(RemoveFromGlobalClusterCommand)).toHaveLength(1);
    expect(ssm.secondary.commandCalls(PutParameterCommand)).toHaveLength(1);
  });
});
