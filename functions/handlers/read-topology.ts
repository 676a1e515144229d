/** Lambda read-topology: writer region, cluster states and replication lag, from both regions. */

import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { RDSClient } from "@aws-sdk/client-rds";
import { readTopology, type TopologyDependencies } from "../orchestration/topology";
import { clientPerRegion } from "../shared/aws-clients";
import { withStepErrors } from "../shared/errors";
import { lazy } from "../shared/lazy";
import { parseReaderEvent } from "../shared/operation";
import { loadSettings } from "../shared/settings";

/** Settings and clients, created on the first invocation and reused by the warm sandbox. */
const topologyDependencies = lazy((): TopologyDependencies => {
  const settings = loadSettings();
  return {
    settings,
    rds: clientPerRegion(settings.regions, RDSClient),
    cloudWatch: clientPerRegion(settings.regions, CloudWatchClient),
    now: () => new Date(),
  };
});

export const handler = withStepErrors("read-topology", async (event: unknown) => {
  const { onUnreachable } = parseReaderEvent("read-topology", event);
  return readTopology(topologyDependencies(), { onUnreachable });
});
