/**
 * A simulated pair of AWS regions for the failover automation: the in-memory state of both
 * regions (Aurora global database, Auto Scaling groups, Route 53 failover records and health
 * checks, SSM parameters, the ledger table, the SNS topic, the state machine, Lambda functions,
 * the replication-lag metric), one entry point that answers SDK commands as the services do
 * ({@link RegionPair.call}), fault injection, and a log of every call.
 *
 * Transport-agnostic: the local drill and the tests (tests/support/simulated-aws.ts) bind it to
 * the SDK clients' `send` ({@link installSimulatedTransport}). Every delay is a
 * timer on a {@link SimulatedClock}.
 */
import {
  DR_METRIC_NAMESPACE,
  TRAFFIC_FENCE_METRIC,
  trafficFenceDimensions,
} from "../../functions/shared/dr-metrics";
import { perRole, REGION_ROLES, type RegionRole } from "../../functions/shared/region-roles";
import {
  DATABASE_NAME_PARAMETER,
  DEFAULT_DATABASE_NAME,
  READER_ENDPOINT_PARAMETER,
  REGION_ROLE_PARAMETER,
  writerEndpointParameterName,
} from "../../functions/shared/resource-names";
import type { AutomationSettings } from "../../functions/shared/settings";
import { AutoScalingSimulation } from "./auto-scaling";
import { SimulatedClock } from "./clock";
import { CloudWatchSimulation, type LagSource } from "./cloudwatch";
import { DynamoDbSimulation } from "./dynamodb";
import {
  responseMetadata,
  type ServiceName,
  SimulatorUnsupportedError,
  serverError,
  throttlingError,
  type UnreachableFailure,
  unreachableError,
} from "./errors";
import { LambdaSimulation, type LocalFunction } from "./lambda";
import { RdsSimulation } from "./rds";
import { Route53Simulation } from "./route53";
import { SnsSimulation } from "./sns";
import { SsmSimulation } from "./ssm";
import { StepFunctionsSimulation } from "./step-functions";

/** How long things take in the simulated world. */
export interface SimulationTimings {
  /** SwitchoverGlobalCluster until the target writes. @default 60_000 (envs: databasePromotionSeconds) */
  readonly switchoverMs: number;
  /** FailoverGlobalCluster (AllowDataLoss) until the target writes. @default 60_000 */
  readonly failoverMs: number;
  /** RemoveFromGlobalCluster until the detached cluster writes. @default 60_000 */
  readonly detachMs: number;
  /** FailoverState stays `pending` this long. @default 5_000 */
  readonly failoverPendingMs: number;
  /**
   * Extra switchover time per ms of replication lag at the call (Aurora first lets the target
   * catch up; AWS documents the proportionality but no rate). The game day uses
   * rate of game-day.ts; 0 keeps scenario timings exact. @default 0
   */
  readonly switchoverMsPerLagMs: number;
  /** A launched instance until InService. @default 90_000 (envs: scaleUpSeconds) */
  readonly instanceWarmupMs: number;
  /** A terminating instance until gone. @default 30_000 */
  readonly instanceTerminationMs: number;
  /** A Route 53 change from PENDING to INSYNC. @default 30_000 */
  readonly dnsPropagationMs: number;
  /**
   * A `TrafficFenced` datapoint until the region's fence health check follows it. Route 53
   * evaluates the alarm's data stream, not its state, and documents no delay
   * (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-types.html); one
   * 60-second alarm period is assumed. @default 60_000
   */
  readonly fenceHealthMs: number;
  /**
   * Route 53's health checkers: seconds between their requests and how many failed (or passed)
   * in a row change an endpoint's verdict ("the number of consecutive health checks that an
   * endpoint must pass or fail for Route 53 to change the current status",
   * https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-creating-values.html).
   * @default 10_000 and 3 (envs: dns.healthCheck)
   */
  readonly healthCheckIntervalMs: number;
  readonly healthCheckFailureThreshold: number;
  /** Simulated time every successful call takes. @default 0 */
  readonly callLatencyMs: number;
}

export const DEFAULT_TIMINGS: SimulationTimings = {
  switchoverMs: 60_000,
  failoverMs: 60_000,
  detachMs: 60_000,
  failoverPendingMs: 5_000,
  switchoverMsPerLagMs: 0,
  instanceWarmupMs: 90_000,
  instanceTerminationMs: 30_000,
  dnsPropagationMs: 30_000,
  fenceHealthMs: 60_000,
  healthCheckIntervalMs: 10_000,
  healthCheckFailureThreshold: 3,
  callLatencyMs: 0,
};

