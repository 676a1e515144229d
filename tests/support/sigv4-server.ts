/**
 * A stand-in for a deployed operations API on loopback (node:http), for tests of the SigV4 client
 * and the CLIs that use it (status, failover, failback, drill).
 *
 * It checks every API request the way API Gateway's IAM authorization would, computed here with
 * node:crypto alone (nothing shared with the client's signer): the canonical request, the string
 * to sign and the signature for the one known key pair, the credential scope (date, region,
 * `execute-api`), the session token, the clock skew and the payload hash. A request that fails any
 * check gets 403 and is recorded with the reason.
 *
 * Behind that it plays the operation lifecycle: a POST starts an operation that advances one step
 * per `GET /operations/{id}` (or `pollsPerStep`), succeeds or fails at `failStep`, holds the lock
 * (409) while it runs, and moves the active region when it succeeds; `GET /status` and the app's
 * unsigned `GET /health` follow it. Bodies are validated by the real handler's parser, so 400s
 * are the real ones. Options make it refuse (403), conflict (409), or answer slowly.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { parseTriggerBody } from "../../functions/orchestration/http-api";
import type {
  OperationKind,
  OperationMode,
  OperationRecord,
  Plan,
} from "../../functions/shared/operation";
import type { StatusResponse } from "../../functions/shared/operations-api";
import type { RegionRole } from "../../functions/shared/region-roles";

export interface TestCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The one identity the server accepts. */
export const TEST_CREDENTIALS: Required<TestCredentials> = {
  accessKeyId: "AKIDOPERATIONSTEST01",
  secretAccessKey: "operations/api/test/secret/0001",
  sessionToken: "session-token-of-the-operator",
};

/** The API's region (the environment's secondary region). */
export const TEST_REGION = "us-west-2";
export const TEST_REGIONS: Record<RegionRole, string> = {
  primary: "us-east-2",
  secondary: "us-west-2",
};

/** The steps a played operation goes through, in order. */
export const DEFAULT_STEPS = [
  "ReadTopology",
  "PromoteDatabase",
  "CheckWriter",
  "FlipDns",
  "VerifyWriter",
  "RecordSuccess",
];

/** What API Gateway answers when the signature does not match. */
export const SIGNATURE_MISMATCH_MESSAGE =
  "The request signature we calculated does not match the signature you provided. Check your " +
  "AWS Secret Access Key and signing method. Consult the service documentation for details.";

export interface RecordedRequest {
  method: string;
  /** The path and query as received. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** `valid`, or why the request was refused; `unsigned` for the app's public health path. */
  signature: "valid" | "unsigned" | { invalid: string };
}

export interface OperationsServerOptions {
  /** @default TEST_CREDENTIALS */
  credentials?: TestCredentials;
  /** The region requests must be signed for. @default TEST_REGION */
  region?: string;
  /** @default "staging" */
  environment?: string;
  /** @default DEFAULT_STEPS */
  steps?: string[];
  /** The step at which operations fail (the operation then fails with it). */
  failStep?: string;
  /** `GET /operations/{id}` answers per step. @default 1 */
  pollsPerStep?: number;
  /** Simulated seconds each poll adds to the operation's timestamps. @default 10 */
  secondsPerPoll?: number;
  /** When the first operation is requested (simulated clock). @default 2026-03-04T05:06:07Z */
  startTime?: string;
  /** A running operation already holds the lock: every non-dry POST gets 409 naming it. */
  runningOperationId?: string;
  /**
   * Answer every signed request with 403 and this message, as API Gateway does for an identity
   * without `execute-api:Invoke`.
   */
  forbidden?: string;
  /** Wait this long before answering each API request (not /health). */
  delayMs?: number;
  /** Blockers the dry-run plan reports. */
  planBlockers?: string[];
  /** Which region role is active at the start. @default "primary" */
  activeRegion?: RegionRole;
  /** How far the request date may be from the server's clock. @default 5 minutes */
  maxSkewMs?: number;
}

export interface OperationsServer {
  /** `http://127.0.0.1:<port>`: the API base URL and the app URL at once. */
  url: string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** The operations started, by id. */
  operations: Map<string, OperationRecord>;
  /** The region role whose database writes now. */
  activeRegion(): RegionRole;
  close(): Promise<void>;
}

