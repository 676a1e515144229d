import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  UpdateAutoScalingGroupCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  GetHealthCheckStatusCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  Route53Client,
} from "@aws-sdk/client-route-53";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RegionPair, SimulatedClock, simulatedSettings } from "../../src/simulation";
import { bindSimulatedAws, type SimulatedAws } from "../support/simulated-aws";

const settings = simulatedSettings();
const { primary, secondary } = settings.regions;

let clock: SimulatedClock;
let pair: RegionPair;
let aws: SimulatedAws;
const autoScaling = {
  primary: new AutoScalingClient({ region: primary.region }),
  secondary: new AutoScalingClient({ region: secondary.region }),
};
const route53 = new Route53Client({ region: secondary.region });

beforeEach(() => {
  clock = new SimulatedClock({ start: 0 });
  pair = new RegionPair({
    settings,
    clock,
    timings: { instanceWarmupMs: 90_000, instanceTerminationMs: 30_000, dnsPropagationMs: 30_000 },
  });
  aws = bindSimulatedAws(pair);
});

afterEach(() => aws.restore());

async function group(region: "primary" | "secondary") {
  const name = settings.regions[region].autoScalingGroupName;
  const { AutoScalingGroups } = await autoScaling[region].send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
  );
  return AutoScalingGroups?.[0];
}

function states(found: Awaited<ReturnType<typeof group>>) {
  return found?.Instances?.map((instance) => instance.LifecycleState).sort();
}

describe("Auto Scaling", () => {
  it("starts with active capacity in the writer's region and standby capacity in the other", async () => {
    expect(await group("primary")).toMatchObject({ MinSize: 3, DesiredCapacity: 3, MaxSize: 9 });
    expect(states(await group("primary"))).toEqual(["InService", "InService", "InService"]);
    expect(await group("secondary")).toMatchObject({ MinSize: 1, DesiredCapacity: 1, MaxSize: 9 });
  });

  it("scales out: new instances are Pending until the warm-up has passed", async () => {
    await autoScaling.secondary.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: secondary.autoScalingGroupName,
        MinSize: 3,
        DesiredCapacity: 3,
        MaxSize: 9,
      }),
    );
    expect(states(await group("secondary"))).toEqual(["InService", "Pending", "Pending"]);
    await clock.advance(89_999);
    expect(pair.autoScaling.group("secondary").inService).toBe(1);
    await clock.advance(1);
    expect(states(await group("secondary"))).toEqual(["InService", "InService", "InService"]);
  });

  it("raises DesiredCapacity to a new MinSize given alone, and scales in through Terminating", async () => {
    await autoScaling.secondary.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: secondary.autoScalingGroupName,
        MinSize: 2,
      }),
    );
    expect(await group("secondary")).toMatchObject({ MinSize: 2, DesiredCapacity: 2 });
    await clock.advance(90_000);
    await autoScaling.secondary.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: secondary.autoScalingGroupName,
        MinSize: 1,
        DesiredCapacity: 1,
      }),
    );
    expect(states(await group("secondary"))).toEqual(["InService", "Terminating"]);
    await clock.advance(30_000);
    expect(states(await group("secondary"))).toEqual(["InService"]);
  });

  it("rejects sizes out of order with ValidationError", async () => {
    await expect(
      autoScaling.primary.send(
        new UpdateAutoScalingGroupCommand({
          AutoScalingGroupName: primary.autoScalingGroupName,
          DesiredCapacity: 12,
        }),
      ),
    ).rejects.toMatchObject({
      name: "ValidationError",
      Code: "ValidationError",
      Type: "Sender",
      message: "Desired capacity:12 must be between the specified min size:3 and max size:9",
      $metadata: { httpStatusCode: 400 },
    });
  });

  it("omits unknown groups and groups of other regions from DescribeAutoScalingGroups", async () => {
    const { AutoScalingGroups } = await autoScaling.primary.send(
      new DescribeAutoScalingGroupsCommand({
        AutoScalingGroupNames: [secondary.autoScalingGroupName, "no-such-group"],
      }),
    );
    expect(AutoScalingGroups).toEqual([]);
  });
});

