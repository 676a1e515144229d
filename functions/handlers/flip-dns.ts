/** Lambda flip-dns: moves traffic to the operation's target region with the traffic fences. */
import { shiftTraffic, type TrafficFenceDependencies } from "../orchestration/traffic-fence";
import { cloudWatchClient, dynamoDbClient } from "../shared/aws-clients";
import { withStepErrors } from "../shared/errors";
import { parseStepEvent } from "../shared/operation";
import { loadSettings } from "../shared/settings";

let dependencies: TrafficFenceDependencies | undefined;

/** Settings and clients, created on the first invocation and reused by the warm sandbox. */
function fenceDependencies(): TrafficFenceDependencies {
  if (dependencies === undefined) {
    const settings = loadSettings();
    dependencies = {
      settings,
      ledger: { client: dynamoDbClient(), tableName: settings.ledgerTableName },
      cloudWatch: cloudWatchClient(),
      now: () => new Date(),
    };
  }
  return dependencies;
}

export const handler = withStepErrors("flip-dns", async (event: unknown) => {
  const { operation } = parseStepEvent("flip-dns", event);
  return shiftTraffic(fenceDependencies(), {
    target: operation.target,
    operationId: operation.operationId,
    unplanned: operation.kind === "failover" && operation.mode === "unplanned",
  });
});
