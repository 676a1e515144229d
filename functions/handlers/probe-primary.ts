/** Lambda probe-primary: the standby side's verdict on the primary region, every minute. */

import { setTimeout as sleep } from "node:timers/promises";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { RDSClient } from "@aws-sdk/client-rds";
import {
  type DetectionDependencies,
  probePrimary,
  ROUTE53_METRICS_REGION,
} from "../orchestration/detection";
import { awsClient } from "../shared/aws-clients";
import { probeEndpoint, servedRegion } from "../shared/endpoint-probe";
import { lazy } from "../shared/lazy";
import { log, logged } from "../shared/log";
import { loadSettings } from "../shared/settings";

/** Settings and clients, created on the first invocation and reused by the warm sandbox. */
const detectionDependencies = lazy((): DetectionDependencies => {
  const settings = loadSettings();
  return {
    settings,
    ledger: { client: awsClient(DynamoDBClient), tableName: settings.ledgerTableName },
    primaryRds: awsClient(RDSClient, settings.regions.primary.region),
    cloudWatch: awsClient(CloudWatchClient),
    route53Metrics: awsClient(CloudWatchClient, ROUTE53_METRICS_REGION),
    probeEndpoint,
    servedRegion,
    now: () => new Date(),
    sleep: async (milliseconds) => {
      await sleep(milliseconds);
    },
  };
});

/** Invoked by the schedule rule; the event carries nothing it needs. */
export const handler = logged("probe-primary", async (): Promise<unknown> => {
  const report = await probePrimary(detectionDependencies());
  log("info", "primary probed", report);
  return report;
});
