import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
} from "@aws-sdk/client-route-53";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it, vi } from "vitest";
import {
  type DnsDependencies,
  desiredFailoverRecords,
  flipDns,
} from "../../../functions/orchestration/dns";
import { route53Client } from "../../../functions/shared/aws-clients";
import { toStepError } from "../../../functions/shared/errors";
import { awsError, SETTINGS, throttling } from "./fixtures";

const client = route53Client();
const route53 = mockClient(client);
const sleep = vi.fn(async (_milliseconds: number) => undefined);
const deps: DnsDependencies = { settings: SETTINGS, route53: client, sleep };

const PRIMARY_LB = SETTINGS.regions.primary.loadBalancer;
const SECONDARY_LB = SETTINGS.regions.secondary.loadBalancer;

/** A record as ListResourceRecordSets returns it: fully qualified, lower-case, dualstack alias. */
function listed(
  setIdentifier: "primary" | "secondary",
  region: "primary" | "secondary",
): ResourceRecordSet {
  const { loadBalancer, healthCheckId } = SETTINGS.regions[region];
  return {
    Name: "shop.example.com.",
    Type: "A",
    SetIdentifier: setIdentifier,
    Failover: setIdentifier === "primary" ? "PRIMARY" : "SECONDARY",
    HealthCheckId: healthCheckId,
    AliasTarget: {
      HostedZoneId: loadBalancer.zoneId,
      DNSName: `dualstack.${loadBalancer.dnsName.toUpperCase()}.`,
      EvaluateTargetHealth: true,
    },
  };
}

function zoneWith(records: ResourceRecordSet[]) {
  route53.on(ListResourceRecordSetsCommand).resolves({
    ResourceRecordSets: [
      { Name: "example.com.", Type: "NS", ResourceRecords: [{ Value: "ns-1.awsdns-00.com." }] },
      ...records,
      { Name: "shop.example.com.", Type: "AAAA", SetIdentifier: "primary" },
    ],
    IsTruncated: false,
    MaxItems: 10,
  });
}

beforeEach(() => {
  route53.reset();
  sleep.mockClear();
});