describe("Route 53", () => {
  const flipTo = (target: "primary" | "secondary"): ResourceRecordSet[] =>
    pair.route53.failoverRecords(target);

  it("holds PRIMARY -> primary and SECONDARY -> secondary, with the zone's NS and SOA, sorted", async () => {
    const listed = await route53.send(
      new ListResourceRecordSetsCommand({ HostedZoneId: settings.hostedZoneId }),
    );
    expect(
      listed.ResourceRecordSets?.map((record) => [record.Name, record.Type, record.SetIdentifier]),
    ).toEqual([
      ["example.com.", "NS", undefined],
      ["example.com.", "SOA", undefined],
      ["shop.example.com.", "A", "primary"],
      ["shop.example.com.", "A", "secondary"],
    ]);
    expect(listed.ResourceRecordSets?.[2]).toEqual({
      Name: "shop.example.com.",
      Type: "A",
      SetIdentifier: "primary",
      Failover: "PRIMARY",
      HealthCheckId: primary.healthCheckId,
      AliasTarget: {
        HostedZoneId: primary.loadBalancer.zoneId,
        DNSName: `${primary.loadBalancer.dnsName}.`,
        EvaluateTargetHealth: true,
      },
    });
    expect(listed.IsTruncated).toBe(false);
  });

  it("pages ListResourceRecordSets from StartRecordName/Type/Identifier", async () => {
    const first = await route53.send(
      new ListResourceRecordSetsCommand({
        HostedZoneId: settings.hostedZoneId,
        StartRecordName: "shop.example.com",
        MaxItems: 1,
      }),
    );
    expect(first).toMatchObject({
      IsTruncated: true,
      NextRecordName: "shop.example.com.",
      NextRecordType: "A",
      NextRecordIdentifier: "secondary",
    });
    expect(first.ResourceRecordSets?.map((record) => record.SetIdentifier)).toEqual(["primary"]);
  });

  it("flips both failover records in one batch; the change goes INSYNC after propagating", async () => {
    const changed = await route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: `/hostedzone/${settings.hostedZoneId}`,
        ChangeBatch: {
          Changes: flipTo("secondary").map((record) => ({
            Action: "UPSERT",
            ResourceRecordSet: record,
          })),
        },
      }),
    );
    expect(changed.ChangeInfo).toMatchObject({
      Status: "PENDING",
      Id: expect.stringMatching(/^\/change\/C/),
    });
    expect(pair.snapshot().dns).toEqual({
      primaryRecord: "secondary",
      secondaryRecord: "primary",
      answering: "secondary",
      fenced: { primary: false, secondary: false },
    });

    const id = changed.ChangeInfo?.Id as string;
    await clock.advance(29_000);
    expect((await route53.send(new GetChangeCommand({ Id: id }))).ChangeInfo?.Status).toBe(
      "PENDING",
    );
    await clock.advance(1_000);
    expect(
      (await route53.send(new GetChangeCommand({ Id: id.replace("/change/", "") }))).ChangeInfo
        ?.Status,
    ).toBe("INSYNC");
  });

  it("applies nothing when one change of the batch is invalid", async () => {
    const [primaryRecord] = flipTo("secondary");
    const error = await route53
      .send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: settings.hostedZoneId,
          ChangeBatch: {
            Changes: [
              { Action: "UPSERT", ResourceRecordSet: primaryRecord },
              {
                Action: "UPSERT",
                ResourceRecordSet: {
                  ...(primaryRecord as ResourceRecordSet),
                  SetIdentifier: "other-primary",
                },
              },
            ],
          },
        }),
      )
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      name: "InvalidChangeBatch",
      messages: [
        "resource record set [name='shop.example.com.', type='A', set-identifier='other-primary'] has Failover PRIMARY, but resource record set [name='shop.example.com.', type='A', set-identifier='primary'] already has it; a failover record set allows one PRIMARY and one SECONDARY",
      ],
    });
    expect(pair.route53.primaryRecordTarget()).toBe("primary");
  });

  it("refuses CREATE of a record that exists and DELETE of one that does not match", async () => {
    const [primaryRecord] = flipTo("primary");
    await expect(
      route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: settings.hostedZoneId,
          ChangeBatch: { Changes: [{ Action: "CREATE", ResourceRecordSet: primaryRecord }] },
        }),
      ),
    ).rejects.toMatchObject({
      name: "InvalidChangeBatch",
      messages: [
        "Tried to create resource record set [name='shop.example.com.', type='A', set-identifier='primary'] but it already exists",
      ],
    });
    const [wrongTarget] = flipTo("secondary");
    await expect(
      route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: settings.hostedZoneId,
          ChangeBatch: { Changes: [{ Action: "DELETE", ResourceRecordSet: wrongTarget }] },
        }),
      ),
    ).rejects.toMatchObject({ name: "InvalidChangeBatch" });
  });

  it("reports a health check failing from every checker when its region is down or has no instance", async () => {
    const status = async (id: string) => {
      const { HealthCheckObservations } = await route53.send(
        new GetHealthCheckStatusCommand({ HealthCheckId: id }),
      );
      return [
        ...new Set(
          HealthCheckObservations?.map(
            (observation) => observation.StatusReport?.Status?.split(":")[0],
          ),
        ),
      ];
    };
    expect(await status(primary.healthCheckId)).toEqual(["Success"]);
    pair.regionDown("primary");
    // Route 53 changes its verdict after 3 failed checks, 10 s apart.
    expect(await status(primary.healthCheckId)).toEqual(["Success"]);
    await pair.clock.advance(30_000);
    expect(await status(primary.healthCheckId)).toEqual(["Failure"]);
    expect(pair.route53.answeringRegion()).toBe("secondary");

    await autoScaling.secondary.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: secondary.autoScalingGroupName,
        MinSize: 0,
        DesiredCapacity: 0,
      }),
    );
    await pair.clock.advance(60_000);
    expect(await status(secondary.healthCheckId)).toEqual(["Failure"]);
    await expect(
      route53.send(new GetHealthCheckStatusCommand({ HealthCheckId: "nope" })),
    ).rejects.toMatchObject({
      name: "NoSuchHealthCheck",
      $metadata: { httpStatusCode: 404 },
    });
  });
});
