/**
 * auto-failover Lambda: target of the EventBridge rules on the primary endpoint's health alarm
 * ("CloudWatch Alarm State Change") and on the failover workflow's executions ending ("Step
 * Functions Execution Status Change"). Adapter only; what it does with each lives in
 * orchestration/automatic-failover.ts. Anything it does not act on is a logged no-op; other
 * failures (e.g. DynamoDB unavailable) throw, so EventBridge's asynchronous invocation retries.
 */

import { randomBytes } from "node:crypto";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SFNClient } from "@aws-sdk/client-sfn";
import { SNSClient } from "@aws-sdk/client-sns";
import {
  type AutoFailoverDependencies,
  type AutoFailoverOutcome,
  handleAutoFailoverEvent,
  loadAutoFailoverSettings,
} from "../orchestration/automatic-failover";
import { awsClient } from "../shared/aws-clients";
import { lazy } from "../shared/lazy";
import { log, logged } from "../shared/log";
import { loadSettings } from "../shared/settings";

/** Settings and clients, created on the first invocation and reused by the warm sandbox. */
const autoFailoverDependencies = lazy((): AutoFailoverDependencies => {
  const trigger = loadAutoFailoverSettings();
  return {
    settings: loadSettings(),
    trigger,
    clients: {
      dynamoDb: awsClient(DynamoDBClient),
      sfn: awsClient(SFNClient),
      sns: awsClient(SNSClient),
      cloudWatch: awsClient(CloudWatchClient, trigger.alarmRegion),
    },
    environment: {
      now: () => new Date(),
      randomHex: (bytes) => randomBytes(bytes).toString("hex"),
    },
  };
});

export const handler = logged(
  "auto-failover",
  async (event: unknown): Promise<AutoFailoverOutcome> => {
    const outcome = await handleAutoFailoverEvent(autoFailoverDependencies(), event);
    log("info", `event ${outcome.action}`, outcome);
    return outcome;
  },
);
