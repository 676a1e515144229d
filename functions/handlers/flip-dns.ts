/** Lambda flip-dns: moves traffic to the operation's target region with the traffic fences. */

import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { shiftTraffic, type TrafficFenceDependencies } from "../orchestration/traffic-fence";
import { awsClient } from "../shared/aws-clients";
import { withStepErrors } from "../shared/errors";
import { lazy } from "../shared/lazy";
import { parseStepEvent } from "../shared/operation";
import { loadSettings } from "../shared/settings";

/** Settings and clients, created on the first invocation and reused by the warm sandbox. */
const fenceDependencies = lazy((): TrafficFenceDependencies => {
  const settings = loadSettings();
  return {
    settings,
    ledger: { client: awsClient(DynamoDBClient), tableName: settings.ledgerTableName },
    cloudWatch: awsClient(CloudWatchClient),
    now: () => new Date(),
  };
});

export const handler = withStepErrors("flip-dns", async (event: unknown) => {
  const { operation } = parseStepEvent("flip-dns", event);
  return shiftTraffic(fenceDependencies(), {
    target: operation.target,
    operationId: operation.operationId,
    unplanned: operation.kind === "failover" && operation.mode === "unplanned",
  });
});
