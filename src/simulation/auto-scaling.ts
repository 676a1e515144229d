/**
 * The Auto Scaling group of each simulated region: sizes, and instances that launch `Pending`,
 * come `InService` after a warm-up, and leave through `Terminating`.
 *
 * Sources (EC2 Auto Scaling API Reference, UpdateAutoScalingGroup): properties not specified are
 * left unchanged; "If you specify a new value for MinSize without specifying a value for
 * DesiredCapacity, and the new MinSize is larger than the current size of the group, we
 * implicitly call SetDesiredCapacity to set the size of the group to the new value of MinSize",
 * likewise a smaller MaxSize lowers it. DescribeAutoScalingGroups omits names that do not exist.
 * Validation failures are the Query API's `ValidationError` (HTTP 400); the message texts here are
 * the simulation's wording.
 */
import type {
  AutoScalingGroup,
  AutoScalingGroupNamesType,
  SetDesiredCapacityType,
  UpdateAutoScalingGroupType,
} from "@aws-sdk/client-auto-scaling";
import type { RegionRole } from "../../functions/shared/region-roles";
import type { SimulatedClock } from "./clock";
import { SimulatorUnsupportedError, serviceError } from "./errors";

export interface GroupSizes {
  readonly minSize: number;
  readonly desiredCapacity: number;
  readonly maxSize: number;
}

export interface AutoScalingGroupSpec {
  readonly role: RegionRole;
  readonly region: string;
  readonly name: string;
  readonly accountId: string;
  readonly initial: GroupSizes;
}

export interface AutoScalingTimings {
  /** Launch until InService (boot, user data, ELB health check grace). */
  readonly instanceWarmupMs: number;
  /** Terminating until gone (deregistration delay, shutdown). */
  readonly instanceTerminationMs: number;
}

export type InstanceState = "Pending" | "InService" | "Terminating";

export interface SimulatedInstance {
  readonly instanceId: string;
  readonly availabilityZone: string;
  readonly launchedAt: number;
  state: InstanceState;
}

interface Group {
  readonly spec: AutoScalingGroupSpec;
  readonly arn: string;
  minSize: number;
  desiredCapacity: number;
  maxSize: number;
  instances: SimulatedInstance[];
}

export class AutoScalingSimulation {
  private readonly groups: Group[];
  private readonly clock: SimulatedClock;
  private readonly timings: AutoScalingTimings;
  private instanceCounter = 0;

  constructor(
    specs: readonly AutoScalingGroupSpec[],
    clock: SimulatedClock,
    timings: AutoScalingTimings,
  ) {
    this.clock = clock;
    this.timings = timings;
    this.groups = specs.map((spec) => ({
      spec,
      arn: `arn:aws:autoscaling:${spec.region}:${spec.accountId}:autoScalingGroup:5e1a7e00-0000-4000-8000-00000000000${spec.role === "primary" ? 1 : 2}:autoScalingGroupName/${spec.name}`,
      minSize: spec.initial.minSize,
      desiredCapacity: spec.initial.desiredCapacity,
      maxSize: spec.initial.maxSize,
      instances: [],
    }));
    for (const group of this.groups) {
      for (let index = 0; index < group.desiredCapacity; index += 1) {
        group.instances.push({ ...this.newInstance(group), state: "InService" });
      }
    }
  }

  /** Sizes and instance counts of a region's group. */
  group(
    role: RegionRole,
  ): GroupSizes & { inService: number; pending: number; instances: readonly SimulatedInstance[] } {
    const group = this.groupByRole(role);
    return {
      minSize: group.minSize,
      desiredCapacity: group.desiredCapacity,
      maxSize: group.maxSize,
      inService: group.instances.filter((instance) => instance.state === "InService").length,
      pending: group.instances.filter((instance) => instance.state === "Pending").length,
      instances: group.instances.map((instance) => ({ ...instance })),
    };
  }

  handle(operation: string, input: Record<string, unknown>, region: string): unknown {
    switch (operation) {
      case "DescribeAutoScalingGroups":
        return this.describe(input as unknown as AutoScalingGroupNamesType, region);
      case "UpdateAutoScalingGroup":
        return this.update(input as unknown as UpdateAutoScalingGroupType, region);
      case "SetDesiredCapacity":
        return this.setDesiredCapacity(input as unknown as SetDesiredCapacityType, region);
      default:
        throw new SimulatorUnsupportedError(`Auto Scaling ${operation} is not modelled`);
    }
  }

  private describe(input: AutoScalingGroupNamesType, region: string) {
    if (input.Filters?.length) {
      throw new SimulatorUnsupportedError("DescribeAutoScalingGroups Filters are not modelled");
    }
    const names = input.AutoScalingGroupNames;
    const groups = this.groups.filter(
      (group) =>
        group.spec.region === region && (!names?.length || names.includes(group.spec.name)),
    );
    return { AutoScalingGroups: groups.map((group) => this.describeGroup(group)) };
  }

