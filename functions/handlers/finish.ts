/**
 * finish Lambda: the state machine's RecordSuccess and RecordFailure task. Receives the whole
 * state (`{"operation": OperationInput, "results": {...}, "error"?: {"Error","Cause"}}`), writes the
 * final record, releases the lock and publishes one SNS message. Adapter only; the logic lives in
 * orchestration/finish.ts.
 */
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";
import {
  type FinishClients,
  type FinishResult,
  type FinishState,
  finishOperation,
} from "../orchestration/finish";
import { dynamoDbClient, snsClient } from "../shared/aws-clients";
import { withStepErrors } from "../shared/errors";
import { InvalidEventError, operationInputSchema } from "../shared/operation";
import { type AutomationSettings, loadSettings } from "../shared/settings";

// zod/mini loads no messages by default; English ones, as classic `zod` would load.
z.config(en());

const finishStateSchema = z.object({
  operation: operationInputSchema,
  results: z.optional(z.record(z.string(), z.unknown())),
  error: z.optional(z.object({ Error: z.optional(z.string()), Cause: z.optional(z.string()) })),
});

/** Validates the state; a bad one is a terminal `InvalidEvent` naming the first bad field. */
export function parseFinishState(event: unknown): FinishState {
  const result = finishStateSchema.safeParse(event);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new InvalidEventError(
    "finish",
    issue?.path.length ? issue.path.map(String).join(".") : "(root)",
    issue?.message ?? "invalid",
  );
}

let dependencies: { settings: AutomationSettings; clients: FinishClients } | undefined;

/**
 * Settings and clients, created on the first invocation and reused by the warm sandbox (not at
 * module scope: constructing two clients there added about 10 ms to the function's init).
 */
function finishDependencies(): { settings: AutomationSettings; clients: FinishClients } {
  dependencies ??= {
    settings: loadSettings(),
    clients: { dynamoDb: dynamoDbClient(), sns: snsClient() },
  };
  return dependencies;
}

export const handler = withStepErrors("finish", async (event: unknown): Promise<FinishResult> => {
  const { settings, clients } = finishDependencies();
  const result = await finishOperation(clients, settings, parseFinishState(event), new Date());
  console.log(JSON.stringify({ handler: "finish", ...result }));
  return result;
});
