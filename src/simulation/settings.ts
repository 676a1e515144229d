/**
 * Automation settings for a simulated environment: the SHOPSMART_DR_SETTINGS the failover
 * Lambdas would get from the automation construct, with realistic names and ARNs, so a
 * {@link RegionPair} and the handlers under test agree on every identifier.
 */
import type { AutomationSettings, RegionSettings } from "../../functions/shared/settings";

export interface SimulatedSettingsOptions {
  /** @default "prod" */
  readonly environment?: string;
  /** @default "shopsmart" */
  readonly project?: string;
  /** @default - us-east-2 and us-west-2, as envs/prod.json */
  readonly regions?: { readonly primary: string; readonly secondary: string };
  /** @default "123456789012" */
  readonly accountId?: string;
  /** @default "shop.example.com" */
  readonly recordName?: string;
}

/** Canonical hosted zone ids of Application Load Balancers, per region (Elastic Load Balancing endpoints). */
const ALB_ZONE_IDS: Record<string, string> = {
  "us-east-1": "Z35SXDOTRQ7X7K",
  "us-east-2": "Z3AADJGX6KTTL2",
  "us-west-1": "Z368ELLRRE2KJ0",
  "us-west-2": "Z1H1FL5HABSF5",
  "eu-west-1": "Z32O12XQLNTSW2",
  "eu-central-1": "Z215JYRZR1TBD5",
};

/** Settings of a prod-like environment (capacities and RTO/RPO as envs/prod.json). */
export function simulatedSettings(options: SimulatedSettingsOptions = {}): AutomationSettings {
  const environment = options.environment ?? "prod";
  const project = options.project ?? "shopsmart";
  const prefix = `${project}-${environment}`;
  const account = options.accountId ?? "123456789012";
  const regions = options.regions ?? { primary: "us-east-2", secondary: "us-west-2" };
  const region = (role: "primary" | "secondary", number: number): RegionSettings => {
    const id = regions[role];
    return {
      region: id,
      clusterIdentifier: `${prefix}-${role}`,
      clusterArn: `arn:aws:rds:${id}:${account}:cluster:${prefix}-${role}`,
      autoScalingGroupName: `${prefix}-${role}-web`,
      loadBalancer: {
        dnsName: `${prefix}-${role}-alb-${100000000 * number + 23456789}.${id}.elb.amazonaws.com`,
        zoneId: ALB_ZONE_IDS[id] ?? "Z0000000000000000000",
      },
      healthCheckId: `0d3c5f1e-${number}a2b-4c5d-8e9f-${number.toString().repeat(12)}`,
      activeCapacity: { minSize: 3, desiredCapacity: 3, maxSize: 9 },
      standbyCapacity: { minSize: 1, desiredCapacity: 1, maxSize: 9 },
    };
  };
  const secondary = regions.secondary;
  return {
    environment,
    namePrefix: prefix,
    primaryRecordRegion: "primary",
    healthPath: "/health",
    detection: { quorum: 2, minimumIntervalMinutes: 30, probeTimeoutSeconds: 5 },
    globalClusterIdentifier: `${prefix}-global`,
    regions: { primary: region("primary", 1), secondary: region("secondary", 2) },
    hostedZoneId: "Z0123456789ABCDEFGHIJ",
    // The simulated zone's NS records (route53.ts).
    nameServers: [1, 2, 3, 4].map((n) => `ns-${n}.awsdns-0${n}.org`).join(","),
    recordName: options.recordName ?? "shop.example.com",
    parameterPath: `/${project}/${environment}/`,
    ledgerTableName: `${prefix}-failover-operations`,
    stateMachineArn: `arn:aws:states:${secondary}:${account}:stateMachine:${prefix}-failover`,
    topicArn: `arn:aws:sns:${secondary}:${account}:${prefix}-failover`,
    readTopologyFunctionName: `${prefix}-read-topology`,
    readTrafficFunctionName: `${prefix}-read-traffic`,
    rpoSeconds: 300,
    rtoSeconds: 300,
  };
}
