import { Apigatewayv2Api } from "@cdktf/provider-aws/lib/apigatewayv2-api";
import { Apigatewayv2Integration } from "@cdktf/provider-aws/lib/apigatewayv2-integration";
import { Apigatewayv2Route } from "@cdktf/provider-aws/lib/apigatewayv2-route";
import { Apigatewayv2Stage } from "@cdktf/provider-aws/lib/apigatewayv2-stage";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Construct } from "constructs";
import { ConstructMisuseError } from "../../errors";

/** The API's routes (SPEC section 6), by a stable key used in construct ids and attributes. */
export const API_ROUTES = {
  failover: { method: "POST", path: "/failover" },
  failback: { method: "POST", path: "/failback" },
  status: { method: "GET", path: "/status" },
  operation: { method: "GET", path: "/operations/{id}" },
} as const;

export type ApiRoute = keyof typeof API_ROUTES;

/**
 * One line of JSON per request. `caller` is the IAM principal that signed it: every route uses
 * AWS_IAM authorization, so each request names who asked for a failover.
 */
export const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: "$context.requestId",
  extendedRequestId: "$context.extendedRequestId",
  requestTime: "$context.requestTime",
  caller: "$context.identity.userArn",
  callerAccount: "$context.identity.accountId",
  sourceIp: "$context.identity.sourceIp",
  routeKey: "$context.routeKey",
  status: "$context.status",
  responseLength: "$context.responseLength",
  responseLatencyMs: "$context.responseLatency",
  integrationStatus: "$context.integrationStatus",
  integrationError: "$context.integrationErrorMessage",
});

export interface OperationsHttpApiProps {
  readonly provider: AwsProvider;
  /** API name, e.g. `shopsmart-prod-dr-operations`. */
  readonly name: string;
  readonly throttle: { readonly burstLimit: number; readonly rateLimitPerSecond: number };
  readonly kmsKeyArn: string;
  readonly logRetentionDays: number;
}

/** The function behind every route. */
export interface ApiHandler {
  readonly functionName: string;
  readonly invokeArn: string;
}

/**
 * The failover HTTP API: an API Gateway HTTP API whose four routes all require SigV4 (AWS_IAM)
 * and proxy to the operations-api function (payload format 2.0), one auto-deployed `$default`
 * stage with throttling on every route and JSON access logs in a KMS-encrypted log group.
 *
 * The API exists before its handler (the handler's settings carry the API's URL); the routes
 * are added by {@link OperationsHttpApi.connect}.
 */
export class OperationsHttpApi extends Construct {
  /** `https://<api-id>.execute-api.<region>.amazonaws.com` (the `$default` stage has no path). */
  readonly endpoint: string;
  readonly apiId: string;
  /** `arn:aws:execute-api:<region>:<account>:<api-id>`. */
  readonly executionArn: string;
  /**
   * What a caller's IAM policy must allow (`execute-api:Invoke`) per route, e.g.
   * `<executionArn>/$default/POST/failover`.
   */
  readonly routeInvokeArns: Readonly<Record<ApiRoute, string>>;

  private readonly props: OperationsHttpApiProps;
  private connected = false;

  constructor(scope: Construct, id: string, props: OperationsHttpApiProps) {
    super(scope, id);
    this.props = props;
    const { provider } = props;

    const api = new Apigatewayv2Api(this, "api", {
      provider,
      name: props.name,
      protocolType: "HTTP",
      description: "Fail over, fail back and read the status of the warm-standby pair (SigV4).",
    });
    this.endpoint = api.apiEndpoint;
    this.apiId = api.id;
    this.executionArn = api.executionArn;
    this.routeInvokeArns = Object.fromEntries(
      routes().map(([key, route]) => [
        key,
        `${api.executionArn}/$default/${route.method}${arnPath(route.path)}`,
      ]),
    ) as Record<ApiRoute, string>;

    // The /aws/vendedlogs/ prefix: API Gateway delivers access logs through a CloudWatch Logs
    // resource policy, whose size limit this prefix's wildcard grant avoids.
    const logGroup = new CloudwatchLogGroup(this, "access-logs", {
      provider,
      name: `/aws/vendedlogs/apigateway/${props.name}`,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.kmsKeyArn,
    });
    new Apigatewayv2Stage(this, "stage", {
      provider,
      apiId: api.id,
      name: "$default",
      autoDeploy: true,
      defaultRouteSettings: {
        throttlingBurstLimit: props.throttle.burstLimit,
        throttlingRateLimit: props.throttle.rateLimitPerSecond,
        detailedMetricsEnabled: true,
      },
      accessLogSettings: { destinationArn: logGroup.arn, format: ACCESS_LOG_FORMAT },
    });
  }

  /** Routes every request to `handler` (Lambda proxy, payload 2.0). Call once. */
  connect(handler: ApiHandler): void {
    if (this.connected) {
      throw new ConstructMisuseError(
        this.node.path,
        "connect() was already called; the API has one handler.",
      );
    }
    this.connected = true;
    const { provider } = this.props;
    const integration = new Apigatewayv2Integration(this, "integration", {
      provider,
      apiId: this.apiId,
      integrationType: "AWS_PROXY",
      integrationMethod: "POST",
      integrationUri: handler.invokeArn,
      payloadFormatVersion: "2.0",
      // The HTTP API maximum; dry runs and /status read both regions.
      timeoutMilliseconds: 30_000,
    });
    for (const [key, route] of routes()) {
      new Apigatewayv2Route(this, `route-${key}`, {
        provider,
        apiId: this.apiId,
        routeKey: `${route.method} ${route.path}`,
        authorizationType: "AWS_IAM",
        target: `integrations/${integration.id}`,
      });
      // API Gateway may invoke the function for this route only (from any stage).
      new LambdaPermission(this, `invoke-${key}`, {
        provider,
        statementId: `http-api-${key}`,
        action: "lambda:InvokeFunction",
        functionName: handler.functionName,
        principal: "apigateway.amazonaws.com",
        sourceArn: `${this.executionArn}/*/${route.method}${arnPath(route.path)}`,
      });
    }
  }
}

function routes() {
  return Object.entries(API_ROUTES) as [ApiRoute, (typeof API_ROUTES)[ApiRoute]][];
}

/** Path parameters appear as `*` in execute-api ARNs (`/operations/{id}` -> `/operations/*`). */
function arnPath(path: string): string {
  return path.replace(/\{[^}]+\}/g, "*");
}