/**
 * Where Route 53's control plane (its whole public API) runs: "For Route 53 public and private
 * DNS and health checks, the control plane is located in the us-east-1 AWS Region and the data
 * planes are globally distributed"
 * (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/route-53-concepts.html). So a
 * Route 53 API call fails with us-east-1 down, while DNS answers and health checkers go on.
 */
export const ROUTE53_CONTROL_PLANE_REGION = "us-east-1";

export interface RegionPairOptions {
  /** The automation settings the handlers under test read (see simulatedSettings()). */
  readonly settings: AutomationSettings;
  /** @default - a new clock in auto-advance mode */
  readonly clock?: SimulatedClock;
  readonly timings?: Partial<SimulationTimings>;
  /**
   * The region that writes, serves traffic (PRIMARY record) and runs active capacity.
   * @default - the settings' primaryRecordRegion (the environment's activeRegion)
   */
  readonly active?: RegionRole;
  /** AuroraGlobalDBReplicationLag of the secondary cluster. @default 800 */
  readonly replicationLagMs?: number;
  /** Aurora PostgreSQL version. @default "16.8" */
  readonly engineVersion?: string;
  /** The hosted zone's name. @default - recordName without its first label */
  readonly zoneName?: string;
}

/** One SDK command as the simulation saw it. */
export interface CallRecord {
  readonly service: ServiceName;
  readonly region: string;
  readonly operation: string;
  readonly input: unknown;
  /** Simulated time of the call, epoch ms. */
  readonly at: number;
  outcome?: "ok" | "error";
  /** The error name when the call failed. */
  error?: string;
}

/** Selects calls (all fields optional). */
export interface CallFilter {
  readonly service?: ServiceName;
  readonly operation?: string;
  /** A region id, or a role of the pair. */
  readonly region?: string | RegionRole;
}

/** Operations that change state in AWS; a dry run must make none of them. */
export const MUTATING_OPERATIONS: ReadonlySet<string> = new Set([
  "SwitchoverGlobalCluster",
  "FailoverGlobalCluster",
  "RemoveFromGlobalCluster",
  "UpdateAutoScalingGroup",
  "SetDesiredCapacity",
  "ChangeResourceRecordSets",
  "PutMetricData",
  "SetAlarmState",
  "PutParameter",
  "PutItem",
  "UpdateItem",
  "DeleteItem",
  "TransactWriteItems",
  "Publish",
  "StartExecution",
  "StopExecution",
]);

/** Options of {@link RegionPair.regionDown}. */
export interface RegionDownOptions {
  /** How calls fail. @default "timeout" */
  readonly failure?: UnreachableFailure;
  /**
   * Simulated time a failing call takes before it rejects (the SDK's connect timeouts and
   * retries; without a configured connectionTimeout a TCP connect can take minutes). @default 0
   */
  readonly callMs?: number;
}

interface InjectedFault {
  readonly filter: CallFilter;
  remaining: number;
  readonly error: (call: { service: ServiceName; region: string; operation: string }) => Error;
}

export class RegionPair {
  readonly settings: AutomationSettings;
  readonly clock: SimulatedClock;
  readonly timings: SimulationTimings;
  /** Every call, in order. */
  readonly calls: CallRecord[] = [];

  readonly rds: RdsSimulation;
  readonly autoScaling: AutoScalingSimulation;
  readonly route53: Route53Simulation;
  readonly ssm: SsmSimulation;
  readonly dynamodb: DynamoDbSimulation;
  readonly sns: SnsSimulation;
  readonly stepFunctions: StepFunctionsSimulation;
  readonly lambda: LambdaSimulation;
  readonly cloudWatch: CloudWatchSimulation;

  private readonly down = new Map<string, Required<RegionDownOptions>>();
  /** Regions whose endpoints the automation cannot reach, though they are up (a partition). */
  private readonly partitioned = new Map<string, Required<RegionDownOptions>>();
  /** Roles whose web tier serves nothing while their region's APIs and database are fine. */
  private readonly webTierDown = new Set<RegionRole>();
  private readonly faults: InjectedFault[] = [];
  /** Route 53's verdict per endpoint and the run of checks that disagree with it. */
  private readonly checkers = {
    primary: { healthy: true, disagreeing: 0 },
    secondary: { healthy: true, disagreeing: 0 },
  };
  /** Set while only Route 53's API is down ({@link RegionPair.route53ApiDown}). */
  private route53ApiOutage: Required<RegionDownOptions> | undefined;
  private promotionDelayMs = 0;
  private lagMs: number;

