/** Lambda check-writer: is the operation's target cluster the writer and available? */

import { checkWriter, type WriterDependencies } from "../orchestration/writer";
import { clientPerRegion, rdsClient } from "../shared/aws-clients";
import { withStepErrors } from "../shared/errors";
import { parseStepEvent } from "../shared/operation";
import { loadSettings } from "../shared/settings";

let dependencies: WriterDependencies | undefined;

/** Settings and clients, created on the first invocation and reused by the warm sandbox. */
function writerDependencies(): WriterDependencies {
  if (dependencies === undefined) {
    const settings = loadSettings();
    dependencies = { settings, rds: clientPerRegion(settings.regions, rdsClient) };
  }
  return dependencies;
}

export const handler = withStepErrors("check-writer", async (event: unknown) => {
  const { operation } = parseStepEvent("check-writer", event);
  return checkWriter(writerDependencies(), { target: operation.target });
});