  private update(input: UpdateAutoScalingGroupType, region: string) {
    const group = this.requireGroup(input.AutoScalingGroupName, region);
    const minSize = input.MinSize ?? group.minSize;
    const maxSize = input.MaxSize ?? group.maxSize;
    let desired = input.DesiredCapacity ?? group.desiredCapacity;
    if (minSize > maxSize) {
      throw validationError(
        `The parameter MinSize (${minSize}) must be less than or equal to MaxSize (${maxSize}).`,
      );
    }
    if (input.DesiredCapacity === undefined) {
      desired = Math.min(Math.max(desired, minSize), maxSize);
    } else if (desired < minSize || desired > maxSize) {
      throw validationError(
        `Desired capacity:${desired} must be between the specified min size:${minSize} and max size:${maxSize}`,
      );
    }
    group.minSize = minSize;
    group.maxSize = maxSize;
    this.resize(group, desired);
    return {};
  }

  private setDesiredCapacity(input: SetDesiredCapacityType, region: string) {
    const group = this.requireGroup(input.AutoScalingGroupName, region);
    const desired = input.DesiredCapacity ?? group.desiredCapacity;
    if (desired < group.minSize || desired > group.maxSize) {
      throw validationError(
        `New SetDesiredCapacity value ${desired} is below min value ${group.minSize} or above max value ${group.maxSize} for the AutoScalingGroup.`,
      );
    }
    this.resize(group, desired);
    return {};
  }

  /** Launches or terminates instances toward `desired` (pending first, then newest, go first). */
  private resize(group: Group, desired: number): void {
    group.desiredCapacity = desired;
    const live = group.instances.filter((instance) => instance.state !== "Terminating");
    for (let count = live.length; count < desired; count += 1) {
      const instance = this.newInstance(group);
      group.instances.push(instance);
      this.clock.schedule(
        this.timings.instanceWarmupMs,
        () => {
          if (instance.state === "Pending") instance.state = "InService";
        },
        `autoscaling: ${instance.instanceId} InService`,
      );
    }
    const surplus = live.length - desired;
    if (surplus > 0) {
      const victims = [...live]
        .sort(
          (a, b) =>
            Number(b.state === "Pending") - Number(a.state === "Pending") ||
            b.launchedAt - a.launchedAt,
        )
        .slice(0, surplus);
      for (const victim of victims) {
        victim.state = "Terminating";
        this.clock.schedule(
          this.timings.instanceTerminationMs,
          () => {
            group.instances = group.instances.filter((instance) => instance !== victim);
          },
          `autoscaling: ${victim.instanceId} terminated`,
        );
      }
    }
  }

  private newInstance(group: Group): SimulatedInstance {
    this.instanceCounter += 1;
    const zones = ["a", "b", "c"];
    return {
      // 17 hex digits like real ids; "0a…" in the primary region, "0b…" in the secondary.
      instanceId: `i-0${group.spec.role === "primary" ? "a" : "b"}${this.instanceCounter.toString(16).padStart(15, "0")}`,
      availabilityZone: `${group.spec.region}${zones[this.instanceCounter % zones.length]}`,
      launchedAt: this.clock.now(),
      state: "Pending",
    };
  }

  private describeGroup(group: Group): AutoScalingGroup {
    const { spec } = group;
    return {
      AutoScalingGroupName: spec.name,
      AutoScalingGroupARN: group.arn,
      MinSize: group.minSize,
      MaxSize: group.maxSize,
      DesiredCapacity: group.desiredCapacity,
      DefaultCooldown: 300,
      AvailabilityZones: [`${spec.region}a`, `${spec.region}b`, `${spec.region}c`],
      HealthCheckType: "ELB",
      HealthCheckGracePeriod: 300,
      Instances: group.instances.map((instance) => ({
        InstanceId: instance.instanceId,
        InstanceType: "t3.small",
        AvailabilityZone: instance.availabilityZone,
        LifecycleState: instance.state,
        HealthStatus: "Healthy",
        LaunchTemplate: {
          LaunchTemplateId: "lt-0123456789abcdef0",
          LaunchTemplateName: `${spec.name}-template`,
          Version: "1",
        },
        ProtectedFromScaleIn: false,
      })),
      CreatedTime: new Date(Date.UTC(2025, 0, 1)),
      TerminationPolicies: ["Default"],
      NewInstancesProtectedFromScaleIn: false,
      Tags: [],
    };
  }

  private groupByRole(role: RegionRole): Group {
    return this.groups.find((group) => group.spec.role === role) as Group;
  }

  private requireGroup(name: string | undefined, region: string): Group {
    const group = this.groups.find(
      (candidate) => candidate.spec.region === region && candidate.spec.name === name,
    );
    if (!group) throw validationError(`AutoScalingGroup name not found - ${name}`);
    return group;
  }
}

function validationError(message: string): Error {
  return serviceError("autoscaling", "ValidationError", message);
}
