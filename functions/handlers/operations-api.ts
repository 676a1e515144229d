/**
 * operations-api Lambda: the HTTP API (API Gateway HTTP API, payload format 2.0, AWS_IAM).
 * Adapter only; routing, validation and responses live in orchestration/http-api.ts.
 */

import { randomBytes } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { SFNClient } from "@aws-sdk/client-sfn";
import type {
  APIGatewayProxyEventV2WithIAMAuthorizer,
  APIGatewayProxyStructuredResultV2,
} from "aws-lambda";
import { type HttpApiDependencies, handleHttpRequest } from "../orchestration/http-api";
import { awsClient } from "../shared/aws-clients";
import { lazy } from "../shared/lazy";
import { logged } from "../shared/log";
import { loadSettings } from "../shared/settings";

/** Settings and clients, created on the first request and reused by the warm container. */
const loadDependencies = lazy(
  (): HttpApiDependencies => ({
    settings: loadSettings(),
    clients: {
      dynamoDb: awsClient(DynamoDBClient),
      sfn: awsClient(SFNClient),
      lambda: awsClient(LambdaClient),
    },
    environment: {
      now: () => new Date(),
      randomHex: (bytes) => randomBytes(bytes).toString("hex"),
    },
  }),
);

export const handler = logged(
  "operations-api",
  async (
    event: APIGatewayProxyEventV2WithIAMAuthorizer,
  ): Promise<APIGatewayProxyStructuredResultV2> => handleHttpRequest(event, loadDependencies()),
);
