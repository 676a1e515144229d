/**
 * Test doubles of the drill tests: a scripted two-region {@link OperationsApi} (an operation ends
 * a few polls after it starts and moves the writer and the public name), a report writer that
 * keeps what it is given, and the settings the drill Lambda reads.
 */
import type { DrillSettings } from "../../functions/shared/drill-settings";
import type { OperationRecord, RegionRole } from "../../functions/shared/operation";
import {
  type AppHealth,
  type OperationsApi,
  OperationsApiError,
  type StatusResponse,
  type TriggerResponse,
} from "../../functions/shared/operations-api";
import type { ObjectWriter, PutObjectRequest } from "../../functions/shared/s3-object-writer";
import { SETTINGS } from "./steps/fixtures";

export const DRILL_SETTINGS: DrillSettings = {
  reportBucket: "shopsmart-prod-drills-111122223333",
  reportKmsKeyArn: "arn:aws:kms:us-west-2:111122223333:key/secondary",
  appUrl: "https://shop.example.com/",
  healthPath: "/health",
  metricNamespace: "ShopSmart/DR",
  holdMinutes: 5,
  pollSeconds: 10,
};

/** The automation settings of the step tests (prod, us-east-2 / us-west-2), with the API URL. */
export const AUTOMATION_SETTINGS = {
  ...SETTINGS,
  apiBaseUrl: "https://a1b2c3d4e5.execute-api.us-west-2.amazonaws.com",
};

export interface FakeOperationsApiOptions {
  /** The environment GET /status names. @default "prod" */
  environment?: string;
  /** GET /operations/{id} answers `running` this many times before the operation ends. @default 2 */
  pollsToFinish?: number;
  /** The Nth call (1-based, any method) throws this instead of answering. */
  throwOnCall?: { call: number; error: Error };
  /** Data loss and lag the API reports. @default 0.5 */
  lagSeconds?: number;
  /** The measured RTO of each operation. @default 95 */
  rtoSeconds?: number;
}

/** A two-region world behind the operations API, played by the drill. */
export class FakeOperationsApi implements OperationsApi {
  active: RegionRole = "primary";
  readonly calls: string[] = [];
  private readonly operations = new Map<string, OperationRecord>();
  private readonly polls = new Map<string, number>();

  constructor(private readonly options: FakeOperationsApiOptions = {}) {}

  async failover(request: { mode: "planned" | "unplanned"; reason: string }) {
    this.record("failover");
    return this.start("failover", request.mode);
  }

  async failback() {
    this.record("failback");
    return this.start("failback", "planned");
  }

  async status(): Promise<StatusResponse> {
    this.record("status");
    return {
      environment: this.options.environment ?? "prod",
      activeRegion: this.active,
      regions: { primary: "us-east-2", secondary: "us-west-2" },
      database: {
        globalClusterIdentifier: "shopsmart-prod-global",
        status: "available",
        writerRegion: this.active,
        members: {} as StatusResponse["database"]["members"],
        replicationLagSeconds: this.options.lagSeconds ?? 0.5,
        failover: null,
      },
      dns: { recordName: "shop.example.com", health: { primary: "healthy", secondary: "healthy" } },
      capacity: { primary: null, secondary: null },
      latestOperation: [...this.operations.values()].at(-1) ?? null,
      unreachable: [],
      notes: [],
    };
  }

  async operation(operationId: string): Promise<OperationRecord> {
    this.record(`operation ${operationId}`);
    const record = this.operations.get(operationId);
    if (!record) throw new OperationsApiError("not-found", `no operation ${operationId}`);
    if (record.status !== "running") return record;
    const polls = (this.polls.get(operationId) ?? 0) + 1;
    this.polls.set(operationId, polls);
    if (polls <= (this.options.pollsToFinish ?? 2)) return record;
    this.active = record.kind === "failover" ? "secondary" : "primary";
    Object.assign(record, {
      status: "succeeded",
      steps: [{ name: "PromoteDatabase", status: "succeeded" }],
      rtoSeconds: this.options.rtoSeconds ?? 95,
      dataLossSeconds: 0,
    });
    return record;
  }

  async appHealth(): Promise<AppHealth> {
    this.record("appHealth");
    const region = this.active === "primary" ? "us-east-2" : "us-west-2";
    return { statusCode: 200, region, role: this.active };
  }

  private record(call: string): void {
    this.calls.push(call);
    const fault = this.options.throwOnCall;
    if (fault && this.calls.length === fault.call) throw fault.error;
  }

  private start(kind: "failover" | "failback", mode: "planned" | "unplanned"): TriggerResponse {
    const operationId = `op-${this.operations.size + 1}`;
    this.operations.set(operationId, {
      operationId,
      kind,
      mode,
      reason: "drill",
      requestedAt: "2026-01-05T09:00:00.000Z",
      requestedBy: "arn:aws:sts::111122223333:assumed-role/shopsmart-prod-dr-run-drill/x",
      status: "running",
      steps: [],
    });
    return { dryRun: false, operationId, statusUrl: `/operations/${operationId}` };
  }
}

/** Keeps every object written, by key. */
export class MemoryObjectWriter implements ObjectWriter {
  readonly objects = new Map<string, PutObjectRequest>();

  async putObject(request: PutObjectRequest): Promise<void> {
    this.objects.set(request.key, request);
  }
}

/** A clock that moves only when told to. */
export function manualClock(start = Date.parse("2026-01-07T06:00:00Z")) {
  let now = start;
  return {
    now: () => new Date(now),
    advance(seconds: number) {
      now += seconds * 1000;
    },
  };
}
