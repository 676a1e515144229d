/**
 * Lambda scale-capacity: one region's Auto Scaling group to active/standby (or given) sizes, or
 * fenced (zero, with the operation lock held) after an unplanned failover.
 */

import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  type CapacityDependencies,
  fenceRegion,
  resolveSizes,
  scaleCapacity,
} from "../orchestration/capacity";
import type { Ledger } from "../orchestration/ledger";
import { awsClient, clientPerRegion } from "../shared/aws-clients";
import { withStepErrors } from "../shared/errors";
import { lazy } from "../shared/lazy";
import { InvalidEventError, parseScaleCapacityEvent } from "../shared/operation";
import { loadSettings } from "../shared/settings";

/** Settings and clients, created on the first invocation and reused by the warm sandbox. */
const capacityDependencies = lazy((): CapacityDependencies & { ledger: Ledger } => {
  const settings = loadSettings();
  return {
    settings,
    autoScaling: clientPerRegion(settings.regions, AutoScalingClient),
    ledger: { client: awsClient(DynamoDBClient), tableName: settings.ledgerTableName },
  };
});

export const handler = withStepErrors("scale-capacity", async (event: unknown) => {
  const { role, capacity, operationId } = parseScaleCapacityEvent("scale-capacity", event);
  const deps = capacityDependencies();
  if (capacity === "fenced") {
    if (operationId === undefined) {
      throw new InvalidEventError(
        "scale-capacity",
        "operationId",
        'required with capacity "fenced"',
      );
    }
    return fenceRegion(deps, { role, operationId }, new Date());
  }
  return scaleCapacity(deps, { role, sizes: resolveSizes(deps.settings, role, capacity) });
});
