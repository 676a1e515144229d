/** Lambda promote-database: switchover (planned) or failover / detach-and-promote (unplanned). */

import { RDSClient } from "@aws-sdk/client-rds";
import { SSMClient } from "@aws-sdk/client-ssm";
import { type PromoteDependencies, promoteDatabase } from "../orchestration/promote";
import { clientPerRegion } from "../shared/aws-clients";
import { withStepErrors } from "../shared/errors";
import { lazy } from "../shared/lazy";
import { parseStepEvent } from "../shared/operation";
import { loadSettings } from "../shared/settings";

/** Settings and clients, created on the first invocation and reused by the warm sandbox. */
const promoteDependencies = lazy((): PromoteDependencies => {
  const settings = loadSettings();
  return {
    settings,
    rds: clientPerRegion(settings.regions, RDSClient),
    ssm: clientPerRegion(settings.regions, SSMClient),
  };
});

export const handler = withStepErrors("promote-database", async (event: unknown) => {
  const { operation } = parseStepEvent("promote-database", event);
  return promoteDatabase(promoteDependencies(), {
    mode: operation.mode,
    target: operation.target,
  });
});