  constructor(options: RegionPairOptions) {
    const { settings } = options;
    this.settings = settings;
    this.clock = options.clock ?? new SimulatedClock({ autoAdvance: true });
    this.timings = { ...DEFAULT_TIMINGS, ...options.timings };
    this.lagMs = options.replicationLagMs ?? 800;
    const active = options.active ?? settings.primaryRecordRegion;
    const accountId = settings.regions.primary.clusterArn.split(":")[4] ?? "123456789012";
    const { primary, secondary } = settings.regions;

    this.rds = new RdsSimulation(
      {
        accountId,
        globalClusterIdentifier: settings.globalClusterIdentifier,
        clusters: {
          primary: {
            role: "primary",
            region: primary.region,
            identifier: primary.clusterIdentifier,
            arn: primary.clusterArn,
          },
          secondary: {
            role: "secondary",
            region: secondary.region,
            identifier: secondary.clusterIdentifier,
            arn: secondary.clusterArn,
          },
        },
        initialWriter: active,
        engineVersion: options.engineVersion ?? "16.8",
        timings: {
          switchoverMs: this.timings.switchoverMs,
          failoverMs: this.timings.failoverMs,
          detachMs: this.timings.detachMs,
          pendingMs: this.timings.failoverPendingMs,
          switchoverMsPerLagMs: this.timings.switchoverMsPerLagMs,
        },
      },
      {
        clock: this.clock,
        isRegionUp: (region) => this.isRegionUp(region),
        extraPromotionMs: () => this.promotionDelayMs,
        replicationLagMs: () => this.lagMs,
      },
    );

    this.autoScaling = new AutoScalingSimulation(
      REGION_ROLES.map((role) => ({
        role,
        region: settings.regions[role].region,
        name: settings.regions[role].autoScalingGroupName,
        accountId,
        initial:
          role === active
            ? settings.regions[role].activeCapacity
            : settings.regions[role].standbyCapacity,
      })),
      this.clock,
      {
        instanceWarmupMs: this.timings.instanceWarmupMs,
        instanceTerminationMs: this.timings.instanceTerminationMs,
      },
    );

    this.route53 = new Route53Simulation(
      {
        hostedZoneId: settings.hostedZoneId,
        zoneName: options.zoneName ?? settings.recordName.split(".").slice(1).join("."),
        recordName: settings.recordName,
        targets: {
          primary: {
            role: "primary",
            loadBalancer: primary.loadBalancer,
            healthCheckId: primary.healthCheckId,
          },
          secondary: {
            role: "secondary",
            loadBalancer: secondary.loadBalancer,
            healthCheckId: secondary.healthCheckId,
          },
        },
        initialActive: active,
        propagationMs: this.timings.dnsPropagationMs,
      },
      {
        clock: this.clock,
        isEndpointHealthy: (role) => this.healthCheckVerdict(role),
        isFenced: (role) => this.isFenced(role),
      },
    );

    this.ssm = new SsmSimulation(accountId, this.clock);
    for (const role of REGION_ROLES) {
      const region = settings.regions[role].region;
      const path = settings.parameterPath;
      this.ssm.seed(region, writerEndpointParameterName(path), this.rds.globalWriterEndpoint);
      this.ssm.seed(
        region,
        `${path}${READER_ENDPOINT_PARAMETER}`,
        this.rds.cluster(role).readerEndpoint,
      );
      this.ssm.seed(region, `${path}${DATABASE_NAME_PARAMETER}`, DEFAULT_DATABASE_NAME);
      this.ssm.seed(region, `${path}${REGION_ROLE_PARAMETER}`, role);
    }

    this.dynamodb = new DynamoDbSimulation([
      { name: settings.ledgerTableName, region: secondary.region, accountId, partitionKey: "pk" },
    ]);
    this.sns = new SnsSimulation([settings.topicArn], this.clock);
    this.stepFunctions = new StepFunctionsSimulation([settings.stateMachineArn], this.clock);
    this.lambda = new LambdaSimulation(accountId, () => this.clock.now());
    for (const role of REGION_ROLES) {
      this.checkers[role].healthy = this.isEndpointHealthy(role);
    }
    this.scheduleHealthCheckers();
    this.cloudWatch = new CloudWatchSimulation(
      {
        lagSources: () => this.lagSources(),
        healthCheckStatus: (id) => {
          const role = REGION_ROLES.find(
            (candidate) => settings.regions[candidate].healthCheckId === id,
          );
          return role === undefined ? undefined : this.healthCheckVerdict(role) ? 1 : 0;
        },
        isRegionUp: (region) => this.isRegionUp(region),
      },
      () => this.clock.now(),
    );
  }

