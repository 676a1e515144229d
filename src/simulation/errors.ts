/**
 * Errors as the AWS SDK for JavaScript v3 surfaces them, so code under simulation classifies
 * them exactly as it would in AWS: modelled service errors are instances of the client's own
 * exception classes (`instanceof ConditionalCheckFailedException` works), unmodelled ones
 * (`Throttling` on the Query APIs) are the service's base exception with that `name`, and an
 * unreachable region rejects like the SDK's Node.js HTTP handler does.
 */
import * as autoScaling from "@aws-sdk/client-auto-scaling";
import * as cloudWatch from "@aws-sdk/client-cloudwatch";
import * as dynamodb from "@aws-sdk/client-dynamodb";
import * as lambda from "@aws-sdk/client-lambda";
import * as rds from "@aws-sdk/client-rds";
import * as route53 from "@aws-sdk/client-route-53";
import * as sfn from "@aws-sdk/client-sfn";
import * as sns from "@aws-sdk/client-sns";
import * as ssm from "@aws-sdk/client-ssm";

/** The services the simulation models, by the short names used in the call log. */
export const SERVICE_NAMES = [
  "rds",
  "autoscaling",
  "route53",
  "cloudwatch",
  "ssm",
  "dynamodb",
  "sns",
  "sfn",
  "lambda",
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

type ExceptionClass = new (options: never) => Error;

interface ServiceDescription {
  /** The SDK package's exports, where modelled exception classes are looked up by name. */
  readonly exports: Record<string, unknown>;
  readonly baseException: ExceptionClass;
  /** Query and REST-XML errors carry `Type` and `Code` (the SDK copies them onto the error). */
  readonly xmlErrors: boolean;
  /** The endpoint host, for unreachable-endpoint messages. */
  readonly host: (region: string) => string;
  /** What the service returns when it throttles a caller. */
  readonly throttling: { readonly code: string; readonly httpStatusCode: number };
}

/**
 * Throttling codes are the ones the services return, not the SDK's modelled names: the Query
 * and REST-XML APIs answer `Throttling` / "Rate exceeded" with HTTP 400 (e.g. aws/aws-cli#8604,
 * cloud-custodian#3340, octodns#96), the JSON APIs `ThrottlingException` with 400, Lambda
 * `TooManyRequestsException` with 429.
 */
const SERVICES: Record<ServiceName, ServiceDescription> = {
  rds: {
    exports: rds,
    baseException: rds.RDSServiceException,
    xmlErrors: true,
    host: (region) => `rds.${region}.amazonaws.com`,
    throttling: { code: "Throttling", httpStatusCode: 400 },
  },
  autoscaling: {
    exports: autoScaling,
    baseException: autoScaling.AutoScalingServiceException,
    xmlErrors: true,
    host: (region) => `autoscaling.${region}.amazonaws.com`,
    throttling: { code: "Throttling", httpStatusCode: 400 },
  },
  route53: {
    exports: route53,
    baseException: route53.Route53ServiceException,
    xmlErrors: true,
    host: () => "route53.amazonaws.com",
    throttling: { code: "Throttling", httpStatusCode: 400 },
  },
  cloudwatch: {
    exports: cloudWatch,
    baseException: cloudWatch.CloudWatchServiceException,
    xmlErrors: true,
    host: (region) => `monitoring.${region}.amazonaws.com`,
    throttling: { code: "Throttling", httpStatusCode: 400 },
  },
  ssm: {
    exports: ssm,
    baseException: ssm.SSMServiceException,
    xmlErrors: false,
    host: (region) => `ssm.${region}.amazonaws.com`,
    throttling: { code: "ThrottlingException", httpStatusCode: 400 },
  },
  dynamodb: {
    exports: dynamodb,
    baseException: dynamodb.DynamoDBServiceException,
    xmlErrors: false,
    host: (region) => `dynamodb.${region}.amazonaws.com`,
    throttling: { code: "ThrottlingException", httpStatusCode: 400 },
  },
  sns: {
    exports: sns,
    baseException: sns.SNSServiceException,
    xmlErrors: true,
    host: (region) => `sns.${region}.amazonaws.com`,
    throttling: { code: "Throttling", httpStatusCode: 400 },
  },
  sfn: {
    exports: sfn,
    baseException: sfn.SFNServiceException,
    xmlErrors: false,
    host: (region) => `states.${region}.amazonaws.com`,
    throttling: { code: "ThrottlingException", httpStatusCode: 400 },
  },
  lambda: {
    exports: lambda,
    baseException: lambda.LambdaServiceException,
    xmlErrors: false,
    host: (region) => `lambda.${region}.amazonaws.com`,
    throttling: { code: "TooManyRequestsException", httpStatusCode: 429 },
  },
};

let requestCounter = 0;

/** A request id in the services' UUID format, deterministic per process. */
export function nextRequestId(): string {
  requestCounter += 1;
  const hex = requestCounter.toString(16).padStart(12, "0");
  return `5e1a7e00-0000-4000-8000-${hex}`;
}

/** The `$metadata` the SDK attaches to every output and service error. */
export function responseMetadata(httpStatusCode: number) {
  return {
    httpStatusCode,
    requestId: nextRequestId(),
    extendedRequestId: undefined,
    cfId: undefined,
    attempts: 1,
    totalRetryDelay: 0,
  };
}

export interface ServiceErrorOptions {
  /** @default 400 */
  readonly httpStatusCode?: number;
  /** Modelled members of the exception, e.g. `Item` or `messages`. */
  readonly members?: Record<string, unknown>;
}

/**
 * An error as the SDK throws it for a service error response with this `code`: the modelled
 * exception class when the client has one with that name, else the service's base exception.
 */
export function serviceError(
  service: ServiceName,
  code: string,
  message: string,
  options: ServiceErrorOptions = {},
): Error {
  const description = SERVICES[service];
  const httpStatusCode = options.httpStatusCode ?? 400;
  const $metadata = responseMetadata(httpStatusCode);
  const fault = httpStatusCode >= 500 ? "server" : "client";
  const modelled = description.exports[code];
  let error: Error & Record<string, unknown>;
  if (isExceptionClass(modelled, description.baseException)) {
    error = new (modelled as new (options: unknown) => Error & Record<string, unknown>)({
      message,
      $metadata,
      ...options.members,
    });
  } else {
    error = new (
      description.baseException as new (
        options: unknown,
      ) => Error & Record<string, unknown>
    )({ name: code, $fault: fault, $metadata, message });
    Object.assign(error, options.members);
  }
  if (description.xmlErrors) {
    Object.assign(error, { Type: fault === "server" ? "Receiver" : "Sender", Code: code });
  }
  return error;
}

function isExceptionClass(candidate: unknown, base: ExceptionClass): boolean {
  return typeof candidate === "function" && candidate.prototype instanceof base;
}

/** The service's throttling error (name and status as the real service returns them). */
export function throttlingError(service: ServiceName): Error {
  const { code, httpStatusCode } = SERVICES[service].throttling;
  return serviceError(service, code, "Rate exceeded", { httpStatusCode });
}

/** A 5xx from the service (`InternalFailure` / `ServiceUnavailable`), `$fault: "server"`. */
export function serverError(
  service: ServiceName,
  code = "ServiceUnavailable",
  httpStatusCode = 503,
): Error {
  return serviceError(service, code, "Service is unavailable. Please try again later.", {
    httpStatusCode,
  });
}

/** How calls to a region that is down fail. */
export type UnreachableFailure = "timeout" | "connection-refused" | "dns";

/**
 * What the SDK rejects with when a region's endpoint cannot be reached, after its own retries:
 * the Node.js socket error, renamed `TimeoutError` by @smithy/node-http-handler for ETIMEDOUT
 * and ECONNREFUSED (its NODEJS_TIMEOUT_ERROR_CODES), left as `Error` for a DNS failure.
 */
export function unreachableError(
  service: ServiceName,
  region: string,
  failure: UnreachableFailure = "timeout",
): Error {
  const host = SERVICES[service].host(region);
  const address = "203.0.113.10";
  const attempts = 3;
  const $metadata = { attempts, totalRetryDelay: 300 };
  switch (failure) {
    case "timeout":
      return Object.assign(new Error(`connect ETIMEDOUT ${address}:443`), {
        name: "TimeoutError",
        code: "ETIMEDOUT",
        errno: -110,
        syscall: "connect",
        address,
        port: 443,
        $metadata,
      });
    case "connection-refused":
      return Object.assign(new Error(`connect ECONNREFUSED ${address}:443`), {
        name: "TimeoutError",
        code: "ECONNREFUSED",
        errno: -111,
        syscall: "connect",
        address,
        port: 443,
        $metadata,
      });
    case "dns":
      return Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), {
        code: "ENOTFOUND",
        errno: -3008,
        syscall: "getaddrinfo",
        hostname: host,
        $metadata,
      });
  }
}

/**
 * The simulation was asked for something it does not model (an operation, a parameter or an
 * expression form). Never an AWS error, so a test fails loudly instead of passing on a guess.
 */
export class SimulatorUnsupportedError extends Error {
  constructor(message: string) {
    super(`simulator: ${message}`);
    this.name = "SimulatorUnsupportedError";
  }
}
