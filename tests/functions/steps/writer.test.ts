import {
  DescribeDBClustersCommand,
  DescribeGlobalClustersCommand,
  RDSClient,
} from "@aws-sdk/client-rds";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { checkWriter, type WriterDependencies } from "../../../functions/orchestration/writer";
import { awsClient } from "../../../functions/shared/aws-clients";
import { toStepError } from "../../../functions/shared/errors";
import {
  abortTimeout,
  cluster,
  globalCluster,
  SECONDARY_ARN,
  SETTINGS,
  SWITCHING_OVER,
  throttling,
} from "./fixtures";

const clients = {
  primary: awsClient(RDSClient, "us-east-2"),
  secondary: awsClient(RDSClient, "us-west-2"),
};
const rds = { primary: mockClient(clients.primary), secondary: mockClient(clients.secondary) };
const deps: WriterDependencies = { settings: SETTINGS, rds: clients };

function secondary(options: {
  clusterOverrides?: Parameters<typeof cluster>[1];
  global?: ReturnType<typeof globalCluster>;
  globalError?: Error;
}) {
  rds.secondary
    .on(DescribeDBClustersCommand)
    .resolves({ DBClusters: [cluster("secondary", options.clusterOverrides)] });
  if (options.globalError)
    rds.secondary.on(DescribeGlobalClustersCommand).rejects(options.globalError);
  else
    rds.secondary
      .on(DescribeGlobalClustersCommand)
      .resolves({ GlobalClusters: [options.global ?? globalCluster("secondary")] });
}

beforeEach(() => {
  rds.primary.reset();
  rds.secondary.reset();
});

describe("checkWriter", () => {
  it("is ready when the target is the writer and the global cluster is available", async () => {
    secondary({});

    await expect(checkWriter(deps, { target: "secondary" })).resolves.toEqual({
      ready: true,
      writerRegion: "secondary",
      status: "available",
      detached: false,
      promotionRunning: false,
      clusterStatus: "available",
      detail:
        "shopsmart-prod-secondary (us-west-2) is the writer and shopsmart-prod-global is available.",
    });
    expect(rds.secondary.commandCalls(DescribeGlobalClustersCommand)[0]?.args[0].input).toEqual({
      GlobalClusterIdentifier: "shopsmart-prod-global",
    });
    expect(rds.primary.calls()).toHaveLength(0);
  });

  it("is not ready while the writer is still the primary", async () => {
    secondary({ global: globalCluster("primary", { Status: "failing-over" }) });

    await expect(checkWriter(deps, { target: "secondary" })).resolves.toMatchObject({
      ready: false,
      writerRegion: "primary",
      status: "failing-over",
      // No FailoverState towards the target: nothing says a promotion runs.
      promotionRunning: false,
      detail: "Not ready: writer is primary, shopsmart-prod-global is failing-over.",
    });
  });

  it("reports a promotion running while FailoverState shows one towards the target (pending, switching-over, failing-over), and none towards another cluster or while cancelling", async () => {
    const withState = async (Status: string, ToDbClusterArn: string) => {
      rds.secondary.reset();
      secondary({
        global: globalCluster("primary", {
          Status: "switching-over",
          FailoverState: { Status: Status as never, ToDbClusterArn },
        }),
      });
      return (await checkWriter(deps, { target: "secondary" })).promotionRunning;
    };
    for (const status of ["pending", SWITCHING_OVER, "failing-over"]) {
      expect(await withState(status, SECONDARY_ARN), status).toBe(true);
    }
    expect(await withState("cancelling", SECONDARY_ARN)).toBe(false);
    expect(await withState(SWITCHING_OVER, "arn:aws:rds:eu-west-1:1:cluster:other")).toBe(false);
  });

  it("is not ready while the global cluster is still switching over", async () => {
    secondary({
      global: globalCluster("secondary", {
        Status: "switching-over",
        FailoverState: { Status: SWITCHING_OVER, ToDbClusterArn: SECONDARY_ARN },
      }),
    });

    await expect(checkWriter(deps, { target: "secondary" })).resolves.toMatchObject({
      ready: false,
      writerRegion: "secondary",
      status: "switching-over",
    });
  });

  it("is ready after detach-and-promote once the standalone cluster is available", async () => {
    secondary({
      global: globalCluster("primary", { members: ["primary"] }),
      clusterOverrides: { GlobalClusterIdentifier: undefined },
    });

    await expect(checkWriter(deps, { target: "secondary" })).resolves.toEqual({
      ready: true,
      writerRegion: "secondary",
      status: "available",
      detached: true,
      promotionRunning: false,
      clusterStatus: "available",
      detail: "shopsmart-prod-secondary is standalone (detached) and available.",
    });
  });

  it("is not ready while the detached cluster is still being promoted", async () => {
    secondary({
      global: globalCluster("primary", { members: ["primary"] }),
      clusterOverrides: { GlobalClusterIdentifier: undefined, Status: "promoting" },
    });

    await expect(checkWriter(deps, { target: "secondary" })).resolves.toMatchObject({
      ready: false,
      detached: true,
      status: "promoting",
      promotionRunning: true,
    });
  });

  it("uses the cluster's own view after a detach when the global cluster cannot be read", async () => {
    secondary({
      globalError: abortTimeout(),
      clusterOverrides: { GlobalClusterIdentifier: undefined },
    });

    await expect(checkWriter(deps, { target: "secondary" })).resolves.toMatchObject({
      ready: true,
      detached: true,
      detail:
        "shopsmart-prod-secondary is standalone (detached) and available (global cluster not readable: Retryable.Timeout: AbortError: Request aborted).",
    });
  });

  it("fails with Retryable.Timeout when the global cluster cannot be read and the target is still a member", async () => {
    secondary({ globalError: abortTimeout() });

    const error = await checkWriter(deps, { target: "secondary" }).catch((caught) => caught);

    expect(toStepError(error)).toMatchObject({
      name: "Retryable.Timeout",
      message: "AbortError: Request aborted",
    });
  });

  it("fails with Retryable.Throttled when throttled", async () => {
    secondary({ globalError: throttling() });

    const error = await checkWriter(deps, { target: "secondary" }).catch((caught) => caught);

    expect(toStepError(error)).toMatchObject({
      name: "Retryable.Throttled",
      message: "Throttling: Rate exceeded",
    });
  });
});
