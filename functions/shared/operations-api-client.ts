/**
 * The {@link OperationsApi} of a deployed stack: every request to the operations HTTP API is signed
 * with SigV4 for `execute-api` and sent with the global `fetch`; the app's health path is read
 * unsigned (it is public). Used by the CLI (`npm run status|failover|failback|drill`) and bundled
 * into the drill Lambda, so it stays small: the SDK's own signer and SHA-256, and the default
 * credential chain, nothing else.
 */

import { get as httpGet } from "node:http";
import { get as httpsGet } from "node:https";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { Sha256 } from "@smithy/core/checksum";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import type { OperationRecord } from "./operation";
import {
  type AppHealth,
  asTriggerResponse,
  errorKindOfStatus,
  type FailbackRequest,
  type FailoverRequest,
  type OperationsApi,
  OperationsApiError,
  type StatusResponse,
  type TriggerResponse,
} from "./operations-api";

export interface OperationsApiClientOptions {
  /** `https://<api-id>.execute-api.<region>.amazonaws.com` (a trailing slash is ignored). */
  apiBaseUrl: string;
  /** The app's public URL, e.g. `https://shop.example.com/`; needed by `appHealth()` only. */
  appUrl?: string;
  /** The app's health path. @default "/health" */
  healthPath?: string;
  /** Signing region. @default the region in an execute-api host name, else AWS_REGION */
  region?: string;
  /** @default the SDK's default chain (environment, SSO, shared files, container, instance) */
  credentials?: AwsCredentialIdentityProvider;
  /** Per request, including reading the body. @default 30000 */
  requestTimeoutMs?: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_HEALTH_PATH = "/health";

/** `<api-id>.execute-api.<region>.amazonaws.com` (and `.com.cn`). */
const EXECUTE_API_HOST = /^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;

/** The region in an API Gateway host name, or undefined for any other host (custom domain, loopback). */
export function regionOfApiHost(hostname: string): string | undefined {
  return EXECUTE_API_HOST.exec(hostname.toLowerCase())?.[1];
}

type Route = "POST /failover" | "POST /failback" | "GET /status" | "GET /operations/{id}";

export function createOperationsApiClient(options: OperationsApiClientOptions): OperationsApi {
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  // Created on first use: a Lambda that builds this client at init must not resolve credentials
  // (or fail on a missing region) before it is invoked.
  let credentials = options.credentials;

  // Parsed on first use too, so that a bad URL is an OperationsApiError of a call like any other.
  let parsedBaseUrl: URL | undefined;
  const baseUrl = () => {
    parsedBaseUrl ??= parseBaseUrl(options.apiBaseUrl);
    return parsedBaseUrl;
  };

  function signingRegion(): string {
    const region = options.region ?? regionOfApiHost(baseUrl().hostname) ?? process.env.AWS_REGION;
    if (region === undefined || region === "") {
      throw new OperationsApiError(
        "unexpected",
        `cannot tell which region to sign requests to ${baseUrl().origin} for: it is not an ` +
          "execute-api host name (<api-id>.execute-api.<region>.amazonaws.com). Set AWS_REGION " +
          "to the API's region (the environment's secondary region).",
      );
    }
    return region;
  }

  async function resolveCredentials(): Promise<AwsCredentialIdentity> {
    credentials ??= defaultProvider();
    try {
      return await credentials();
    } catch (error) {
      throw new OperationsApiError(
        "credentials",
        `no AWS credentials to sign the request with (${errorMessage(error)}). Provide them ` +
          "in one of the ways the AWS CLI accepts: AWS_PROFILE=<profile> (after " +
          "`aws sso login --profile <profile>` for an SSO profile), or AWS_ACCESS_KEY_ID, " +
          "AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN in the environment. " +
          "`aws sts get-caller-identity` shows whether any work.",
      );
    }
  }

  async function call<Body>(route: Route, path: string, body?: unknown): Promise<Body> {
    const base = baseUrl();
    const url = new URL(`${base.pathname.replace(/\/$/, "")}${path}`, base.origin);
    const method = route.startsWith("POST") ? "POST" : "GET";
    const region = signingRegion();
    const identity = await resolveCredentials();
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {
      // fetch sends Host itself, as `url.host` (with the port when it is not the default); the
      // signature covers the same value.
      host: url.host,
      accept: "application/json",
      ...(text === undefined ? {} : { "content-type": "application/json" }),
    };
    const signer = new SignatureV4({
      service: "execute-api",
      region,
      credentials: identity,
      sha256: Sha256,
    });
    let signed: { headers: Record<string, string> };
    try {
      signed = await signer.sign({
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port === "" ? {} : { port: Number(url.port) }),
        path: url.pathname,
        query: {},
        headers,
        ...(text === undefined ? {} : { body: text }),
      });
    } catch (error) {
      throw new OperationsApiError(
        "credentials",
        `could not sign the request with the credentials found (${errorMessage(error)}): check ` +
          "them with `aws sts get-caller-identity`.",
      );
    }
    const { host: _host, ...sendHeaders } = signed.headers;
    const response = await send(url, { method, headers: sendHeaders, body: text }, timeoutMs);
    return answer<Body>(route, method, url, region, response);
  }

