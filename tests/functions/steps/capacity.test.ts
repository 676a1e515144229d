import {
  type AutoScalingGroup,
  DescribeAutoScalingGroupsCommand,
  UpdateAutoScalingGroupCommand,
} from "@aws-sdk/client-auto-scaling";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import {
  type CapacityDependencies,
  resolveSizes,
  scaleCapacity,
} from "../../../functions/orchestration/capacity";
import { autoScalingClient } from "../../../functions/shared/aws-clients";
import { toStepError } from "../../../functions/shared/errors";
import { abortTimeout, SETTINGS, throttling } from "./fixtures";

const clients = {
  primary: autoScalingClient("us-east-2"),
  secondary: autoScalingClient("us-west-2"),
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
