/** Lambda read-traffic: where the traffic goes (DNS answer, fences), endpoint health, capacity. */

import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { Route53Client } from "@aws-sdk/client-route-53";
import { readTraffic, type TrafficDependencies } from "../orchestration/traffic";
import { awsClient, clientPerRegion } from "../shared/aws-clients";
import { probeEndpoint, servedRegion } from "../shared/endpoint-probe";
import { withStepErrors } from "../shared/errors";
import { lazy } from "../shared/lazy";
import { parseReaderEvent } from "../shared/operation";
import { loadSettings } from "../shared/settings";

/** Settings and clients, created on the first invocation and reused by the warm sandbox. */
const trafficDependencies = lazy((): TrafficDependencies => {
  const settings = loadSettings();
  return {
    settings,
    route53: awsClient(Route53Client),
    autoScaling: clientPerRegion(settings.regions, AutoScalingClient),
    ledger: { client: awsClient(DynamoDBClient), tableName: settings.ledgerTableName },
    probeEndpoint,
    servedRegion,
  };
});

export const handler = withStepErrors("read-traffic", async (event: unknown) => {
  const { onUnreachable, target } = parseReaderEvent("read-traffic", event);
  return readTraffic(trafficDependencies(), target ? { onUnreachable, target } : { onUnreachable });
});
