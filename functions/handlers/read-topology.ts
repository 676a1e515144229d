/** Lambda read-topology: writer region, cluster states and replication lag, from both regions. */

import { readTopology, type TopologyDependencies } from "../orchestration/topology";
import { clientPerRegion, cloudWatchClient, rdsClient } from "../shared/aws-clients";
import { withStepErrors } from "../shared/errors";
import { parseReaderEvent } from "../shared/operation";
import { loadSettings } from "../shared/settings";

let dependencies: TopologyDependencies | undefined;

/** Settings and clients, created on the first invocation and reused by the warm sandbox. */
function topologyDependencies(): TopologyDependencies {
  if (dependencies === undefined) {
    const settings = loadSettings();
    dependencies = {
      settings,
      rds: clientPerRegion(settings.regions, rdsClient),
      cloudWatch: clientPerRegion(settings.regions, cloudWatchClient),
      now: () => new Date(),
    };
  }
  return dependencies;
}

export const handler = withStepErrors("read-topology", async (event: unknown) => {
  const { onUnreachable } = parseReaderEvent("read-topology", event);
  return readTopology(topologyDependencies(), { onUnreachable });
});