  // -------------------------------------------------------------------------------------------
  // The SDK entry point

  /**
   * Answers one SDK command the way the service in `region` would: output with `$metadata`, or
   * the error the SDK would throw. Records the call. Route 53 is global (`region` is only logged).
   */
  async call(
    service: ServiceName,
    operation: string,
    input: unknown,
    region: string,
  ): Promise<unknown> {
    const record: CallRecord = {
      service,
      region,
      operation,
      input: cloneInput(input),
      at: this.clock.now(),
    };
    this.calls.push(record);
    try {
      const output = await this.dispatch(
        service,
        operation,
        (input ?? {}) as Record<string, unknown>,
        region,
      );
      record.outcome = "ok";
      return { ...(output as object), $metadata: responseMetadata(200) };
    } catch (error) {
      record.outcome = "error";
      record.error = error instanceof Error ? error.name : String(error);
      throw error;
    }
  }

  private async dispatch(
    service: ServiceName,
    operation: string,
    input: Record<string, unknown>,
    region: string,
  ): Promise<unknown> {
    // Route 53's API is served from us-east-1 whatever region the client names.
    const host = service === "route53" ? ROUTE53_CONTROL_PLANE_REGION : region;
    const outage =
      this.down.get(host) ??
      this.partitioned.get(host) ??
      (service === "route53" ? this.route53ApiOutage : undefined);
    if (outage) {
      if (outage.callMs > 0)
        await this.clock.sleep(outage.callMs, `${service} ${operation} times out`);
      throw unreachableError(service, region, outage.failure);
    }
    const fault = this.faults.find(
      (candidate) =>
        candidate.remaining > 0 && this.matches(candidate.filter, service, operation, region),
    );
    if (fault) {
      fault.remaining -= 1;
      throw fault.error({ service, region, operation });
    }
    if (this.timings.callLatencyMs > 0)
      await this.clock.sleep(this.timings.callLatencyMs, `${service} ${operation}`);
    switch (service) {
      case "rds":
        return this.rds.handle(operation, input, region);
      case "autoscaling":
        return this.autoScaling.handle(operation, input, region);
      case "route53":
        return this.route53.handle(operation, input);
      case "ssm":
        return this.ssm.handle(operation, input, region);
      case "dynamodb":
        return this.dynamodb.handle(operation, input, region);
      case "sns":
        return this.sns.handle(operation, input, region);
      case "sfn":
        return this.stepFunctions.handle(operation, input, region);
      case "lambda":
        return this.lambda.handle(operation, input, region);
      case "cloudwatch":
        return this.cloudWatch.handle(operation, input, region);
      default:
        throw new SimulatorUnsupportedError(`service ${String(service)} is not modelled`);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Faults

  /**
   * Takes a region down: every call to its endpoints rejects as unreachable (a TimeoutError by
   * default), its health check fails, its instances stop serving. Route 53 (global) still answers.
   */
  regionDown(region: string | RegionRole, options: RegionDownOptions = {}): void {
    this.down.set(this.regionId(region), {
      failure: options.failure ?? "timeout",
      callMs: options.callMs ?? 0,
    });
  }

  /**
   * A partition between the regions: every call the automation (in the secondary region) makes to
   * `region`'s endpoints fails as unreachable, while the region itself is up: its database keeps
   * writing and replicating, its web tier serves, and Route 53's health checkers, which probe from
   * their own locations, see it healthy.
   */
  partition(region: string | RegionRole, options: RegionDownOptions = {}): void {
    this.partitioned.set(this.regionId(region), {
      failure: options.failure ?? "timeout",
      callMs: options.callMs ?? 0,
    });
  }

  /**
   * Route 53's control plane fails alone (every Route 53 API call is unreachable), while its DNS
   * answers and health checkers, the data plane, go on.
   */
  route53ApiDown(options: RegionDownOptions = {}): void {
    this.route53ApiOutage = { failure: options.failure ?? "timeout", callMs: options.callMs ?? 0 };
  }

  /** Ends {@link route53ApiDown}. */
  route53ApiUp(): void {
    this.route53ApiOutage = undefined;
  }

  /**
   * Whether Route 53 treats the region's record as fenced: the latest `TrafficFenced` datapoint
   * of the region, in the automation's region, that its health check has had time to follow
   * (`fenceHealthMs`), is 1. No datapoint, or the metric's region unreachable for Route 53:
   * the last known status stands (`LastKnownStatus`, healthy when there was none).
   */
  isFenced(role: RegionRole): boolean {
    const value = this.cloudWatch.latestValue(
      this.settings.regions.secondary.region,
      DR_METRIC_NAMESPACE,
      TRAFFIC_FENCE_METRIC,
      trafficFenceDimensions(this.settings.namePrefix, role),
      this.clock.now() - this.timings.fenceHealthMs,
    );
    return value !== undefined && value >= 1;
  }

  /** Ends {@link partition}. */
  heal(region: string | RegionRole): void {
    this.partitioned.delete(this.regionId(region));
  }

  /** Brings a region back; an old primary demoted while it was down resynchronizes. */
  regionUp(region: string | RegionRole): void {
    const id = this.regionId(region);
    this.down.delete(id);
    this.rds.regionRecovered(id);
  }

  isRegionUp(region: string | RegionRole): boolean {
    return !this.down.has(this.regionId(region));
  }

  /** Whether the automation's region reaches `region`'s endpoints (no {@link partition}). */
  isReachableFromAutomation(region: string | RegionRole): boolean {
    return !this.partitioned.has(this.regionId(region));
  }

  /**
   * Only the region's web tier fails (a bad deploy, say): its load balancer answers health checks
   * with errors, so its Route 53 health check fails, while its APIs and its database are fine.
   */
  webTierFails(role: RegionRole): void {
    this.webTierDown.add(role);
  }

  /** Ends {@link webTierFails}. */
  webTierRecovers(role: RegionRole): void {
    this.webTierDown.delete(role);
  }

  /**
   * The next `times` matching calls fail with the service's throttling error (`Throttling` on the
   * Query/REST-XML APIs, `ThrottlingException` on the JSON ones, HTTP 400; Lambda
   * `TooManyRequestsException`, 429). Note the SDK would retry these itself (3 attempts by
   * default) before a caller sees one; the simulation hands each straight to the caller.
   */
  throttle(
    service: ServiceName,
    operation?: string,
    times = 1,
    region?: string | RegionRole,
  ): void {
    this.injectFault(
      { service, ...(operation ? { operation } : {}), ...(region ? { region } : {}) },
      times,
      ({ service: failing }) => throttlingError(failing),
    );
  }

  /** The next `times` matching calls fail with a 5xx (`ServiceUnavailable`, 503). */
  serverErrors(
    service: ServiceName,
    operation?: string,
    times = 1,
    region?: string | RegionRole,
  ): void {
    this.injectFault(
      { service, ...(operation ? { operation } : {}), ...(region ? { region } : {}) },
      times,
      ({ service: failing }) => serverError(failing),
    );
  }

  /** The next `times` calls matching `filter` fail with the error `make` returns. */
  injectFault(
    filter: CallFilter,
    times: number,
    make: (call: { service: ServiceName; region: string; operation: string }) => Error,
  ): void {
    this.faults.push({ filter, remaining: times, error: make });
  }

  /** Every database promotion (switchover, failover, detach) takes `extraMs` longer. */
  slowPromotion(extraMs: number): void {
    this.promotionDelayMs = extraMs;
  }

  /** Sets the AuroraGlobalDBReplicationLag the secondary reports (and a failover would lose). */
  setReplicationLag(ms: number): void {
    this.lagMs = ms;
  }

  // -------------------------------------------------------------------------------------------
  // Lambda functions

  /** Makes a handler invocable through Lambda Invoke by name in the secondary region. */
  registerFunction(
    name: string,
    handler: LocalFunction,
    region: string | RegionRole = "secondary",
  ): void {
    this.lambda.register(name, this.regionId(region), handler);
  }

  // -------------------------------------------------------------------------------------------
  // Reading the state

  /** Calls matching a filter, in order. */
  callsTo(filter: CallFilter = {}): CallRecord[] {
    return this.calls.filter((call) =>
      this.matches(filter, call.service, call.operation, call.region),
    );
  }

  /** Calls that change state in AWS ({@link MUTATING_OPERATIONS}), in order. */
  mutatingCalls(): CallRecord[] {
    return this.calls.filter((call) => MUTATING_OPERATIONS.has(call.operation));
  }

  /** The region id of a role, or the argument when it already is a region id. */
  regionId(region: string | RegionRole): string {
    return region === "primary" || region === "secondary"
      ? this.settings.regions[region].region
      : region;
  }

  /** The role of a region id, or undefined for a region outside the pair. */
  roleOf(region: string): RegionRole | undefined {
    if (region === this.settings.regions.primary.region) return "primary";
    if (region === this.settings.regions.secondary.region) return "secondary";
    return undefined;
  }

  /**
   * Whether a region's load balancer answers health checks: region up, web tier not failing, an
   * instance InService.
   */
  isEndpointHealthy(role: RegionRole): boolean {
    return (
      this.isRegionUp(role) &&
      !this.webTierDown.has(role) &&
      this.autoScaling.group(role).inService > 0
    );
  }

  /**
   * Route 53's current verdict on a region's endpoint check: it follows the endpoint's real
   * health ({@link isEndpointHealthy}) only after `healthCheckFailureThreshold` checks in a row
   * disagree, so an outage reaches DNS interval x threshold later (30 s by default).
   */
  healthCheckVerdict(role: RegionRole): boolean {
    return this.checkers[role].healthy;
  }

  /** One round of Route 53's checks every interval; a scheduled event, so it never makes time pass. */
  private scheduleHealthCheckers(): void {
    const { healthCheckIntervalMs, healthCheckFailureThreshold } = this.timings;
    const round = () => {
      for (const role of REGION_ROLES) {
        const checker = this.checkers[role];
        if (this.isEndpointHealthy(role) === checker.healthy) {
          checker.disagreeing = 0;
        } else if (++checker.disagreeing >= healthCheckFailureThreshold) {
          checker.healthy = !checker.healthy;
          checker.disagreeing = 0;
        }
      }
      this.clock.schedule(healthCheckIntervalMs, round, "Route 53 health checkers");
    };
    this.clock.schedule(healthCheckIntervalMs, round, "Route 53 health checkers");
  }

  /** A summary of both regions for assertions and the drill report. */
  snapshot() {
    const parameter = (role: RegionRole) =>
      this.ssm.value(this.regionId(role), writerEndpointParameterName(this.settings.parameterPath));
    return {
      at: this.clock.isoString(),
      regionsDown: REGION_ROLES.filter((role) => !this.isRegionUp(role)),
      database: {
        globalStatus: this.rds.globalStatus(),
        globalWriter: this.rds.globalWriter(),
        clusters: perRole((role) => {
          const cluster = this.rds.cluster(role);
          return {
            status: cluster.status,
            writable: cluster.writable,
            member: this.rds.isMember(role),
          };
        }),
        writerEndpointParameter: perRole(parameter),
      },
      dns: {
        primaryRecord: this.route53.primaryRecordTarget(),
        secondaryRecord: this.route53.secondaryRecordTarget(),
        answering: this.route53.answeringRegion(),
        fenced: perRole((role) => this.isFenced(role)),
      },
      capacity: perRole((role) => {
        const { minSize, desiredCapacity, maxSize, inService } = this.autoScaling.group(role);
        return { minSize, desiredCapacity, maxSize, inService };
      }),
      notifications: this.sns.published.length,
    };
  }

  private lagSources(): LagSource[] {
    const writer = this.rds.globalWriter();
    return REGION_ROLES.filter(
      (role) => role !== writer && this.rds.isMember(role) && this.isRegionUp(role),
    ).map((role) => ({
      region: this.regionId(role),
      clusterIdentifier: this.rds.cluster(role).identifier,
      sourceRegion: this.regionId(writer),
      lagMs: this.lagMs,
    }));
  }

  private matches(
    filter: CallFilter,
    service: ServiceName,
    operation: string,
    region: string,
  ): boolean {
    return (
      (filter.service === undefined || filter.service === service) &&
      (filter.operation === undefined || filter.operation === operation) &&
      (filter.region === undefined || this.regionId(filter.region) === region)
    );
  }
}

function cloneInput(input: unknown): unknown {
  try {
    return structuredClone(input);
  } catch {
    return input;
  }
}