describe("flipDns", () => {
  it("upserts both failover records in one batch and waits for INSYNC", async () => {
    zoneWith([listed("primary", "primary"), listed("secondary", "secondary")]);
    route53
      .on(ChangeResourceRecordSetsCommand)
      .resolves({ ChangeInfo: { Id: "/change/C123", Status: "PENDING", SubmittedAt: new Date() } });
    route53
      .on(GetChangeCommand)
      .resolvesOnce({
        ChangeInfo: { Id: "/change/C123", Status: "PENDING", SubmittedAt: new Date() },
      })
      .resolves({ ChangeInfo: { Id: "/change/C123", Status: "INSYNC", SubmittedAt: new Date() } });

    const result = await flipDns(deps, {
      target: "secondary",
      operationId: "op-20261125T120000Z-abc123",
    });

    expect(result).toEqual({
      action: "flipped",
      changed: true,
      detail:
        "shop.example.com PRIMARY -> secondary load balancer (us-west-2), SECONDARY -> primary; change /change/C123 is INSYNC.",
      target: "secondary",
      changeId: "/change/C123",
      changeStatus: "INSYNC",
    });
    expect(route53.commandCalls(ListResourceRecordSetsCommand)[0]?.args[0].input).toEqual({
      HostedZoneId: "Z0HOSTEDZONE",
      StartRecordName: "shop.example.com",
      StartRecordType: "A",
      MaxItems: 10,
    });
    expect(
      route53.commandCalls(ChangeResourceRecordSetsCommand).map((call) => call.args[0].input),
    ).toEqual([
      {
        HostedZoneId: "Z0HOSTEDZONE",
        ChangeBatch: {
          Comment: "shopsmart-dr op-20261125T120000Z-abc123: PRIMARY -> secondary (us-west-2)",
          Changes: [
            {
              Action: "UPSERT",
              ResourceRecordSet: {
                Name: "shop.example.com",
                Type: "A",
                SetIdentifier: "primary",
                Failover: "PRIMARY",
                HealthCheckId: "hc-secondary-2222",
                AliasTarget: {
                  HostedZoneId: SECONDARY_LB.zoneId,
                  DNSName: SECONDARY_LB.dnsName,
                  EvaluateTargetHealth: true,
                },
              },
            },
            {
              Action: "UPSERT",
              ResourceRecordSet: {
                Name: "shop.example.com",
                Type: "A",
                SetIdentifier: "secondary",
                Failover: "SECONDARY",
                HealthCheckId: "hc-primary-1111",
                AliasTarget: {
                  HostedZoneId: PRIMARY_LB.zoneId,
                  DNSName: PRIMARY_LB.dnsName,
                  EvaluateTargetHealth: true,
                },
              },
            },
          ],
        },
      },
    ]);
    expect(route53.commandCalls(GetChangeCommand).map((call) => call.args[0].input)).toEqual([
      { Id: "/change/C123" },
      { Id: "/change/C123" },
    ]);
    expect(sleep.mock.calls).toEqual([[5000], [5000]]);
  });

  it("does nothing when the records already point at the target (re-run)", async () => {
    zoneWith([listed("primary", "secondary"), listed("secondary", "primary")]);

    const result = await flipDns(deps, { target: "secondary" });

    expect(result).toEqual({
      action: "already-pointing",
      changed: false,
      detail:
        "shop.example.com PRIMARY already points at the secondary load balancer (us-west-2); nothing to do.",
      target: "secondary",
      changeId: null,
      changeStatus: null,
    });
    expect(route53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
    expect(route53.commandCalls(GetChangeCommand)).toHaveLength(0);
  });

  it("changes both records when only one already points as wanted", async () => {
    zoneWith([listed("primary", "secondary"), listed("secondary", "secondary")]);
    route53
      .on(ChangeResourceRecordSetsCommand)
      .resolves({ ChangeInfo: { Id: "/change/C9", Status: "INSYNC", SubmittedAt: new Date() } });

    const result = await flipDns(deps, { target: "secondary" });

    expect(result.action).toBe("flipped");
    expect(
      route53.commandCalls(ChangeResourceRecordSetsCommand)[0]?.args[0].input.ChangeBatch?.Changes,
    ).toEqual(
      desiredFailoverRecords(SETTINGS, "secondary").map((record) => ({
        Action: "UPSERT",
        ResourceRecordSet: record,
      })),
    );
    expect(route53.commandCalls(GetChangeCommand)).toHaveLength(0);
  });

  it("returns PENDING when the change is not in sync within the wait", async () => {
    zoneWith([listed("primary", "primary"), listed("secondary", "secondary")]);
    route53
      .on(ChangeResourceRecordSetsCommand)
      .resolves({ ChangeInfo: { Id: "/change/C1", Status: "PENDING", SubmittedAt: new Date() } });
    route53
      .on(GetChangeCommand)
      .resolves({ ChangeInfo: { Id: "/change/C1", Status: "PENDING", SubmittedAt: new Date() } });

    const result = await flipDns(deps, { target: "secondary", waitSeconds: 60, pollSeconds: 5 });

    expect(result).toMatchObject({
      action: "flipped",
      changeId: "/change/C1",
      changeStatus: "PENDING",
    });
    expect(route53.commandCalls(GetChangeCommand)).toHaveLength(12);
    expect(sleep).toHaveBeenCalledTimes(12);
  });

  it("stops polling before a poll could end after the step's budget, whatever the poll count allows (slow GetChange calls)", async () => {
    zoneWith([listed("primary", "primary"), listed("secondary", "secondary")]);
    route53
      .on(ChangeResourceRecordSetsCommand)
      .resolves({ ChangeInfo: { Id: "/change/C1", Status: "PENDING", SubmittedAt: new Date() } });
    route53
      .on(GetChangeCommand)
      .resolves({ ChangeInfo: { Id: "/change/C1", Status: "PENDING", SubmittedAt: new Date() } });
    // Each sleep and the call after it take 10 s (a 5 s poll interval plus a GetChange that runs
    // into its 5 s timeout): 12 polls would take 120 s, twice the 60 s budget.
    let now = 1_000_000;
    const clock = vi.spyOn(Date, "now").mockImplementation(() => now);
    const slowSleep = vi.fn(async (milliseconds: number) => {
      now += milliseconds + 5_000;
    });
    try {
      const result = await flipDns(
        { ...deps, sleep: slowSleep },
        { target: "secondary", waitSeconds: 60, pollSeconds: 5 },
      );
      expect(result.changeStatus).toBe("PENDING");
      expect(slowSleep).toHaveBeenCalledTimes(6);
      expect(now - 1_000_000).toBeLessThanOrEqual(60_000);
    } finally {
      clock.mockRestore();
    }
  });

  it("keeps polling after a throttled GetChange", async () => {
    zoneWith([listed("primary", "primary"), listed("secondary", "secondary")]);
    route53
      .on(ChangeResourceRecordSetsCommand)
      .resolves({ ChangeInfo: { Id: "/change/C2", Status: "PENDING", SubmittedAt: new Date() } });
    route53
      .on(GetChangeCommand)
      .rejectsOnce(throttling())
      .resolves({ ChangeInfo: { Id: "/change/C2", Status: "INSYNC", SubmittedAt: new Date() } });

    const result = await flipDns(deps, { target: "secondary" });

    expect(result.changeStatus).toBe("INSYNC");
    expect(route53.commandCalls(GetChangeCommand)).toHaveLength(2);
  });

  it("flips back to the primary on failback", async () => {
    zoneWith([listed("primary", "secondary"), listed("secondary", "primary")]);
    route53
      .on(ChangeResourceRecordSetsCommand)
      .resolves({ ChangeInfo: { Id: "/change/C3", Status: "INSYNC", SubmittedAt: new Date() } });

    await flipDns(deps, { target: "primary" });

    const changes = route53.commandCalls(ChangeResourceRecordSetsCommand)[0]?.args[0].input
      .ChangeBatch?.Changes;
    expect(
      changes?.map((change) => [
        change.ResourceRecordSet?.SetIdentifier,
        change.ResourceRecordSet?.HealthCheckId,
      ]),
    ).toEqual([
      ["primary", "hc-primary-1111"],
      ["secondary", "hc-secondary-2222"],
    ]);
  });

  it("fails with Retryable.Throttled when Route 53 says PriorRequestNotComplete", async () => {
    zoneWith([listed("primary", "primary"), listed("secondary", "secondary")]);
    route53.on(ChangeResourceRecordSetsCommand).rejects(awsError("PriorRequestNotComplete", 400));

    const error = await flipDns(deps, { target: "secondary" }).catch((caught) => caught);

    expect(toStepError(error)).toMatchObject({
      name: "Retryable.Throttled",
      message: "PriorRequestNotComplete: PriorRequestNotComplete message",
    });
  });

  it("fails with the terminal error when a poll is denied", async () => {
    zoneWith([listed("primary", "primary"), listed("secondary", "secondary")]);
    route53
      .on(ChangeResourceRecordSetsCommand)
      .resolves({ ChangeInfo: { Id: "/change/C4", Status: "PENDING", SubmittedAt: new Date() } });
    route53
      .on(GetChangeCommand)
      .rejects(awsError("AccessDenied", 403, "not authorized to GetChange"));

    await expect(flipDns(deps, { target: "secondary" })).rejects.toMatchObject({
      name: "AccessDenied",
      message: "not authorized to GetChange",
    });
  });
});
