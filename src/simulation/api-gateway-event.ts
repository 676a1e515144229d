import type { APIGatewayProxyEventV2WithIAMAuthorizer } from "aws-lambda";

/**
 * An HTTP API (payload format 2.0) request as API Gateway delivers it to the operations-api
 * function, signed (AWS_IAM) by `caller`: the game day's requests and the scenario tests'.
 */
export function apiGatewayEvent(
  method: "GET" | "POST",
  path: string,
  body: unknown,
  caller: string,
): APIGatewayProxyEventV2WithIAMAuthorizer {
  return {
    version: "2.0",
    routeKey: `${method} ${path.startsWith("/operations/") ? "/operations/{id}" : path}`,
    rawPath: path,
    rawQueryString: "",
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    isBase64Encoded: false,
    requestContext: {
      accountId: "123456789012",
      apiId: "gameday",
      domainName: "gameday.execute-api.local",
      domainPrefix: "gameday",
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "game-day" },
      requestId: "game-day",
      routeKey: `${method} ${path}`,
      stage: "$default",
      time: "",
      timeEpoch: 0,
      authorizer: {
        iam: {
          accessKey: "AKIAEXAMPLE",
          accountId: "123456789012",
          callerId: "AIDAEXAMPLE",
          cognitoIdentity: null,
          principalOrgId: null,
          userArn: caller,
          userId: "AIDAEXAMPLE",
        },
      },
    },
  } as unknown as APIGatewayProxyEventV2WithIAMAuthorizer;
}
