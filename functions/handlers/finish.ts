/**
 * finish Lambda: the state machine's RecordSuccess and RecordFailure task. Receives the whole
 * state (`{"operation": OperationInput, "results": {...}, "error"?: {"Error","Cause"}}`), writes the
 * final record, releases the lock and publishes one SNS message. With a `notice` (the
 * PageSlowPromotion task) it only records the record's `attention` and pages. Adapter only; the
 * logic lives in orchestration/finish.ts.
 */
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";
import {
  type FinishClients,
  type FinishResult,
  type FinishState,
  finishOperation,
  type NoticeResult,
  noticeOperation,
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
  notice: z.optional(
    z.object({
      kind: z.literal("promotion-slow"),
      checks: z.number(),
      intervalSeconds: z.number(),
      pageAfterSeconds: z.number(),
      detail: z.string(),
    }),
  ),
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

export const handler = withStepErrors(
  "finish",
  async (event: unknown): Promise<FinishResult | NoticeResult> => {
    const { settings, clients } = finishDependencies();
    const state = parseFinishState(event);
    const result = state.notice
      ? await noticeOperation(clients, settings, state.operation, state.notice, new Date())
      : await finishOperation(clients, settings, state, new Date());
    console.log(JSON.stringify({ handler: "finish", ...result }));
    return result;
  },
);
