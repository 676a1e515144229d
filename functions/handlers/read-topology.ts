/** Lambda read-topology: writer region, cluster states and replication lag, from both regions. */

import { readTopology, type TopologyDependencies } from "../orchestration/topology";
import { clientPerRegion, cloudWatchClient, rdsClient } from "../shared/aws-clients";
import { withStepErrors } from "../shared/errors";
import { lazy } from "../shared/lazy";
import { parseReaderEvent } from "../shared/operation";
import { loadSettings } from "../shared/settings";

/** Settings and clients, created on the first invocation and reused by the warm sandbox. */
const topologyDependencies = lazy((): TopologyDependencies => {
  const settings = loadSettings();
  return {
    settings,
    rds: clientPerRegion(settings.regions, rdsClient),
    cloudWatch: clientPerRegion(settings.regions, cloudWatchClient),
    now: () => new Date(),
  };
});

export const handler = withStepErrors("read-topology", async (event: unknown) => {
  const { onUnreachable } = parseReaderEvent("read-topology", event);
  return readTopology(topologyDependencies(), { onUnreachable });
});