  return {
    failover: (request: FailoverRequest) =>
      call<TriggerResponse>("POST /failover", "/failover", request).then(asTriggerResponse),
    failback: (request: FailbackRequest) =>
      call<TriggerResponse>("POST /failback", "/failback", request).then(asTriggerResponse),
    status: () => call<StatusResponse>("GET /status", "/status"),
    operation: (operationId: string) =>
      call<OperationRecord>(
        "GET /operations/{id}",
        `/operations/${encodeURIComponent(operationId)}`,
      ),
    appHealth: () => appHealth(options, timeoutMs),
  };
}

function parseBaseUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OperationsApiError(
      "unexpected",
      `the operations API URL "${value}" is not an absolute URL: use the stack's API endpoint, ` +
        "e.g. https://<api-id>.execute-api.<region>.amazonaws.com",
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new OperationsApiError(
      "unexpected",
      `the operations API URL "${value}" must start with https://`,
    );
  }
  return url;
}

interface Answer {
  status: number;
  text: string;
}

/** fetch with a deadline on the whole exchange; failures become timeout/network errors. */
async function send(
  url: URL,
  init: { method: string; headers: Record<string, string>; body: string | undefined },
  timeoutMs: number,
): Promise<Answer> {
  try {
    const response = await fetch(url, {
      method: init.method,
      headers: init.headers,
      ...(init.body === undefined ? {} : { body: init.body }),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "manual",
    });
    return { status: response.status, text: await response.text() };
  } catch (error) {
    throw transportError(error, `${init.method} ${url.href}`, url.host, timeoutMs);
  }
}

function transportError(
  error: unknown,
  request: string,
  host: string,
  timeoutMs: number,
): OperationsApiError {
  const name = (error as { name?: unknown } | null)?.name;
  if (name === "TimeoutError" || name === "AbortError") {
    return new OperationsApiError(
      "timeout",
      `${request} did not answer within ${formatMs(timeoutMs)}: the API or its region may be ` +
        "degraded. Try again, or raise the timeout (--timeout <seconds> on the CLI).",
    );
  }
  // fetch puts the system error (ECONNREFUSED, ENOTFOUND, ...) in `cause`; node:http on the error.
  const own = error as { code?: unknown; cause?: { code?: unknown; message?: unknown } } | null;
  const cause = own?.cause;
  const code = [own?.code, cause?.code].find((value) => typeof value === "string") as
    | string
    | undefined;
  const detail = code ?? (typeof cause?.message === "string" ? cause.message : errorMessage(error));
  return new OperationsApiError(
    "network",
    `cannot reach ${host} (${detail}) for ${request}: check the URL (the stack's ` +
      "status_api_url output without /status) and your network connection.",
  );
}

function answer<Body>(
  route: Route,
  method: string,
  url: URL,
  region: string,
  response: Answer,
): Body {
  const { status } = response;
  const body = parseJson(response.text);
  const serverMessage = messageOf(body) ?? (response.text.trim().slice(0, 300) || "no body");
  const request = `${method} ${url.pathname}`;
  if (status >= 200 && status < 300) {
    if (body === undefined || typeof body !== "object" || body === null) {
      throw new OperationsApiError(
        "unexpected",
        `${request} answered ${status} with a body that is not a JSON object: ` +
          `${response.text.slice(0, 200)}. Is ${url.origin} the operations API?`,
        { statusCode: status },
      );
    }
    return body as Body;
  }
  const fields = (body ?? {}) as { field?: unknown; operationId?: unknown };
  switch (errorKindOfStatus(status)) {
    case "bad-request": {
      const field = typeof fields.field === "string" ? fields.field : undefined;
      return fail(
        "bad-request",
        `${request} was rejected: ${serverMessage}${field === undefined ? "" : ` (field ${field})`}`,
        { statusCode: status, ...(field === undefined ? {} : { field }) },
      );
    }
    case "forbidden":
      return fail("forbidden", forbiddenMessage(route, request, url, region, serverMessage), {
        statusCode: status,
      });
    case "not-found":
      return fail(
        "not-found",
        `${request} answered 404: ${serverMessage}. Check the URL: the API's base URL is the ` +
          "stack's status_api_url output without /status.",
        { statusCode: status },
      );
    case "conflict": {
      const operationId = typeof fields.operationId === "string" ? fields.operationId : undefined;
      const running = operationId ?? "(id not given)";
      return fail(
        "conflict",
        `another operation is running: ${running}. Only one runs at a time; watch it with ` +
          `\`npm run status -- --env <env> --operation ${running} --watch\` (or GET /operations/` +
          `${running}) and try again once it has finished.`,
        { statusCode: status, ...(operationId === undefined ? {} : { operationId }) },
      );
    }
    case "throttled":
      return fail(
        "throttled",
        `${request} was throttled (HTTP 429): ${serverMessage}. Retry in a few seconds.`,
        { statusCode: status },
      );
    case "server":
      return fail(
        "server",
        `${request} failed on the server (HTTP ${status}): ${serverMessage}. The ` +
          "operations-api function's log group in the secondary region has the details; retry " +
          "once the cause is fixed.",
        { statusCode: status },
      );
    default:
      return fail("unexpected", `${request} answered HTTP ${status}: ${serverMessage}`, {
        statusCode: status,
      });
  }
}

