/** Lambda promote-database: switchover (planned) or failover / detach-and-promote (unplanned). */

import { type PromoteDependencies, promoteDatabase } from "../orchestration/promote";
import { clientPerRegion, rdsClient, ssmClient } from "../shared/aws-clients";
import { withStepErrors } from "../shared/errors";
import { lazy } from "../shared/lazy";
import { parseStepEvent } from "../shared/operation";
import { loadSettings } from "../shared/settings";

/** Settings and clients, created on the first invocation and reused by the warm sandbox. */
const promoteDependencies = lazy((): PromoteDependencies => {
  const settings = loadSettings();
  return {
    settings,
    rds: clientPerRegion(settings.regions, rdsClient),
    ssm: clientPerRegion(settings.regions, ssmClient),
  };
});

export const handler = withStepErrors("promote-database", async (event: unknown) => {
  const { operation } = parseStepEvent("promote-database", event);
  return promoteDatabase(promoteDependencies(), {
    mode: operation.mode,
    target: operation.target,
  });
});
