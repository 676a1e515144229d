import { ApiGatewayMethod } from "@cdktf/provider-aws/lib/api-gateway-method";
import { Apigatewayv2Api } from "@cdktf/provider-aws/lib/apigatewayv2-api";
import { Apigatewayv2Route } from "@cdktf/provider-aws/lib/apigatewayv2-route";
import { Apigatewayv2Stage } from "@cdktf/provider-aws/lib/apigatewayv2-stage";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { LambdaFunctionUrl } from "@cdktf/provider-aws/lib/lambda-function-url";
import { describe, expect, it } from "vitest";
import { violation, violationsOf } from "../support/guardrails";
import { stackWithProviders } from "../support/synth";

/** An HTTP API with a POST /failover route. */
function httpApi(route: { authorizationType?: string }, api: { target?: string } = {}) {
  const { stack, providers } = stackWithProviders();
  const httpApi = new Apigatewayv2Api(stack, "api", {
    provider: providers.secondary,
    name: "failover",
    protocolType: "HTTP",
    ...api,
  });
  new Apigatewayv2Route(stack, "failover-route", {
    provider: providers.secondary,
    apiId: httpApi.id,
    routeKey: "POST /failover",
    ...route,
  });
  return { stack, providers, httpApi };
}

describe("SS-API-1 API routes require IAM authorization", () => {
  it("fails a route without authorization and a quick-created API", () => {
    const { stack } = httpApi({}, { target: "arn:aws:lambda:us-west-2:111111111111:function:x" });
    expect(violationsOf("SS-API-1", stack)).toEqual([
      violation(
        "SS-API-1",
        "test/failover-route",
        'route "POST /failover" has authorization_type unset, so anyone who finds the URL can call it',
      ),
      violation(
        "SS-API-1",
        "test/api",
        "sets target (quick create), which adds a $default route without authorization",
      ),
    ]);
  });

  it("fails a REST method and a function URL without AWS_IAM", () => {
    const { stack, providers } = stackWithProviders();
    new ApiGatewayMethod(stack, "method", {
      provider: providers.secondary,
      restApiId: "abc123",
      resourceId: "def456",
      httpMethod: "POST",
      authorization: "NONE",
    });
    new LambdaFunctionUrl(stack, "url", {
      provider: providers.secondary,
      functionName: "shop-status",
      authorizationType: "NONE",
    });
    expect(violationsOf("SS-API-1", stack)).toEqual([
      violation(
        "SS-API-1",
        "test/method",
        'method "POST" has authorization "NONE", so anyone who finds the URL can call it',
      ),
      violation(
        "SS-API-1",
        "test/url",
        'has authorization_type "NONE", so anyone who finds the URL can invoke the function',
      ),
    ]);
  });

  it("passes AWS_IAM routes", () => {
    expect(violationsOf("SS-API-1", httpApi({ authorizationType: "AWS_IAM" }).stack)).toEqual([]);
  });
});

describe("SS-API-2 API stages write access logs", () => {
  it("fails a stage without access logs", () => {
    const { stack, providers, httpApi: api } = httpApi({ authorizationType: "AWS_IAM" });
    new Apigatewayv2Stage(stack, "stage", {
      provider: providers.secondary,
      apiId: api.id,
      name: "$default",
      autoDeploy: true,
    });
    expect(violationsOf("SS-API-2", stack)).toEqual([
      violation("SS-API-2", "test/stage", "has no access_log_settings.destination_arn"),
    ]);
  });

  it("passes a stage logging to a log group", () => {
    const { stack, providers, httpApi: api } = httpApi({ authorizationType: "AWS_IAM" });
    const logs = new CloudwatchLogGroup(stack, "access-logs", {
      provider: providers.secondary,
      name: "/shop/api-access",
    });
    new Apigatewayv2Stage(stack, "stage", {
      provider: providers.secondary,
      apiId: api.id,
      name: "$default",
      accessLogSettings: { destinationArn: logs.arn, format: "$context.requestId" },
    });
    expect(violationsOf("SS-API-2", stack)).toEqual([]);
  });
});
