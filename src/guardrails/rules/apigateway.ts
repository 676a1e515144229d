import { type Finding, finding } from "../rule";
import { block, isSet, type StackModel, shown } from "../terraform-model";

/**
 * Every entry point authenticates callers with IAM (SigV4): HTTP API routes, REST API methods
 * and Lambda function URLs use `AWS_IAM`, and no HTTP API is quick-created with a `target`
 * (which adds a `$default` route without authorization).
 */
export function routesRequireIam(stack: StackModel): Finding[] {
  const findings: Finding[] = [];
  for (const route of stack.resources("aws_apigatewayv2_route")) {
    const authorization = route.attributes.authorization_type;
    if (authorization !== "AWS_IAM") {
      findings.push(
        finding(
          route,
          `route ${shown(route.attributes.route_key)} has authorization_type ${shown(authorization)}, so anyone who finds the URL can call it`,
        ),
      );
    }
  }
  for (const api of stack.resources("aws_apigatewayv2_api")) {
    if (isSet(api.attributes.target)) {
      findings.push(
        finding(
          api,
          "sets target (quick create), which adds a $default route without authorization",
        ),
      );
    }
  }
  for (const method of stack.resources("aws_api_gateway_method")) {
    const authorization = method.attributes.authorization;
    if (authorization !== "AWS_IAM") {
      findings.push(
        finding(
          method,
          `method ${shown(method.attributes.http_method)} has authorization ${shown(authorization)}, so anyone who finds the URL can call it`,
        ),
      );
    }
  }
  for (const url of stack.resources("aws_lambda_function_url")) {
    const authorization = url.attributes.authorization_type;
    if (authorization !== "AWS_IAM") {
      findings.push(
        finding(
          url,
          `has authorization_type ${shown(authorization)}, so anyone who finds the URL can invoke the function`,
        ),
      );
    }
  }
  return findings;
}

/** API stages write access logs (who called what, when, with which result). */
export function stagesWriteAccessLogs(stack: StackModel): Finding[] {
  const findings: Finding[] = [];
  for (const type of ["aws_apigatewayv2_stage", "aws_api_gateway_stage"]) {
    for (const stage of stack.resources(type)) {
      if (!isSet(block(stage.attributes.access_log_settings).destination_arn)) {
        findings.push(finding(stage, "has no access_log_settings.destination_arn"));
      }
    }
  }
  return findings;
}
