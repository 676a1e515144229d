/** Lambda promote-database: switchover (planned) or failover / detach-and-promote (unplanned). */

import { type PromoteDependencies, promoteDatabase } from "../orchestration/promote";
import { clientPerRegion, rdsClient, ssmClient } from "../shared/aws-clients";
import { withStepErrors } from "../shared/errors";
import { parseStepEvent } from "../shared/operation";
import { loadSettings } from "../shared/settings";

let dependencies: PromoteDependencies | undefined;

/** Settings and clients, created on the first invocation and reused by the warm sandbox. */
function promoteDependencies(): PromoteDependencies {
  if (dependencies === undefined) {
    const settings = loadSettings();
    dependencies = {
      settings,
      rds: clientPerRegion(settings.regions, rdsClient),
      ssm: clientPerRegion(settings.regions, ssmClient),
    };
  }
  return dependencies;
}

export const handler = withStepErrors("promote-database", async (event: unknown) => {
  const { operation } = parseStepEvent("promote-database", event);
  return promoteDatabase(promoteDependencies(), {
    mode: operation.mode,
    target: operation.target,
  });
});