function fail(
  kind: OperationsApiError["kind"],
  message: string,
  details: { statusCode?: number; operationId?: string; field?: string },
): never {
  throw new OperationsApiError(kind, message, details);
}

/**
 * API Gateway's IAM answers: `Forbidden` (unsigned or no policy), `User: ... is not authorized
 * to perform: execute-api:Invoke on resource: ...`, or a credential problem (signature, expired
 * or invalid token), which a policy change would not fix.
 */
function forbiddenMessage(
  route: Route,
  request: string,
  url: URL,
  region: string,
  serverMessage: string,
): string {
  if (/signature|security token|expired|credential/i.test(serverMessage)) {
    return (
      `${request} was refused (${serverMessage}): the credentials used to sign are wrong or ` +
      "expired. Refresh them (`aws sso login`, or new AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/" +
      `AWS_SESSION_TOKEN), and check that requests are signed for the API's region (${region}).`
    );
  }
  const apiId =
    regionOfApiHost(url.hostname) === undefined ? "<api-id>" : url.hostname.split(".")[0];
  const [method, path] = route.split(" ") as [string, string];
  const resource = `arn:aws:execute-api:${region}:<account-id>:${apiId}/$default/${method}${path.replace(/\{[^}]+\}/g, "*")}`;
  return (
    `${request} was refused (${serverMessage}): your identity may not invoke this route. ` +
    `Its IAM policy needs execute-api:Invoke on ${resource} (or ${apiId}/*/* for every route); ` +
    "`aws sts get-caller-identity` shows which identity signed."
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `{error}` from our handler; `{message}` from API Gateway itself. */
function messageOf(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const { error, message } = body as { error?: unknown; message?: unknown };
  if (typeof error === "string") return error;
  if (typeof message === "string") return message;
  return undefined;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/**
 * GET `<appUrl><healthPath>`, unsigned. Any HTTP answer is a result (its status, and the app's
 * `region`, `role` and `database` when the body is JSON with them); only no answer at all throws.
 *
 * node:http(s) with a connection of its own rather than fetch: fetch keeps connections alive and
 * would go on asking the region DNS pointed at before a flip; a verify must see the flip as soon
 * as the name resolves to the other region.
 */
async function appHealth(
  options: OperationsApiClientOptions,
  timeoutMs: number,
): Promise<AppHealth> {
  if (options.appUrl === undefined || options.appUrl === "") {
    throw new OperationsApiError(
      "unexpected",
      "no app URL to check the health of: pass the stack's app_url output (appUrl).",
    );
  }
  const base = parseBaseUrl(options.appUrl);
  const url = new URL(
    (options.healthPath ?? DEFAULT_HEALTH_PATH).replace(/^\/*/, ""),
    base.href.endsWith("/") ? base.href : `${base.href}/`,
  );
  let response: Answer;
  try {
    response = await getOnFreshConnection(url, timeoutMs);
  } catch (error) {
    throw transportError(error, `GET ${url.href}`, url.host, timeoutMs);
  }
  const body = parseJson(response.text);
  const health: AppHealth = { statusCode: response.status };
  if (typeof body === "object" && body !== null) {
    const fields = body as Record<string, unknown>;
    for (const key of ["region", "role", "database", "writer"] as const) {
      const value = fields[key];
      if (typeof value === "string") health[key] = value;
    }
    if (typeof fields.writable === "boolean") health.writable = fields.writable;
  }
  return health;
}

/** Rejects with a TimeoutError after `timeoutMs` (connect and body included). */
function getOnFreshConnection(url: URL, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const get = url.protocol === "https:" ? httpsGet : httpGet;
    const request = get(
      url,
      {
        agent: false,
        headers: { accept: "application/json" },
        signal: AbortSignal.timeout(timeoutMs),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", reject);
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      },
    );
    request.on("error", (error: Error & { cause?: unknown }) =>
      // An aborted request fails with AbortError; its cause is the signal's TimeoutError.
      reject(error.name === "AbortError" && error.cause instanceof Error ? error.cause : error),
    );
  });
}
