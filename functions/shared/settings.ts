/**
 * The failover Lambdas' configuration: one environment variable, SHOPSMART_DR_SETTINGS, holding
 * the JSON of {@link AutomationSettings}, written by the automation construct and validated here.
 */
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";
import { DETECTION_SIGNALS } from "./dr-metrics";
import { type EnvironmentJsonVariable, parseEnvironmentJson } from "./environment-json";
import { REGION_ROLES, type RegionRole } from "./region-roles";

// zod/mini loads no messages by default; English ones for "expected string, received number".
z.config(en());

export const SETTINGS_VARIABLE = "SHOPSMART_DR_SETTINGS";

export interface CapacitySettings {
  minSize: number;
  desiredCapacity: number;
  maxSize: number;
}

export interface RegionSettings {
  /** e.g. `us-east-2`. */
  region: string;
  /** e.g. `shopsmart-prod-primary`. */
  clusterIdentifier: string;
  clusterArn: string;
  autoScalingGroupName: string;
  loadBalancer: { dnsName: string; zoneId: string };
  healthCheckId: string;
  /** Sizes when this region serves traffic. */
  activeCapacity: CapacitySettings;
  /** Sizes when this region is the warm standby. */
  standbyCapacity: CapacitySettings;
}

/** How probe-primary decides that the primary region is down (config `automaticFailover`). */
export interface DetectionSettings {
  /**
   * How many of the independent signals (dr-metrics.ts `DETECTION_SIGNALS`) must say "down";
   * Route 53's view saying "up" vetoes whatever the others say (a partition between the regions).
   */
  quorum: number;
  /** Minutes after an automatic failover started before the trigger may start another. */
  minimumIntervalMinutes: number;
  /** Seconds each probe may take. */
  probeTimeoutSeconds: number;
}

export interface AutomationSettings {
  /** e.g. `prod`. */
  environment: string;
  /** `<project>-<env>`, e.g. `shopsmart-prod`: the DR alarms' names and dimensions (dr-metrics.ts). */
  namePrefix: string;
  /** The region role the PRIMARY failover record points at (config `activeRegion`). */
  primaryRecordRegion: RegionRole;
  /** The app's health path, e.g. `/health`, probed on each region's load balancer. */
  healthPath: string;
  detection: DetectionSettings;
  globalClusterIdentifier: string;
  regions: { primary: RegionSettings; secondary: RegionSettings };
  hostedZoneId: string;
  /**
   * The hosted zone's authoritative name servers, comma-separated, e.g.
   * `ns-1.awsdns-01.org,ns-2.awsdns-02.net`: probe-primary reads Route 53's answer from them.
   * @default - the function's own (caching) resolver
   */
  nameServers?: string;
  /** e.g. `shop.example.com`. */
  recordName: string;
  /** e.g. `/shopsmart/prod/`. */
  parameterPath: string;
  ledgerTableName: string;
  /** Needed by operations-api and auto-failover only (the state machine does not call them). */
  stateMachineArn: string;
  /** The secondary-region topic the finish step publishes to. */
  topicArn: string;
  readTopologyFunctionName: string;
  readTrafficFunctionName: string;
  rpoSeconds: number;
  rtoSeconds: number;
  /**
   * The config's estimate of a database promotion (`dr.estimates.databasePromotionSeconds`):
   * the workflow pages when a running promotion takes several times as long.
   * @default 60
   */
  databasePromotionSeconds?: number;
  /** For statusUrl. @default - statusUrl is relative, `/operations/<id>` */
  apiBaseUrl?: string;
}

const text = z.string().check(z.minLength(1, "a non-empty string"));
const size = z.int("a whole number").check(z.minimum(0, "a whole number >= 0"));
const arn = z.string().check(z.startsWith("arn:", "an ARN (arn:...)"));
const seconds = z.number().check(z.positive("a number of seconds > 0"));
const QUORUM_RANGE = `a whole number from 1 to ${DETECTION_SIGNALS.length}`;

