/**
 * The simulator's custom metrics, evaluated alarms, traffic fences and data plane: what
 * probe-primary, flip-dns and read-traffic rely on in the game day.
 */
import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { probeEndpoint, servedRegion } from "../../functions/shared/endpoint-probe";
import {
  type AlarmStateChange,
  LOAD_BALANCER_ADDRESSES,
  RegionPair,
  simulatedSettings,
} from "../../src/simulation";
import { bindSimulatedAws, type SimulatedAws } from "../support/simulated-aws";

let pair: RegionPair;
let aws: SimulatedAws;
const cloudWatch = new CloudWatchClient({ region: "us-west-2" });

beforeEach(() => {
  pair = new RegionPair({ settings: simulatedSettings() });
  aws = bindSimulatedAws(pair);
});
afterEach(() => aws.restore());

const datum = (
  metric: string,
  value: number,
  dimensions = [{ Name: "Environment", Value: "shopsmart-prod" }],
) =>
  new PutMetricDataCommand({
    Namespace: "ShopSmart/DR",
    MetricData: [{ MetricName: metric, Dimensions: dimensions, Value: value }],
  });

describe("CloudWatch alarms the simulation evaluates", () => {
  it("goes to ALARM only after datapointsToAlarm breaching minutes in a row, and back to OK", async () => {
    pair.cloudWatch.defineAlarm({
      region: "us-west-2",
      alarmName: "shopsmart-prod-dr-primary-down",
      namespace: "ShopSmart/DR",
      metricName: "PrimaryDown",
      dimensions: [{ Name: "Environment", Value: "shopsmart-prod" }],
      threshold: 1,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
    });
    const changes: AlarmStateChange[] = [];
    pair.cloudWatch.onAlarmStateChange((change) => changes.push(change));

    await cloudWatch.send(datum("PrimaryDown", 1));
    expect(pair.cloudWatch.alarmState("us-west-2", "shopsmart-prod-dr-primary-down")).toBe("OK");
    await pair.clock.advance(60_000);
    await cloudWatch.send(datum("PrimaryDown", 1));
    expect(pair.cloudWatch.alarmState("us-west-2", "shopsmart-prod-dr-primary-down")).toBe("ALARM");
    await pair.clock.advance(60_000);
    await cloudWatch.send(datum("PrimaryDown", 0));
    expect(changes.map((change) => `${change.previous}->${change.state}`)).toEqual([
      "INSUFFICIENT_DATA->OK",
      "OK->ALARM",
      "ALARM->OK",
    ]);
    // Another dimension set is another metric: it does not move the alarm.
    await cloudWatch.send(datum("PrimaryDown", 1, [{ Name: "Environment", Value: "other" }]));
    expect(changes).toHaveLength(3);
  });

  it("refuses a namespace in AWS/, as CloudWatch does", async () => {
    await expect(
      cloudWatch.send(
        new PutMetricDataCommand({
          Namespace: "AWS/RDS",
          MetricData: [{ MetricName: "x", Value: 1 }],
        }),
      ),
    ).rejects.toMatchObject({ name: "InvalidParameterValue" });
  });
});

describe("traffic fences", () => {
  it("take the region's record off DNS once Route 53's fence check follows the metric (60 s), whatever its endpoint answers", async () => {
    const fence = (value: number) =>
      datum("TrafficFenced", value, [
        { Name: "Environment", Value: "shopsmart-prod" },
        { Name: "RegionRole", Value: "primary" },
      ]);
    await cloudWatch.send(fence(1));
    expect(pair.route53.answeringRegion()).toBe("primary");
    await pair.clock.advance(60_000);
    expect(pair.isFenced("primary")).toBe(true);
    expect(pair.route53.answeringRegion()).toBe("secondary");
    // Its endpoint is healthy all along: a fence is not a health verdict.
    expect(pair.healthCheckVerdict("primary")).toBe(true);
    await cloudWatch.send(fence(0));
    await pair.clock.advance(60_000);
    expect(pair.route53.answeringRegion()).toBe("primary");
  });
});

describe("the shop's data plane", () => {
  const { primary, secondary } = simulatedSettings().regions;

  it("resolves the public name to the answering region's load balancer", async () => {
    const loadBalancers = {
      primary: primary.loadBalancer.dnsName,
      secondary: secondary.loadBalancer.dnsName,
    };
    await expect(servedRegion("shop.example.com", loadBalancers, 1000)).resolves.toEqual({
      region: "primary",
    });
    pair.regionDown("primary");
    await pair.clock.advance(40_000);
    await expect(servedRegion("shop.example.com", loadBalancers, 1000)).resolves.toEqual({
      region: "secondary",
    });
    expect(LOAD_BALANCER_ADDRESSES.secondary).toContain("198.51.100.20");
    // Asked of the zone's own name servers, the answer is the same (no cache is modelled).
    const nameServers = (simulatedSettings().nameServers ?? "").split(",");
    await expect(
      servedRegion("shop.example.com", loadBalancers, 1000, nameServers),
    ).resolves.toEqual({ region: "secondary" });
  });

  it("answers HTTPS from each load balancer with the app's writer view; a dark or partitioned region times out", async () => {
    const probe = (host: string) =>
      probeEndpoint({ host, serverName: "shop.example.com", path: "/health", timeoutMs: 5_000 });
    await expect(probe(secondary.loadBalancer.dnsName)).resolves.toMatchObject({
      healthy: true,
      writable: false,
      writerRegion: "us-east-2",
    });
    pair.partition("primary");
    const started = pair.clock.now();
    await expect(probe(primary.loadBalancer.dnsName)).resolves.toMatchObject({
      healthy: false,
      reason: "timeout after 5000 ms",
    });
    expect(pair.clock.now() - started).toBe(5_000);
    pair.heal("primary");
    pair.webTierFails("primary");
    await expect(probe(primary.loadBalancer.dnsName)).resolves.toMatchObject({
      healthy: false,
      statusCode: 503,
    });
  });
});
