/** Lambda read-traffic: where the traffic goes (DNS answer, fences), endpoint health, capacity. */

import { readTraffic, type TrafficDependencies } from "../orchestration/traffic";
import {
  autoScalingClient,
  clientPerRegion,
  dynamoDbClient,
  route53Client,
} from "../shared/aws-clients";
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
    route53: route53Client(),
    autoScaling: clientPerRegion(settings.regions, autoScalingClient),
    ledger: { client: dynamoDbClient(), tableName: settings.ledgerTableName },
    probeEndpoint,
    servedRegion,
  };
});

export const handler = withStepErrors("read-traffic", async (event: unknown) => {
  const { onUnreachable, target } = parseReaderEvent("read-traffic", event);
  return readTraffic(trafficDependencies(), target ? { onUnreachable, target } : { onUnreachable });
});