const capacitySchema = z
  .strictObject({ minSize: size, desiredCapacity: size, maxSize: size })
  .check(
    z.refine(
      (capacity) =>
        capacity.minSize <= capacity.desiredCapacity &&
        capacity.desiredCapacity <= capacity.maxSize,
      "sizes with minSize <= desiredCapacity <= maxSize",
    ),
  );

const regionSchema = z.strictObject({
  region: z
    .string()
    .check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "an AWS region id such as us-east-2")),
  clusterIdentifier: text,
  clusterArn: arn,
  autoScalingGroupName: text,
  loadBalancer: z.strictObject({ dnsName: text, zoneId: text }),
  healthCheckId: text,
  activeCapacity: capacitySchema,
  standbyCapacity: capacitySchema,
});

/**
 * Zod schema of {@link AutomationSettings}; objects are strict so a misspelt field is an error.
 * Uses `zod/mini`, which tree-shakes: the classic `zod` entry point adds ~450 KB to a bundle.
 */
export const automationSettingsSchema: z.ZodMiniType<AutomationSettings> = z.strictObject({
  environment: text,
  namePrefix: text,
  primaryRecordRegion: z.enum(REGION_ROLES),
  healthPath: z.string().check(z.startsWith("/", "a URL path starting with '/'")),
  detection: z.strictObject({
    quorum: z
      .int(QUORUM_RANGE)
      .check(z.minimum(1, QUORUM_RANGE), z.maximum(DETECTION_SIGNALS.length, QUORUM_RANGE)),
    minimumIntervalMinutes: size,
    probeTimeoutSeconds: seconds,
  }),
  globalClusterIdentifier: text,
  regions: z.strictObject({ primary: regionSchema, secondary: regionSchema }),
  hostedZoneId: text,
  nameServers: z.optional(text),
  recordName: text,
  parameterPath: z
    .string()
    .check(z.regex(/^\/(.+\/)?$/, "a path that starts and ends with '/', e.g. /shopsmart/prod/")),
  ledgerTableName: text,
  stateMachineArn: text,
  topicArn: arn,
  readTopologyFunctionName: text,
  readTrafficFunctionName: text,
  rpoSeconds: seconds,
  rtoSeconds: seconds,
  databasePromotionSeconds: z.optional(seconds),
  apiBaseUrl: z.optional(
    z.url("an absolute URL such as https://abc.execute-api.us-west-2.amazonaws.com"),
  ),
});

/** Thrown when SHOPSMART_DR_SETTINGS is missing, not JSON, or has a bad field (terminal). */
export class SettingsError extends Error {
  override name = "SettingsError";
}

/**
 * A variable of the automation construct's settings, e.g. SHOPSMART_DR_SETTINGS holding "the
 * automation settings": its failures are {@link SettingsError}s.
 */
export function settingsVariable(name: string, content: string): EnvironmentJsonVariable {
  return {
    name,
    error: (message) => new SettingsError(message),
    notSet: `${name} is not set: expected the ${content} JSON written by the automation construct`,
    notJson: (_json, reason) => `${name} is not valid JSON: ${reason}`,
    missingField: "required field is missing",
  };
}

/**
 * Parses and validates the settings JSON. Throws one {@link SettingsError} naming the first bad
 * field, e.g. `SHOPSMART_DR_SETTINGS: regions.primary.clusterArn: expected an ARN (arn:...)`.
 */
export function parseSettings(json: string | undefined): AutomationSettings {
  return parseEnvironmentJson(
    json,
    automationSettingsSchema,
    settingsVariable(SETTINGS_VARIABLE, "automation settings"),
  );
}

/** Reads and validates SHOPSMART_DR_SETTINGS from the given environment. */
export function loadSettings(environment: NodeJS.ProcessEnv = process.env): AutomationSettings {
  return parseSettings(environment[SETTINGS_VARIABLE]);
}
