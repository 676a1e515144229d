/**
 * A scripted {@link OperationsApi} for the drill's tests (the driver, the CLI, the run-drill
 * Lambda): a two-region world where a POST starts an operation that succeeds (or fails) after a
 * number of polls, moves the writer and, a number of health reads later (the DNS TTL), the
 * public name.
 */
import type { OperationRecord } from "../../functions/shared/operation";
import {
  type AppHealth,
  type OperationsApi,
  OperationsApiError,
  type StatusResponse,
  type TriggerResponse,
} from "../../functions/shared/operations-api";
import type { RegionRole } from "../../functions/shared/region-roles";

export const REGIONS = { primary: "us-east-2", secondary: "us-west-2" } as const;

export interface FakeWorldOptions {
  /** The environment GET /status names. @default "staging" */
  environment?: string;
  /** Polls of GET /operations/{id} until an operation ends. @default 3 */
  pollsToFinish?: number;
  /** Results of successive operations: "succeed" (default when the list runs out) or "fail". */
  outcomes?: ("succeed" | "fail")[];
  /** Health reads after a switch during which the public name still answers from the old region. @default 0 */
  dnsLagReads?: number;
  /** Replication lag GET /status reports. @default 0.5 */
  lagSeconds?: number | null;
  /** Data loss an unplanned failover records. @default the lag */
  activeRegion?: RegionRole;
  health?: Partial<Record<RegionRole, "healthy" | "unhealthy">>;
  /** A running operation that makes every POST a 409. */
  runningOperationId?: string;
  /** Plan blockers of a dry run. */
  blockers?: string[];
  /** GET /status throws this. */
  statusError?: OperationsApiError;
  /** Health reads during which the app answering still sees the writer elsewhere. @default 0 */
  appWriterLagReads?: number;
  /** What the app says about the writer once it has caught up. @default "here" */
  appWriter?: "here" | "unknown";
  /**
   * The automatic failover (requestedBy `eventbridge:...`) appears as the latest operation on
   * this GET /status read, as the standby side's detection would start it. @default never
   */
  automaticFailoverOnStatusRead?: number;
}

export class FakeWorld implements OperationsApi {
  active: RegionRole;
  answering: RegionRole;
  readonly calls: string[] = [];
  readonly operations = new Map<string, OperationRecord>();
  private readonly polls = new Map<string, number>();
  private dnsLag = 0;
  private started = 0;

  constructor(private readonly options: FakeWorldOptions = {}) {
    this.active = options.activeRegion ?? "primary";
    this.answering = this.active;
  }

  async failover(request: { mode: "planned" | "unplanned"; reason: string; dryRun?: boolean }) {
    return this.trigger("failover", request.mode, request.reason, request.dryRun);
  }

  async failback(request: { reason: string; dryRun?: boolean }) {
    return this.trigger("failback", "planned", request.reason, request.dryRun);
  }

  async status(): Promise<StatusResponse> {
    this.calls.push("status");
    if (this.options.statusError) throw this.options.statusError;
    this.statusReads++;
    if (this.statusReads === this.options.automaticFailoverOnStatusRead) {
      this.started++;
      const operationId = `op-${this.started}`;
      this.operations.set(operationId, {
        operationId,
        kind: "failover",
        mode: "unplanned",
        reason: "automatic: shopsmart-staging-dr-primary-down in ALARM",
        requestedAt: "2026-01-05T09:03:00.000Z",
        requestedBy: "eventbridge:shopsmart-staging-dr-auto-failover",
        status: "running",
        steps: [],
      });
    }
    const health = { primary: "healthy", secondary: "healthy", ...this.options.health } as const;
    const latest = [...this.operations.values()].at(-1) ?? null;
    return {
      environment: this.options.environment ?? "staging",
      activeRegion: this.active,
      regions: REGIONS,
      database: {
        globalClusterIdentifier: "shopsmart-staging-global",
        status: "available",
        writerRegion: this.active,
        members: {} as StatusResponse["database"]["members"],
        replicationLagSeconds: this.lag(),
        failover: null,
      },
      dns: { recordName: "shop.example.com", health },
      capacity: { primary: null, secondary: null },
      latestOperation: this.options.runningOperationId
        ? ({
            operationId: this.options.runningOperationId,
            status: "running",
            kind: "failover",
          } as OperationRecord)
        : latest,
      unreachable: [],
      notes: [],
    };
  }

