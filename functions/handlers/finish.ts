/**
 * finish Lambda: the state machine's RecordSuccess and RecordFailure task. Receives the whole
 * state (`{"operation": OperationInput, "results": {...}, "error"?: {"Error","Cause"}}`), writes the
 * final record, releases the lock and publishes one SNS message. With a `notice` (the
 * PageSlowPromotion task) it only records the record's `attention` and pages. Adapter only; the
 * logic lives in orchestration/finish.ts.
 */

import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SNSClient } from "@aws-sdk/client-sns";
import {
  type FinishClients,
  type FinishResult,
  finishOperation,
  type NoticeResult,
  noticeOperation,
  parseFinishState,
} from "../orchestration/finish";
import { awsClient } from "../shared/aws-clients";
import { withStepErrors } from "../shared/errors";
import { lazy } from "../shared/lazy";
import { log } from "../shared/log";
import { type AutomationSettings, loadSettings } from "../shared/settings";

/**
 * Settings and clients, created on the first invocation and reused by the warm sandbox (not at
 * module scope: constructing two clients there added about 10 ms to the function's init).
 */
const finishDependencies = lazy((): { settings: AutomationSettings; clients: FinishClients } => ({
  settings: loadSettings(),
  clients: { dynamoDb: awsClient(DynamoDBClient), sns: awsClient(SNSClient) },
}));

export const handler = withStepErrors(
  "finish",
  async (event: unknown): Promise<FinishResult | NoticeResult> => {
    const { settings, clients } = finishDependencies();
    const state = parseFinishState(event);
    const result = state.notice
      ? await noticeOperation(clients, settings, state.operation, state.notice, new Date())
      : await finishOperation(clients, settings, state, new Date());
    log("info", state.notice ? "notice recorded" : "operation finished", result);
    return result;
  },
);
