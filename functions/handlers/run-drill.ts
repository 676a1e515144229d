/**
 * run-drill Lambda: every task of the drill state machine. Adapter only: builds the clients and
 * runs orchestration/drill-task.ts, which validates the event and the settings and calls
 * orchestration/drill-run.ts. The drill drives the operations API through the same SigV4 HTTP
 * client an operator's CLI uses, so a scheduled drill proves that path too.
 */

import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { SNSClient } from "@aws-sdk/client-sns";
import type { DrillRunContext } from "../orchestration/drill-run";
import { drillContainerFrom, runDrillWith } from "../orchestration/drill-task";
import { awsClient } from "../shared/aws-clients";
import type { DrillSettings } from "../shared/drill-settings";
import { withStepErrors } from "../shared/errors";
import { lazy } from "../shared/lazy";
import type { OperationsApi } from "../shared/operations-api";
import { createOperationsApiClient } from "../shared/operations-api-client";
import { s3ObjectWriter } from "../shared/s3-object-writer";
import { type AutomationSettings, SETTINGS_VARIABLE, SettingsError } from "../shared/settings";

/**
 * In AWS: the SigV4 client of the operations API and the report writer, both signing with the
 * Lambda role's credentials, and the SDK clients for metrics and the alert topic.
 */
export function connectToAws(
  settings: AutomationSettings,
  drill: DrillSettings,
): Pick<DrillRunContext, "api" | "clients"> {
  if (settings.apiBaseUrl === undefined) {
    throw new SettingsError(
      `${SETTINGS_VARIABLE}: apiBaseUrl: required field is missing (the drill calls the operations API)`,
    );
  }
  const api: OperationsApi = createOperationsApiClient({
    apiBaseUrl: settings.apiBaseUrl,
    appUrl: drill.appUrl,
    healthPath: drill.healthPath,
  });
  return {
    api,
    clients: {
      reports: s3ObjectWriter({ bucket: drill.reportBucket, kmsKeyArn: drill.reportKmsKeyArn }),
      cloudWatch: awsClient(CloudWatchClient),
      sns: awsClient(SNSClient),
    },
  };
}

export const handler = withStepErrors(
  "run-drill",
  runDrillWith(
    lazy(() => drillContainerFrom(process.env, connectToAws)),
    () => new Date(),
  ),
);
