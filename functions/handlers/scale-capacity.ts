/** Lambda scale-capacity: one region's Auto Scaling group to active/standby (or given) sizes. */

import { type CapacityDependencies, resolveSizes, scaleCapacity } from "../orchestration/capacity";
import { autoScalingClient, clientPerRegion } from "../shared/aws-clients";
import { withStepErrors } from "../shared/errors";
import { parseScaleCapacityEvent } from "../shared/operation";
import { loadSettings } from "../shared/settings";

let dependencies: CapacityDependencies | undefined;

/** Settings and clients, created on the first invocation and reused by the warm sandbox. */
function capacityDependencies(): CapacityDependencies {
  if (dependencies === undefined) {
    const settings = loadSettings();
    dependencies = { settings, autoScaling: clientPerRegion(settings.regions, autoScalingClient) };
  }
  return dependencies;
}

export const handler = withStepErrors("scale-capacity", async (event: unknown) => {
  const { role, capacity } = parseScaleCapacityEvent("scale-capacity", event);
  const deps = capacityDependencies();
  return scaleCapacity(deps, { role, sizes: resolveSizes(deps.settings, role, capacity) });
});