// ---------------------------------------------------------------- SigV4, independently

const sha256Hex = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string) =>
  createHmac("sha256", key).update(data).digest();

/** RFC 3986 encoding as SigV4 defines it: everything but A-Z a-z 0-9 - _ . ~ is %XX (upper case). */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export interface SignedRequest {
  method: string;
  /** Path and query exactly as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * Why `request` is not a valid SigV4 request for `credentials` in `region`/`service`, or
 * undefined when it is. The checks are those of AWS's documentation for signing requests:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 */
export function sigV4Problem(
  request: SignedRequest,
  expected: {
    credentials: TestCredentials;
    region: string;
    service: string;
    now?: Date;
    maxSkewMs?: number;
  },
): string | undefined {
  const authorization = request.headers.authorization;
  if (typeof authorization !== "string") return "no Authorization header";
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(
      authorization,
    );
  if (match === null) return `malformed Authorization header: ${authorization}`;
  const [, accessKeyId, date, region, service, signedHeaderList, signature] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (accessKeyId !== expected.credentials.accessKeyId) return `unknown access key ${accessKeyId}`;
  if (region !== expected.region) return `signed for region ${region}, not ${expected.region}`;
  if (service !== expected.service) return `signed for service ${service}, not ${expected.service}`;

  const amzDate = request.headers["x-amz-date"];
  if (typeof amzDate !== "string" || !/^\d{8}T\d{6}Z$/.test(amzDate)) return "no valid X-Amz-Date";
  if (!amzDate.startsWith(date)) return `credential date ${date} is not the day of ${amzDate}`;
  const signedAt = Date.parse(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  const now = (expected.now ?? new Date()).getTime();
  if (Math.abs(now - signedAt) > (expected.maxSkewMs ?? 5 * 60_000)) {
    return `signed at ${amzDate}, too far from the server's clock`;
  }

  const signedHeaders = signedHeaderList.split(";");
  for (const required of ["host", "x-amz-date"]) {
    if (!signedHeaders.includes(required)) return `the ${required} header is not signed`;
  }
  const token = expected.credentials.sessionToken;
  if (token !== undefined) {
    if (request.headers["x-amz-security-token"] !== token) return "wrong or missing session token";
    if (!signedHeaders.includes("x-amz-security-token")) return "the session token is not signed";
  }
  const payloadHash = sha256Hex(request.body);
  const declaredHash = request.headers["x-amz-content-sha256"];
  if (declaredHash !== undefined && declaredHash !== payloadHash) {
    return "X-Amz-Content-Sha256 does not match the body";
  }

  const [rawPath = "/", rawQuery = ""] = request.url.split("?", 2);
  // execute-api, like every service but S3, signs each path segment URI-encoded once more than sent.
  const canonicalPath = rawPath.split("/").map(uriEncode).join("/");
  const canonicalQuery = rawQuery
    .split("&")
    .filter(Boolean)
    .map((pair) => {
      const [key = "", value = ""] = pair.split("=", 2);
      return [uriEncode(decodeURIComponent(key)), uriEncode(decodeURIComponent(value))] as const;
    })
    .sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1))
    .map(([key, value]) => `${key}=${value}`)
    .join("&");
  const canonicalHeaders = signedHeaders
    .map((name) => {
      const value = request.headers[name];
      const text = Array.isArray(value) ? value.join(",") : (value ?? "");
      return `${name}:${text.trim().replace(/\s+/g, " ")}\n`;
    })
    .join("");
  const canonicalRequest = [
    request.method,
    canonicalPath,
    canonicalQuery,
    canonicalHeaders,
    signedHeaderList,
    payloadHash,
  ].join("\n");
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonicalRequest)].join("\n");
  const signingKey = hmac(
    hmac(hmac(hmac(`AWS4${expected.credentials.secretAccessKey}`, date), region), service),
    "aws4_request",
  );
  const computed = createHmac("sha256", signingKey).update(stringToSign).digest();
  if (!timingSafeEqual(computed, Buffer.from(signature, "hex"))) return "signature mismatch";
  return undefined;
}

// ---------------------------------------------------------------- the simulated API

interface Played {
  record: OperationRecord;
  polls: number;
  target: RegionRole;
}

