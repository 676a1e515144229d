import {
  AutoScalingClient,
  type AutoScalingGroup,
  DescribeAutoScalingGroupsCommand,
  UpdateAutoScalingGroupCommand,
} from "@aws-sdk/client-auto-scaling";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import {
  type CapacityDependencies,
  FENCED_SIZES,
  fenceRegion,
  resolveSizes,
  scaleCapacity,
} from "../../../functions/orchestration/capacity";
import { awsClient } from "../../../functions/shared/aws-clients";
import { toStepError } from "../../../functions/shared/errors";
import { FakeLedgerTable } from "../operations/fixtures";
import { abortTimeout, SETTINGS, throttling } from "./fixtures";

const clients = {
  primary: awsClient(AutoScalingClient, "us-east-2"),
  secondary: awsClient(AutoScalingClient, "us-west-2"),
};
const autoScaling = {
  primary: mockClient(clients.primary),
  secondary: mockClient(clients.secondary),
};
const deps: CapacityDependencies = { settings: SETTINGS, autoScaling: clients };
const ACTIVE = SETTINGS.regions.secondary.activeCapacity; // 2 / 4 / 8

function secondaryGroup(sizes: Pick<AutoScalingGroup, "MinSize" | "DesiredCapacity" | "MaxSize">) {
  autoScaling.secondary.on(DescribeAutoScalingGroupsCommand).resolves({
    AutoScalingGroups: [
      { AutoScalingGroupName: "shopsmart-prod-secondary-web", Instances: [], ...sizes } as never,
    ],
  });
}

beforeEach(() => {
  autoScaling.primary.reset();
  autoScaling.secondary.reset();
});