  async operation(operationId: string): Promise<OperationRecord> {
    this.calls.push(`operation ${operationId}`);
    const record = this.operations.get(operationId);
    if (!record) throw new OperationsApiError("not-found", `no operation ${operationId}`);
    if (record.status !== "running") return record;
    const polls = (this.polls.get(operationId) ?? 0) + 1;
    this.polls.set(operationId, polls);
    record.steps = [{ name: "PromoteDatabase", status: polls >= 2 ? "succeeded" : "running" }];
    if (polls < (this.options.pollsToFinish ?? 3)) return record;
    const outcome = this.options.outcomes?.[this.started - 1] ?? "succeed";
    if (outcome === "fail") {
      Object.assign(record, { status: "failed", error: "PromoteDatabase: Retryable.Timeout" });
      return record;
    }
    this.active = record.kind === "failover" ? "secondary" : "primary";
    this.dnsLag = this.options.dnsLagReads ?? 0;
    Object.assign(record, {
      status: "succeeded",
      rtoSeconds: 95,
      dataLossSeconds: record.mode === "planned" ? 0 : this.lag(),
    });
    return record;
  }

  async appHealth(): Promise<AppHealth> {
    this.calls.push("appHealth");
    if (this.answering !== this.active) {
      if (this.dnsLag > 0) this.dnsLag--;
      else this.answering = this.active;
    }
    const lagging = (this.options.appWriterLagReads ?? 0) > this.appReads++;
    const writer = lagging ? "elsewhere" : (this.options.appWriter ?? "here");
    return {
      statusCode: 200,
      region: REGIONS[this.answering],
      role: this.answering,
      database: "reachable",
      writer,
      writable: writer === "here",
    };
  }

  private appReads = 0;
  private statusReads = 0;

  private lag(): number | null {
    return this.options.lagSeconds === undefined ? 0.5 : this.options.lagSeconds;
  }

  private async trigger(
    kind: "failover" | "failback",
    mode: "planned" | "unplanned",
    reason: string,
    dryRun: boolean | undefined,
  ): Promise<TriggerResponse> {
    this.calls.push(`${kind}${dryRun ? " (dry run)" : ""}`);
    if (dryRun) {
      return {
        dryRun: true,
        plan: {
          kind,
          mode,
          source: "primary",
          target: "secondary",
          writerRegion: this.active,
          replicationLagSeconds: this.lag(),
          rpoLagSeconds: this.lag(),
          health: { primary: "healthy", secondary: "healthy" },
          capacity: { primary: null, secondary: null },
          writerWait: { pageAfterSeconds: 310, reason: "fake" },
          steps: ["switch over the global database", "point the name at secondary"],
          blockers: this.options.blockers ?? [],
        },
      };
    }
    if (this.options.runningOperationId) {
      throw new OperationsApiError("conflict", "an operation is running", {
        statusCode: 409,
        operationId: this.options.runningOperationId,
      });
    }
    this.started++;
    const operationId = `op-${this.started}`;
    this.operations.set(operationId, {
      operationId,
      kind,
      mode,
      reason,
      requestedAt: "2026-01-05T09:00:00.000Z",
      requestedBy: "test",
      status: "running",
      steps: [],
    });
    return { dryRun: false, operationId, statusUrl: `/operations/${operationId}` };
  }
}

/** A clock that moves only when the drill sleeps. */
export function fakeClock(start = Date.parse("2026-01-05T09:00:00Z")) {
  let now = start;
  return {
    now: () => new Date(now),
    sleep: async (seconds: number) => {
      now += seconds * 1000;
    },
  };
}
