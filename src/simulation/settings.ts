/**
 * Automation settings for a simulated environment: the SHOPSMART_DR_SETTINGS the failover
 * Lambdas would get from the automation construct, built from the same environment file (read by
 * src/config/load.ts) and under the same names (functions/shared/resource-names.ts) as the
 * synthesized stack, so a {@link RegionPair}, the handlers under test and the stack agree on
 * every identifier. Only what AWS assigns at apply time (load balancer names, health check ids,
 * the hosted zone) is made up.
 */
import { resolve } from "node:path";
import { PROBE_TIMEOUT_SECONDS } from "../../functions/shared/dr-metrics";
import {
  alertTopicName,
  clusterIdentifier,
  functionName,
  globalClusterIdentifier,
  ledgerTableName,
  namePrefixOf,
  parameterPathOf,
  regionNamePrefix,
  stateMachineName,
  webTierName,
} from "../../functions/shared/resource-names";
import type { AutomationSettings, RegionSettings } from "../../functions/shared/settings";
import { loadEnvConfig } from "../config/load";
import type { EnvConfig, RegionRole } from "../config/schema";

/** The environment a simulation models unless given another: prod, the one drills protect. */
export const DEFAULT_SIMULATED_ENV_FILE = resolve(__dirname, "../../envs/prod.json");

export interface SimulatedSettingsOptions {
  /** The environment, as loadEnvConfig reads it. @default - envs/prod.json */
  readonly config?: EnvConfig;
  /** @default "123456789012" */
  readonly accountId?: string;
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

/** envs/prod.json, read once: the scenario tests build a pair per test. */
let prodConfig: EnvConfig | undefined;

function defaultConfig(): EnvConfig {
  prodConfig ??= loadEnvConfig(DEFAULT_SIMULATED_ENV_FILE);
  return prodConfig;
}

/**
 * The settings the automation construct writes for an environment (envs/prod.json by default):
 * its names, regions, capacities (the active region runs `compute.primary`, the standby
 * `compute.secondary`), detection and RTO/RPO. A new object on every call, so callers may
 * change it.
 */
export function simulatedSettings(options: SimulatedSettingsOptions = {}): AutomationSettings {
  const config = options.config ?? defaultConfig();
  const prefix = namePrefixOf(config.project, config.environment);
  const account = options.accountId ?? "123456789012";
  const secondary = config.regions.secondary;
  const sizes = (role: RegionRole) => {
    const { minSize, desiredCapacity, maxSize } = config.compute[role];
    return { minSize, desiredCapacity, maxSize };
  };
  const region = (role: RegionRole, number: number): RegionSettings => {
    const id = config.regions[role];
    const cluster = clusterIdentifier(prefix, role);
    const regionPrefix = regionNamePrefix(prefix, role);
    return {
      region: id,
      clusterIdentifier: cluster,
      clusterArn: `arn:aws:rds:${id}:${account}:cluster:${cluster}`,
      // As Compute names it, whose prefix is the region's.
      autoScalingGroupName: webTierName(regionPrefix),
      loadBalancer: {
        dnsName: `${regionPrefix}-alb-${100000000 * number + 23456789}.${id}.elb.amazonaws.com`,
        zoneId: ALB_ZONE_IDS[id] ?? "Z0000000000000000000",
      },
      healthCheckId: `0d3c5f1e-${number}a2b-4c5d-8e9f-${number.toString().repeat(12)}`,
      activeCapacity: sizes("primary"),
      standbyCapacity: sizes("secondary"),
    };
  };
  return {
    environment: config.environment,
    namePrefix: prefix,
    primaryRecordRegion: config.activeRegion,
    healthPath: config.dns.healthCheck.path,
    detection: {
      quorum: config.automaticFailover.quorum,
      minimumIntervalMinutes: config.automaticFailover.minimumIntervalMinutes,
      probeTimeoutSeconds: PROBE_TIMEOUT_SECONDS,
    },
    globalClusterIdentifier: globalClusterIdentifier(prefix),
    regions: { primary: region("primary", 1), secondary: region("secondary", 2) },
    hostedZoneId: "Z0123456789ABCDEFGHIJ",
    // The simulated zone's NS records (route53.ts).
    nameServers: [1, 2, 3, 4].map((n) => `ns-${n}.awsdns-0${n}.org`).join(","),
    recordName: config.dns.domainName,
    parameterPath: parameterPathOf(config.project, config.environment),
    ledgerTableName: ledgerTableName(prefix),
    stateMachineArn: `arn:aws:states:${secondary}:${account}:stateMachine:${stateMachineName(prefix, "operation")}`,
    // The automation notifies the secondary region's alert topic.
    topicArn: `arn:aws:sns:${secondary}:${account}:${alertTopicName(prefix, "secondary")}`,
    readTopologyFunctionName: functionName(prefix, "read-topology"),
    readTrafficFunctionName: functionName(prefix, "read-traffic"),
    rpoSeconds: config.dr.rpoSeconds,
    rtoSeconds: config.dr.rtoSeconds,
    databasePromotionSeconds: config.dr.estimates.databasePromotionSeconds,
  };
}
