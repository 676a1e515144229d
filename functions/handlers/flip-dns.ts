/** Lambda flip-dns: PRIMARY failover record to the operation's target region, then wait for INSYNC. */
import { setTimeout as sleep } from "node:timers/promises";
import { type DnsDependencies, flipDns } from "../orchestration/dns";
import { route53Client } from "../shared/aws-clients";
import { withStepErrors } from "../shared/errors";
import { parseStepEvent } from "../shared/operation";
import { loadSettings } from "../shared/settings";

let dependencies: DnsDependencies | undefined;

/** Settings and client, created on the first invocation and reused by the warm sandbox. */
function dnsDependencies(): DnsDependencies {
  if (dependencies === undefined) {
    dependencies = {
      settings: loadSettings(),
      route53: route53Client(),
      sleep: async (milliseconds) => {
        await sleep(milliseconds);
      },
    };
  }
  return dependencies;
}

export const handler = withStepErrors("flip-dns", async (event: unknown) => {
  const { operation } = parseStepEvent("flip-dns", event);
  return flipDns(dnsDependencies(), {
    target: operation.target,
    operationId: operation.operationId,
  });
});
