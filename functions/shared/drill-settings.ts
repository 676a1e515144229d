/**
 * The drill Lambda's own configuration: one environment variable, SHOPSMART_DR_DRILL, holding the
 * JSON of {@link DrillSettings}, written by the automation construct and validated here. What the
 * drill shares with the failover Lambdas (environment, regions, RTO/RPO targets, the alert topic,
 * the API's URL) it reads from SHOPSMART_DR_SETTINGS (settings.ts) instead of a second copy.
 */
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";
import { parseEnvironmentJson } from "./environment-json";
import { settingsVariable } from "./settings";

// zod/mini loads no messages by default; English ones for "expected string, received number".
z.config(en());

export const DRILL_SETTINGS_VARIABLE = "SHOPSMART_DR_DRILL";

export interface DrillSettings {
  /** Bucket the reports go to, as `drills/<environment>/<drillId>.json` and `.md`. */
  reportBucket: string;
  /** Key the reports are encrypted with (SSE-KMS), the bucket's default key. */
  reportKmsKeyArn: string;
  /** The shop's public URL, e.g. `https://shop.example.com/`: the drill checks its health path. */
  appUrl: string;
  /** The app's health path, e.g. `/health`. */
  healthPath: string;
  /** CloudWatch namespace of the drill's metrics, e.g. `ShopSmart/DR`. */
  metricNamespace: string;
  /** Minutes to stay failed over when the execution input names none (config `drill.holdMinutes`). */
  holdMinutes: number;
  /** Seconds between two polls of a running operation or a verification. */
  pollSeconds: number;
}

const text = z.string().check(z.minLength(1, "a non-empty string"));

/** Zod schema of {@link DrillSettings}; strict, so a misspelt field is an error. */
export const drillSettingsSchema: z.ZodMiniType<DrillSettings> = z.strictObject({
  reportBucket: z
    .string()
    .check(z.regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "an S3 bucket name")),
  reportKmsKeyArn: z.string().check(z.startsWith("arn:", "a KMS key ARN (arn:...)")),
  appUrl: z.url("an absolute URL such as https://shop.example.com/"),
  healthPath: z.string().check(z.startsWith("/", "a path starting with '/', e.g. /health")),
  metricNamespace: text,
  holdMinutes: z.number().check(z.minimum(0, "a number of minutes >= 0")),
  pollSeconds: z.int("a whole number").check(z.minimum(1, "a whole number of seconds >= 1")),
});

/**
 * Parses and validates the drill settings JSON. Throws one `SettingsError` naming the first
 * bad field, e.g. `SHOPSMART_DR_DRILL: reportBucket: expected an S3 bucket name`.
 */
export function parseDrillSettings(json: string | undefined): DrillSettings {
  return parseEnvironmentJson(
    json,
    drillSettingsSchema,
    settingsVariable(DRILL_SETTINGS_VARIABLE, "drill settings"),
  );
}

/** Reads and validates SHOPSMART_DR_DRILL from the given environment. */
export function loadDrillSettings(environment: NodeJS.ProcessEnv = process.env): DrillSettings {
  return parseDrillSettings(environment[DRILL_SETTINGS_VARIABLE]);
}