export function startOperationsServer(
  options: OperationsServerOptions = {},
): Promise<OperationsServer> {
  const credentials = options.credentials ?? TEST_CREDENTIALS;
  const region = options.region ?? TEST_REGION;
  const environment = options.environment ?? "staging";
  const steps = options.steps ?? DEFAULT_STEPS;
  const pollsPerStep = options.pollsPerStep ?? 1;
  const secondsPerPoll = options.secondsPerPoll ?? 10;
  let clock = Date.parse(options.startTime ?? "2026-03-04T05:06:07Z");
  let active: RegionRole = options.activeRegion ?? "primary";
  let counter = 0;
  let running: string | undefined = options.runningOperationId;
  let latest: string | undefined;
  const requests: RecordedRequest[] = [];
  const played = new Map<string, Played>();
  const operations = new Map<string, OperationRecord>();
  const iso = (ms: number) => new Date(ms).toISOString();

  function start(kind: OperationKind, mode: OperationMode, reason: string): OperationRecord {
    counter++;
    const requestedAt = iso(clock);
    const stamp = requestedAt.replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
    const operationId = `op-${stamp}-${counter.toString(16).padStart(6, "0")}`;
    const record: OperationRecord = {
      operationId,
      kind,
      mode,
      reason,
      requestedAt,
      requestedBy: `arn:aws:sts::123456789012:assumed-role/operator/${credentials.accessKeyId}`,
      status: "running",
      steps: [],
    };
    played.set(operationId, {
      record,
      polls: 0,
      target: kind === "failover" ? "secondary" : "primary",
    });
    operations.set(operationId, record);
    running = operationId;
    latest = operationId;
    return record;
  }

  /**
   * One poll: the simulated clock moves on and, every `pollsPerStep` polls, the running step
   * ends (succeeds, or fails when it is `failStep`) and the next one starts.
   */
  function advance(operation: Played): void {
    const { record } = operation;
    if (record.status !== "running") return;
    operation.polls++;
    clock += secondsPerPoll * 1000;
    const now = iso(clock);
    const name = steps[Math.floor((operation.polls - 1) / pollsPerStep)];
    const current = record.steps[record.steps.length - 1];
    if (current !== undefined && current.name !== name) {
      current.finishedAt = now;
      if (current.name === options.failStep) {
        current.status = "failed";
        current.error = `${current.name}Failed: simulated failure of ${current.name}`;
        record.status = "failed";
        record.finishedAt = now;
        record.error = `${current.name}: ${current.error}`;
        running = undefined;
        return;
      }
      current.status = "succeeded";
    }
    if (name === undefined) {
      record.status = "succeeded";
      record.finishedAt = now;
      record.rtoSeconds = Math.round((clock - Date.parse(record.requestedAt)) / 1000);
      record.dataLossSeconds = record.mode === "planned" ? 0 : 2;
      active = operation.target;
      running = undefined;
    } else if (current?.name !== name) {
      record.steps.push({ name, status: "running", startedAt: now });
    }
  }

  function plan(kind: OperationKind, mode: OperationMode): Plan {
    const target: RegionRole = kind === "failover" ? "secondary" : "primary";
    return {
      kind,
      mode,
      source: target === "secondary" ? "primary" : "secondary",
      target,
      writerRegion: active,
      replicationLagSeconds: 1,
      rpoLagSeconds: 1,
      writerWait: { pageAfterSeconds: 310, reason: "fake" },
      health: { primary: "healthy", secondary: "healthy" },
      capacity: {
        primary: { minSize: 2, desiredCapacity: 2, maxSize: 4, inService: 2 },
        secondary: { minSize: 1, desiredCapacity: 1, maxSize: 4, inService: 1 },
      },
      steps: [`switch the writer to ${target}`, `point DNS at ${target}`],
      blockers: options.planBlockers ?? [],
    };
  }

  function status(): StatusResponse {
    const cluster = (role: RegionRole) => ({
      role,
      clusterIdentifier: `shopsmart-${environment}-${role}`,
      clusterArn: `arn:aws:rds:${TEST_REGIONS[role]}:123456789012:cluster:shopsmart-${environment}-${role}`,
      status: "available",
      globalMember: true,
      isWriter: role === active,
      synchronizationStatus: role === active ? null : "connected",
    });
    return {
      environment,
      activeRegion: active,
      regions: TEST_REGIONS,
      database: {
        globalClusterIdentifier: `shopsmart-${environment}`,
        status: "available",
        writerRegion: active,
        members: { primary: cluster("primary"), secondary: cluster("secondary") },
        replicationLagSeconds: 1,
        failover: null,
      },
      dns: {
        recordName: `${environment}.shop.example.com`,
        health: { primary: "healthy", secondary: "healthy" },
      },
      capacity: {
        primary: { minSize: 2, desiredCapacity: 2, maxSize: 4, inService: 2 },
        secondary: { minSize: 1, desiredCapacity: 1, maxSize: 4, inService: 1 },
      },
      latestOperation: latest === undefined ? null : (operations.get(latest) ?? null),
      unreachable: [],
      notes: [],
    };
  }

  function route(request: RecordedRequest): { status: number; body: unknown } {
    const path = request.url.split("?")[0] ?? "/";
    if (request.method === "POST" && (path === "/failover" || path === "/failback")) {
      const kind = path.slice(1) as OperationKind;
      const body = parseTriggerBody(kind, { body: request.body, isBase64Encoded: false });
      if ("field" in body) return { status: 400, body };
      if (body.dryRun) return { status: 200, body: { dryRun: true, plan: plan(kind, body.mode) } };
      if (running !== undefined) {
        return { status: 409, body: { error: "an operation is running", operationId: running } };
      }
      const record = start(kind, body.mode, body.reason);
      return {
        status: 202,
        body: {
          operationId: record.operationId,
          statusUrl: `${server.url}/operations/${record.operationId}`,
        },
      };
    }
    if (request.method === "GET" && path === "/status") return { status: 200, body: status() };
    const operationPath = /^\/operations\/([^/]+)$/.exec(path);
    if (request.method === "GET" && operationPath?.[1] !== undefined) {
      const id = decodeURIComponent(operationPath[1]);
      const operation = played.get(id);
      if (operation === undefined) {
        return {
          status: 404,
          body: {
            error: `no operation ${id}: use the operationId a POST returned, or GET /status`,
          },
        };
      }
      advance(operation);
      return { status: 200, body: structuredClone(operation.record) };
    }
    return { status: 404, body: { message: "Not Found" } };
  }

  /** The app's public health path: answers from the active region, unsigned. */
  function health(): { status: number; body: unknown } {
    return {
      status: 200,
      body: {
        status: "ok",
        region: TEST_REGIONS[active],
        role: active,
        database: "reachable",
        writerRegion: TEST_REGIONS[active],
        writer: "here",
        writable: true,
      },
    };
  }

  function reply(response: ServerResponse, answer: { status: number; body: unknown }): void {
    response.writeHead(answer.status, { "content-type": "application/json" });
    response.end(JSON.stringify(answer.body));
  }

  const http: Server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", () => {
      const received = {
        method: incoming.method ?? "",
        url: incoming.url ?? "/",
        headers: incoming.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      if (received.method === "GET" && received.url === "/health") {
        requests.push({ ...received, signature: "unsigned" });
        reply(response, health());
        return;
      }
      const problem = sigV4Problem(received, {
        credentials,
        region,
        service: "execute-api",
        ...(options.maxSkewMs === undefined ? {} : { maxSkewMs: options.maxSkewMs }),
      });
      const recorded: RecordedRequest = {
        ...received,
        signature: problem === undefined ? "valid" : { invalid: problem },
      };
      requests.push(recorded);
      const answer =
        problem === "no Authorization header"
          ? { status: 403, body: { message: "Forbidden" } }
          : problem !== undefined
            ? { status: 403, body: { message: SIGNATURE_MISMATCH_MESSAGE } }
            : options.forbidden !== undefined
              ? { status: 403, body: { message: options.forbidden } }
              : route(recorded);
      if (options.delayMs === undefined) {
        reply(response, answer);
        return;
      }
      const timer = setTimeout(() => reply(response, answer), options.delayMs);
      response.on("close", () => clearTimeout(timer));
    });
  });

  const server: OperationsServer = {
    url: "",
    requests,
    operations,
    activeRegion: () => active,
    close: () =>
      new Promise((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
  return new Promise((resolve) => {
    http.listen(0, "127.0.0.1", () => {
      server.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
      resolve(server);
    });
  });
}