describe("scaleCapacity", () => {
  it("scales the secondary group to active capacity", async () => {
    secondaryGroup({ MinSize: 1, DesiredCapacity: 1, MaxSize: 2 });

    const result = await scaleCapacity(deps, { role: "secondary", sizes: ACTIVE });

    expect(result).toEqual({
      action: "scaled",
      changed: true,
      detail:
        "shopsmart-prod-secondary-web (us-west-2) set from min 1 / desired 1 / max 2 to min 2 / desired 4 / max 8.",
      role: "secondary",
      autoScalingGroupName: "shopsmart-prod-secondary-web",
      requested: ACTIVE,
      before: { minSize: 1, desiredCapacity: 1, maxSize: 2, inService: 0 },
    });
    expect(
      autoScaling.secondary
        .commandCalls(UpdateAutoScalingGroupCommand)
        .map((call) => call.args[0].input),
    ).toEqual([
      {
        AutoScalingGroupName: "shopsmart-prod-secondary-web",
        MinSize: 2,
        DesiredCapacity: 4,
        MaxSize: 8,
      },
    ]);
    expect(autoScaling.primary.calls()).toHaveLength(0);
  });

  it("does nothing on a re-run once the group is at capacity", async () => {
    secondaryGroup({ MinSize: 2, DesiredCapacity: 4, MaxSize: 8 });

    const result = await scaleCapacity(deps, { role: "secondary", sizes: ACTIVE });

    expect(result.action).toBe("already-at-capacity");
    expect(result.changed).toBe(false);
    expect(autoScaling.secondary.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(0);
  });

  it("keeps a scale-out a policy made since (desired above the requested, within max)", async () => {
    secondaryGroup({ MinSize: 2, DesiredCapacity: 6, MaxSize: 8 });

    const result = await scaleCapacity(deps, { role: "secondary", sizes: ACTIVE });

    expect(result.action).toBe("already-at-capacity");
    expect(autoScaling.secondary.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(0);
  });

  it("scales the source down to standby capacity on failback", async () => {
    secondaryGroup({ MinSize: 2, DesiredCapacity: 4, MaxSize: 8 });

    const result = await scaleCapacity(deps, {
      role: "secondary",
      sizes: resolveSizes(SETTINGS, "secondary", "standby"),
    });

    expect(result.action).toBe("scaled");
    expect(
      autoScaling.secondary.commandCalls(UpdateAutoScalingGroupCommand)[0]?.args[0].input,
    ).toEqual({
      AutoScalingGroupName: "shopsmart-prod-secondary-web",
      MinSize: 1,
      DesiredCapacity: 1,
      MaxSize: 2,
    });
  });

  it("fails with Retryable.Throttled when the update is throttled", async () => {
    secondaryGroup({ MinSize: 1, DesiredCapacity: 1, MaxSize: 2 });
    autoScaling.secondary.on(UpdateAutoScalingGroupCommand).rejects(throttling());

    const error = await scaleCapacity(deps, { role: "secondary", sizes: ACTIVE }).catch(
      (caught) => caught,
    );

    expect(toStepError(error)).toMatchObject({
      name: "Retryable.Throttled",
      message: "Throttling: Rate exceeded",
    });
  });

  it("fails with Retryable.Timeout when the region does not answer", async () => {
    autoScaling.secondary.on(DescribeAutoScalingGroupsCommand).rejects(abortTimeout());

    const error = await scaleCapacity(deps, { role: "secondary", sizes: ACTIVE }).catch(
      (caught) => caught,
    );

    expect(toStepError(error)).toMatchObject({
      name: "Retryable.Timeout",
      message: "AbortError: Request aborted",
    });
    expect(autoScaling.secondary.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(0);
  });
});

describe("resolveSizes", () => {
  it("takes active and standby sizes from the settings, or the given sizes", () => {
    expect(resolveSizes(SETTINGS, "primary", "active")).toEqual({
      minSize: 2,
      desiredCapacity: 4,
      maxSize: 8,
    });
    expect(resolveSizes(SETTINGS, "primary", "standby")).toEqual({
      minSize: 1,
      desiredCapacity: 1,
      maxSize: 2,
    });
    const sizes = { minSize: 0, desiredCapacity: 0, maxSize: 0 };
    expect(resolveSizes(SETTINGS, "primary", sizes)).toBe(sizes);
  });
});

describe("fenceRegion", () => {
  const dynamoDb = new DynamoDBClient({ region: "us-west-2" });
  const dynamoDbMock = mockClient(dynamoDb);
  let table: FakeLedgerTable;
  const fenceDeps = {
    ...deps,
    ledger: { client: dynamoDb, tableName: SETTINGS.ledgerTableName },
  };
  const OPERATION_ID = "op-20261203T100000Z-abcdef";
  const AT = new Date("2026-12-03T10:30:00Z");

  function primaryGroup(sizes: Pick<AutoScalingGroup, "MinSize" | "DesiredCapacity" | "MaxSize">) {
    autoScaling.primary.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [
        { AutoScalingGroupName: "shopsmart-prod-primary-web", Instances: [], ...sizes } as never,
      ],
    });
  }

  beforeEach(() => {
    dynamoDbMock.reset();
    table = new FakeLedgerTable().install(dynamoDbMock);
  });

  it("scales the old primary's group to zero with the lock held, and releases it", async () => {
    primaryGroup({ MinSize: 2, DesiredCapacity: 2, MaxSize: 4 });
    const locks: unknown[] = [];
    autoScaling.primary.on(UpdateAutoScalingGroupCommand).callsFake(() => {
      locks.push(table.item("LOCK"));
      return {};
    });

    const result = await fenceRegion(fenceDeps, { role: "primary", operationId: OPERATION_ID }, AT);

    expect(result).toMatchObject({ action: "scaled", fenced: true, requested: FENCED_SIZES });
    expect(
      autoScaling.primary.commandCalls(UpdateAutoScalingGroupCommand)[0]?.args[0].input,
    ).toEqual({
      AutoScalingGroupName: "shopsmart-prod-primary-web",
      MinSize: 0,
      DesiredCapacity: 0,
      MaxSize: 0,
    });
    expect(locks).toEqual([
      { pk: "LOCK", operationId: `${OPERATION_ID}-fence`, acquiredAt: AT.toISOString() },
    ]);
    expect(table.item("LOCK")).toBeUndefined();
  });

  it("is over for good once a later operation (a failback) has started: running or finished, it owns the region", async () => {
    table.seed({ pk: "LATEST", operationId: "op-failback" });
    for (const lock of [{ operationId: "op-failback" }, undefined]) {
      if (lock) table.seed({ pk: "LOCK", ...lock, acquiredAt: AT.toISOString() });
      const result = await fenceRegion(
        fenceDeps,
        { role: "primary", operationId: OPERATION_ID },
        AT,
      );
      expect(result).toEqual({
        action: "skipped",
        changed: false,
        fenced: false,
        role: "primary",
        detail: "Not fenced: op-failback started since and owns the primary region now.",
      });
      table.items.delete("LOCK");
    }
    expect(autoScaling.primary.calls()).toHaveLength(0);
  });

  it("tries again later while an operation that is not yet the latest holds the lock", async () => {
    table.seed({ pk: "LATEST", operationId: OPERATION_ID });
    table.seed({ pk: "LOCK", operationId: "op-starting", acquiredAt: AT.toISOString() });

    const result = await fenceRegion(fenceDeps, { role: "primary", operationId: OPERATION_ID }, AT);

    expect(result).toMatchObject({ action: "busy", fenced: false });
    expect(autoScaling.primary.calls()).toHaveLength(0);
    expect(table.item("LOCK")).toMatchObject({ operationId: "op-starting" });
  });

  it("takes over its own fence lock (a retry after a timed-out attempt) and releases it", async () => {
    primaryGroup({ MinSize: 2, DesiredCapacity: 2, MaxSize: 4 });
    table.seed({ pk: "LOCK", operationId: `${OPERATION_ID}-fence`, acquiredAt: AT.toISOString() });

    const result = await fenceRegion(fenceDeps, { role: "primary", operationId: OPERATION_ID }, AT);

    expect(result).toMatchObject({ action: "scaled", fenced: true });
    expect(table.item("LOCK")).toBeUndefined();
  });

  it("answers 'not yet' (no error) and releases the lock while the old primary's region does not answer", async () => {
    autoScaling.primary.on(DescribeAutoScalingGroupsCommand).rejects(abortTimeout());

    const result = await fenceRegion(fenceDeps, { role: "primary", operationId: OPERATION_ID }, AT);

    expect(result).toMatchObject({ action: "unreachable", fenced: false, changed: false });
    expect(table.item("LOCK")).toBeUndefined();
  });

  it("fails on an error that is not the region being away (e.g. access denied)", async () => {
    autoScaling.primary
      .on(DescribeAutoScalingGroupsCommand)
      .rejects(Object.assign(new Error("denied"), { name: "AccessDenied", $fault: "client" }));

    await expect(
      fenceRegion(fenceDeps, { role: "primary", operationId: OPERATION_ID }, AT),
    ).rejects.toThrow("denied");
    expect(table.item("LOCK")).toBeUndefined();
  });

  it("resolves `fenced` to zero instances", () => {
    expect(resolveSizes(SETTINGS, "primary", "fenced")).toEqual({
      minSize: 0,
      desiredCapacity: 0,
      maxSize: 0,
    });
  });
});
