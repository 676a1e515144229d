/** Lambda check-writer: is the operation's target cluster the writer and available? */

import { RDSClient } from "@aws-sdk/client-rds";
import { checkWriter, type WriterDependencies } from "../orchestration/writer";
import { clientPerRegion } from "../shared/aws-clients";
import { withStepErrors } from "../shared/errors";
import { lazy } from "../shared/lazy";
import { parseStepEvent } from "../shared/operation";
import { loadSettings } from "../shared/settings";

/** Settings and clients, created on the first invocation and reused by the warm sandbox. */
const writerDependencies = lazy((): WriterDependencies => {
  const settings = loadSettings();
  return { settings, rds: clientPerRegion(settings.regions, RDSClient) };
});

export const handler = withStepErrors("check-writer", async (event: unknown) => {
  const { operation } = parseStepEvent("check-writer", event);
  return checkWriter(writerDependencies(), { target: operation.target });
});
