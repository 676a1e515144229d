/**
 * The operations HTTP API as its callers see it: the response bodies, the {@link OperationsApi}
 * interface the drill and the CLI program against, and {@link OperationsApiError}, the one error
 * every implementation throws. Implementations: the SigV4 HTTP client (operations-api-client.ts)
 * for a deployed stack, and the in-process one of the local game day (src/simulation).
 */
import type {
  CapacityReading,
  ClusterReading,
  HealthState,
  OperationMode,
  OperationRecord,
  Plan,
  TopologyReport,
  UnreachableRegion,
} from "./operation";
import type { RegionRole } from "./region-roles";

/** The body of `GET /status`. */
export interface StatusResponse {
  environment: string;
  /** The region role whose cluster writes (the global writer), or "unknown". */
  activeRegion: RegionRole | "unknown";
  /** Region ids by role, e.g. `{ primary: "us-east-2", secondary: "us-west-2" }`. */
  regions: Record<RegionRole, string>;
  database: {
    globalClusterIdentifier: string;
    status: string | null;
    writerRegion: RegionRole | "unknown";
    members: Record<RegionRole, ClusterReading>;
    replicationLagSeconds: number | null;
    failover: TopologyReport["failover"];
  };
  dns: { recordName: string; health: Record<RegionRole, HealthState> };
  capacity: Record<RegionRole, CapacityReading | null>;
  latestOperation: OperationRecord | null;
  unreachable: UnreachableRegion[];
  notes: string[];
}

export interface FailoverRequest {
  mode: OperationMode;
  reason: string;
  dryRun?: boolean;
}

export interface FailbackRequest {
  reason: string;
  dryRun?: boolean;
}

/** `202 {operationId, statusUrl}`, or `200 {dryRun: true, plan}` for a dry run. */
export type TriggerResponse =
  | { dryRun: false; operationId: string; statusUrl: string }
  | { dryRun: true; plan: Plan };

/** What the web app's health path answered through the public name (`https://<name>/health`). */
export interface AppHealth {
  /** HTTP status. */
  statusCode: number;
  /** The region id the answering instance runs in (the app's `region` field), when present. */
  region?: string;
  /** The instance's configured role (`primary` | `secondary`), when present. */
  role?: string;
  /** The app's view of its database (`reachable`, `unreachable`, ...), when present. */
  database?: string;
  /**
   * Where the app sees the database writer: `here` (its own region), `elsewhere` or `unknown`
   * (web-app-user-data.ts), when present.
   */
  writer?: string;
  /** The app says it can write: the writer is in its region and the database answers. */
  writable?: boolean;
}

/**
 * The four routes of the operations API, plus the app's health path. Every method throws
 * {@link OperationsApiError} on any failure (HTTP error, timeout, network, credentials).
 */
export interface OperationsApi {
  failover(request: FailoverRequest): Promise<TriggerResponse>;
  failback(request: FailbackRequest): Promise<TriggerResponse>;
  status(): Promise<StatusResponse>;
  operation(operationId: string): Promise<OperationRecord>;
  /** GET the web app's health path through the public DNS name. */
  appHealth(): Promise<AppHealth>;
}

export type OperationsApiErrorKind =
  /** 409: an operation is running; `operationId` names it. */
  | "conflict"
  /** 403 (or 401): the caller may not invoke the route. */
  | "forbidden"
  /** 400: `field` names the bad field. */
  | "bad-request"
  /** 404. */
  | "not-found"
  /** 5xx. */
  | "server"
  /** 429: API Gateway's throttling. */
  | "throttled"
  /** No answer within the request timeout. */
  | "timeout"
  /** DNS, connection refused/reset, TLS. */
  | "network"
  /** No AWS credentials could be found or they could not be used to sign. */
  | "credentials"
  /** Anything else (an unexpected status, a body that is not JSON). */
  | "unexpected";

/** A 202 body of POST /failover or /failback has no `dryRun`; the union needs it `false`. */
export function asTriggerResponse(body: TriggerResponse): TriggerResponse {
  return body.dryRun === true ? body : { ...body, dryRun: false };
}

/** What an HTTP error status of the API means, as both implementations of the API report it. */
export function errorKindOfStatus(statusCode: number): OperationsApiErrorKind {
  if (statusCode === 400) return "bad-request";
  if (statusCode === 401 || statusCode === 403) return "forbidden";
  if (statusCode === 404) return "not-found";
  if (statusCode === 409) return "conflict";
  if (statusCode === 429) return "throttled";
  if (statusCode >= 500) return "server";
  return "unexpected";
}

/** A failed call to the operations API (or the app's health path), with a message that says what to do. */
export class OperationsApiError extends Error {
  readonly kind: OperationsApiErrorKind;
  /** HTTP status, when there was a response. */
  readonly statusCode: number | undefined;
  /** For `conflict`: the running operation. */
  readonly operationId: string | undefined;
  /** For `bad-request`: the dotted path of the bad field. */
  readonly field: string | undefined;

  constructor(
    kind: OperationsApiErrorKind,
    message: string,
    details: { statusCode?: number; operationId?: string; field?: string } = {},
  ) {
    super(message);
    this.name = "OperationsApiError";
    this.kind = kind;
    this.statusCode = details.statusCode;
    this.operationId = details.operationId;
    this.field = details.field;
  }
}

/**
 * Whether a failed call may well succeed if made again shortly: no answer, a 5xx, throttling.
 * Callers that follow a long operation ride these out instead of giving up on it.
 */
export function isTransientApiError(error: unknown): error is OperationsApiError {
  return (
    error instanceof OperationsApiError &&
    (error.kind === "timeout" ||
      error.kind === "network" ||
      error.kind === "server" ||
      error.kind === "throttled")
  );
}
