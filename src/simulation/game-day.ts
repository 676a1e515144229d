/**
 * The local game day: the drill run on this machine against a simulated pair of regions, so the
 * DR flow can be watched (and broken on purpose) before anything is deployed.
 *
 * What is real: the environment's synthesized state machine definition, run by the local state
 * machine runner; every Lambda handler, bundled by esbuild as for deployment but with the AWS SDK
 * loaded from node_modules (see bundled-handlers.ts); the operations API handler behind
 * {@link OperationsApi}; the drill driver and its report. What is simulated: AWS itself
 * (RegionPair, answering the SDK clients' `send`), the web app's health answer through the public
 * name, and time (a five-minute hold takes milliseconds).
 */
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { OutageTimeline } from "../../functions/orchestration/drill-report";
import type { OperationMode, OperationRecord } from "../../functions/shared/operation";
import {
  type AppHealth,
  asTriggerResponse,
  errorKindOfStatus,
  type OperationsApi,
  OperationsApiError,
  type StatusResponse,
  type TriggerResponse,
} from "../../functions/shared/operations-api";
import { apiGatewayEvent } from "./api-gateway-event";
import { loadBundledHandlers } from "./bundled-handlers";
import { installSimulatedDataPlane, simulatedHealthAnswer } from "./data-plane";
import {
  autoFailoverVariableOf,
  connectProbeSchedule,
  connectStackAutomaticFailoverRules,
  type ProbeSchedule,
  primaryDownAlarmOf,
} from "./event-rules";
import type { LocalFunction } from "./lambda";
import type { RegionPair, SimulationTimings } from "./region-pair";
import { installSimulatedTransport } from "./sdk-transport";
import { connectWorkflow, type SynthesizedResources } from "./workflow";

export const GAME_DAY_FAULTS = [
  "primary-region-down",
  "us-east-1-down",
  "route53-api-down",
  "web-tier-down",
  "partition",
  "slow-switchover",
  "trigger-while-locked",
  "throttle",
  "slow-promotion",
  "crash-mid-way",
] as const;

/** How long the primary stays dark in the trigger-while-locked fault. */
const TRIGGER_WHILE_LOCKED_OUTAGE_MS = 30 * 60_000;

/** Replication lag of the slow-switchover fault: a switchover waits for it to be caught up. */
export const SLOW_SWITCHOVER_LAG_MS = 90_000;
export type GameDayFault = (typeof GAME_DAY_FAULTS)[number];

/** What each fault does, for `--help` and the report. */
export const GAME_DAY_FAULT_DESCRIPTIONS: Record<GameDayFault, string> = {
  "primary-region-down":
    "the primary region goes dark as the drill starts (every call to it times out after 5 s, " +
    "its health check fails, and with it whatever of us-east-1 it is); nobody asks for a " +
    "failover: the secondary detects the outage and fails over by itself, the RTO runs from " +
    "the outage, and the region comes back during the hold",
  "us-east-1-down":
    "everything in us-east-1 goes dark, including what is hosted there: Route 53's API and " +
    "us-east-1's CloudWatch (DNS answers and health checkers go on: they are global). With the " +
    "primary in us-east-1 that is a primary outage, taken over by the secondary by itself; " +
    "otherwise a planned drill that must not need us-east-1",
  "route53-api-down":
    "only Route 53's API (its control plane, in us-east-1) fails; DNS answers and health " +
    "checkers go on. The planned failover and failback move traffic with the fence anyway",
  "web-tier-down":
    "only the primary's web tier fails (its health check fails; its APIs and database are fine); " +
    "the secondary detects it (endpoint and Route 53 agree) and fails over by itself, which " +
    "switches the database over without data loss; the web tier recovers during the hold",
  partition:
    "the automation's region cannot reach the primary region's endpoints (every call times out " +
    "after 5 s), while the primary is up and Route 53 sees it healthy; the drill asks for an " +
    "unplanned failover, which the plan refuses: no failover with data loss, no second writer, " +
    "nothing changed (verdict BLOCKED)",
  "slow-switchover":
    "the secondary lags 90 s behind, so each switchover first waits for it to catch up and takes " +
    "several times as long; the drill waits it out with the lock held and passes, or misses its " +
    "RTO target honestly, never a false failure",
  "trigger-while-locked":
    "the primary region dies while the drill's planned failover holds the lock, and the " +
    "primary-down alarm fires; the automatic failover is deferred, not lost, and starts as an " +
    "unplanned failover when the planned one ends (the drill itself reports its planned " +
    "failover failed)",
  throttle:
    "the first 3 SwitchoverGlobalCluster calls and the first 2 PutMetricData calls (the traffic " +
    "fence) are throttled; the workflow's retries ride them out and the RTO grows by the back-off",
  "slow-promotion":
    "every database promotion takes the RTO target longer than usual; the drill completes but " +
    "misses its RTO target",
  "crash-mid-way":
    "the first failover execution dies right after it requested the promotion; the drill sees " +
    "the operation fail and starts it again, which resumes without repeating any action",
};

/** The simulated IAM caller of the game day's API requests. */
export const GAME_DAY_CALLER_ARN = "arn:aws:iam::123456789012:user/game-day";

export interface GameDayOptions {
  /** The pair to run against (its settings must match the stack's environment). */
  readonly pair: RegionPair;
  /** The environment's synthesized stack: its state machine is what runs. */
  readonly stack: SynthesizedResources;
  readonly fault?: GameDayFault;
  /** Where functions/ lives. @default process.cwd() */
  readonly root?: string;
}

export interface GameDay {
  readonly api: OperationsApi;
  /** The failover mode the fault calls for (unplanned when the primary region is down). */
  readonly mode: OperationMode;
  /**
   * The fault is an outage the automation must take over by itself: the drill requests no
   * failover, it waits for the automatic one (DrillOptions.awaitAutomatic).
   */
  readonly awaitAutomatic: boolean;
  /** The outage measured from its start (outage faults only). */
  outage(): OutageTimeline | undefined;
  /** Simulated now. */
  now(): Date;
  /** Waits on simulated time. */
  sleep(seconds: number): Promise<void>;
  /**
   * Called by the runner after each drill tick with the phase now running; returns lines about
   * what the simulated world did (e.g. the primary region coming back during the hold).
   */
  onPhase(phase: string | undefined): string[];
  /**
   * After the drill: waits for every execution to end (an automatic failover the fault set off,
   * a fence waiting for its region) and returns what the simulated world did, for the report.
   */
  afterDrill(): Promise<string[]>;
  /** Restores the SDK, the environment, Date and timers. */
  close(): void;
}

/**
 * Connects the pair: SDK clients answered by it, the workflow run locally on StartExecution, the
 * fault injected. Call {@link GameDay.close} when done (also on failure).
 */
export async function startGameDay(options: GameDayOptions): Promise<GameDay> {
  const { pair, fault } = options;
  const restoreSdk = installSimulatedTransport(pair);
  const restoreDataPlane = installSimulatedDataPlane(pair);
  const restoreTransport = () => {
    restoreSdk();
    restoreDataPlane();
  };
  let disconnect: () => void = () => {};
  let disconnectRules: () => void = () => {};
  try {
    const handlers = loadBundledHandlers(options.root ?? process.cwd());
    let executions = 0;
    disconnect = await connectWorkflow(pair, {
      stack: options.stack,
      handlers,
      ...(options.root ? { root: options.root } : {}),
      ...(fault === "crash-mid-way"
        ? { crash: () => (executions++ === 0 ? { after: "PromoteDatabase" } : undefined) }
        : {}),
    });
    const operationsApi = handlers["operations-api"];
    // The stack's standby-side detection, as deployed: probe-primary every minute, the
    // primary-down alarm evaluated from its datapoints, the trigger and resume rules.
    const automatic = autoFailoverVariableOf(options.stack) !== undefined;
    const secondaryRegion = pair.settings.regions.secondary.region;
    let rules: ReturnType<typeof connectStackAutomaticFailoverRules> | undefined;
    let schedule: ProbeSchedule | undefined;
    if (automatic) {
      pair.cloudWatch.defineAlarm(primaryDownAlarmOf(options.stack, secondaryRegion));
      rules = connectStackAutomaticFailoverRules(pair, options.stack, handlers["auto-failover"]);
    }
    schedule = connectProbeSchedule(pair, handlers["probe-primary"]);
    disconnectRules = () => {
      schedule?.stop();
      rules?.disconnect();
    };
    const primaryIsUsEast1 = pair.settings.regions.primary.region === US_EAST_1;
    const outageFault =
      fault === "primary-region-down" ||
      fault === "web-tier-down" ||
      (fault === "us-east-1-down" && primaryIsUsEast1);
    const outage = outageFault
      ? watchOutage(pair, fault, rules?.alarmName, GAME_DAY_FAULT_PHRASES[fault])
      : undefined;
    injectFault(pair, fault);
    const primaryFails = outageFault;
    let recovered = !primaryFails;
    let regionKilled = false;
    let reportedOutcomes = 0;
    const api = localOperationsApi(pair, operationsApi);
    const newOutcomeLines = () => {
      const lines = (rules?.outcomes ?? [])
        .slice(reportedOutcomes)
        .map((outcome) => `simulation: auto-failover ${JSON.stringify(outcome)}`);
      reportedOutcomes = rules?.outcomes.length ?? 0;
      return lines;
    };
    return {
      api,
      mode: primaryFails || fault === "partition" ? "unplanned" : "planned",
      awaitAutomatic: outageFault && automatic,
      outage: () => outage?.timeline(),
      now: () => pair.clock.date(),
      sleep: (seconds) => pair.clock.sleep(seconds * 1000, "drill"),
      onPhase(phase) {
        if (fault === "trigger-while-locked" && rules) {
          const lines: string[] = [];
          if (!regionKilled && phase === "failover") {
            // The drill's planned failover has just started and holds the lock.
            regionKilled = true;
            pair.regionDown("primary", { failure: "timeout", callMs: 5_000 });
            // A half-hour outage: the old primary is fenced once it is back.
            pair.clock.schedule(
              TRIGGER_WHILE_LOCKED_OUTAGE_MS,
              () => pair.regionUp("primary"),
              "the primary region is back",
            );
            lines.push(
              `simulation: ${pair.settings.regions.primary.region} goes dark for 30 minutes while ` +
                "the planned failover holds the lock; the secondary's probes will see it",
            );
          }
          return [...lines, ...newOutcomeLines()];
        }
        if (recovered || phase !== "hold") return [];
        recovered = true;
        if (fault === "web-tier-down") {
          pair.webTierRecovers("primary");
          return [`simulation: the web tier in ${pair.settings.regions.primary.region} is back`];
        }
        pair.regionUp(fault === "us-east-1-down" ? US_EAST_1 : "primary");
        return [
          `simulation: ${pair.settings.regions.primary.region} is back; its database rejoins ` +
            "the global cluster as a secondary",
        ];
      },
      async afterDrill() {
        await pair.stepFunctions.settled();
        outage?.stop();
        if (!rules || !(fault === "trigger-while-locked" || outageFault)) return [];
        const lines = newOutcomeLines();
        for (const execution of pair.stepFunctions.executions) {
          const record = await api.operation(execution.name);
          const automatic = record.requestedBy.startsWith("eventbridge:") ? " (automatic)" : "";
          lines.push(
            `simulation: ${record.mode} ${record.kind} ${record.operationId}${automatic} ` +
              `${record.status}${record.error ? `: ${record.error}` : ""}`,
          );
        }
        const primaryGroup = pair.snapshot().capacity.primary;
        lines.push(
          `simulation: database writer in ${pair.rds.globalWriter()}; the old primary's group ` +
            `at ${primaryGroup.minSize}/${primaryGroup.desiredCapacity}/${primaryGroup.maxSize} ` +
            "(min/desired/max)",
        );
        return lines;
      },
      close() {
        outage?.stop();
        disconnectRules();
        disconnect();
        restoreTransport();
      },
    };
  } catch (error) {
    disconnectRules();
    disconnect();
    restoreTransport();
    throw error;
  }
}

/**
 * The game day's switchover catch-up rate: 2 s per second of replication lag. AWS says the lag
 * "is directly proportional to the time it takes for Aurora to complete the switchover"
 * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-disaster-recovery.html)
 * but gives no rate; 2 makes a lag of a minute or more visibly slow, as the slow-switchover fault
 * needs.
 */
export const GAME_DAY_SWITCHOVER_MS_PER_LAG_MS = 2;

/** Simulation timings from an environment's DR estimates and Route 53 health-check settings. */
export function gameDayTimings(
  estimates: { databasePromotionSeconds: number; scaleUpSeconds: number },
  healthCheck?: { intervalSeconds: number; failureThreshold: number },
): Partial<SimulationTimings> {
  return {
    ...(healthCheck
      ? {
          healthCheckIntervalMs: healthCheck.intervalSeconds * 1000,
          healthCheckFailureThreshold: healthCheck.failureThreshold,
        }
      : {}),
    switchoverMsPerLagMs: GAME_DAY_SWITCHOVER_MS_PER_LAG_MS,
    switchoverMs: estimates.databasePromotionSeconds * 1000,
    failoverMs: estimates.databasePromotionSeconds * 1000,
    detachMs: estimates.databasePromotionSeconds * 1000,
    instanceWarmupMs: estimates.scaleUpSeconds * 1000,
  };
}

function injectFault(pair: RegionPair, fault: GameDayFault | undefined): void {
  switch (fault) {
    case undefined:
      return;
    case "primary-region-down":
      pair.regionDown("primary", { failure: "timeout", callMs: 5_000 });
      return;
    case "us-east-1-down":
      pair.regionDown(US_EAST_1, { failure: "timeout", callMs: 5_000 });
      return;
    case "route53-api-down":
      pair.route53ApiDown({ failure: "timeout", callMs: 5_000 });
      return;
    case "web-tier-down":
      pair.webTierFails("primary");
      return;
    case "partition":
      pair.partition("primary", { failure: "timeout", callMs: 5_000 });
      return;
    case "slow-switchover":
      pair.setReplicationLag(SLOW_SWITCHOVER_LAG_MS);
      return;
    case "trigger-while-locked":
      // Injected by onPhase, once the drill's planned failover holds the lock.
      return;
    case "throttle":
      pair.throttle("rds", "SwitchoverGlobalCluster", 3);
      pair.throttle("cloudwatch", "PutMetricData", 2, "secondary");
      return;
    case "slow-promotion":
      pair.slowPromotion(pair.settings.rtoSeconds * 1000);
      return;
    case "crash-mid-way":
      // Injected by connectWorkflow's crash option above.
      return;
  }
}

/**
 * The operations API in-process: each call becomes the API Gateway (payload 2.0, IAM-authorized)
 * event the real handler receives, and each answer is mapped as the HTTP client maps it.
 */
export function localOperationsApi(pair: RegionPair, handler: LocalFunction): OperationsApi {
  async function call<Body>(method: "GET" | "POST", path: string, body?: unknown): Promise<Body> {
    const response = (await handler(
      apiGatewayEvent(method, path, body, GAME_DAY_CALLER_ARN),
      undefined as never,
    )) as APIGatewayProxyStructuredResultV2;
    const statusCode = response.statusCode ?? 500;
    const parsed = (response.body ? JSON.parse(response.body) : {}) as Record<string, unknown>;
    if (statusCode >= 200 && statusCode < 300) return parsed as Body;
    const message = `${method} ${path}: ${statusCode} ${String(parsed.error ?? "")}`;
    const text = (field: string) =>
      typeof parsed[field] === "string" ? { [field]: parsed[field] as string } : {};
    throw new OperationsApiError(errorKindOfStatus(statusCode), message, {
      statusCode,
      ...text("operationId"),
      ...text("field"),
    });
  }

  return {
    failover: (request) =>
      call<TriggerResponse>("POST", "/failover", request).then(asTriggerResponse),
    failback: (request) =>
      call<TriggerResponse>("POST", "/failback", request).then(asTriggerResponse),
    status: () => call<StatusResponse>("GET", "/status"),
    operation: (operationId) =>
      call<OperationRecord>("GET", `/operations/${encodeURIComponent(operationId)}`),
    appHealth: async () => simulatedAppHealth(pair),
  };
}

/**
 * What `https://<name>/health` answers: Route 53 resolves the failover record to the region it
 * answers with; that region's load balancer answers when an instance is in service there, and
 * the instance says which region it runs in and whether its database writes.
 */
function simulatedAppHealth(pair: RegionPair): AppHealth {
  const role = pair.route53.answeringRegion();
  const answer =
    role === null ? undefined : simulatedHealthAnswer(pair, role, { fromAutomation: false });
  if (answer === undefined) {
    throw new OperationsApiError(
      "timeout",
      `https://${pair.settings.recordName}/health did not answer: the name resolves to a region that is down`,
    );
  }
  if (answer.body === undefined) return { statusCode: answer.statusCode };
  // The app's own view (web-app-user-data.ts), as its load balancer answers it.
  const { region, database, writer, writable } = answer.body;
  return {
    statusCode: answer.statusCode,
    region,
    role: answer.body.role,
    database,
    writer,
    writable,
  };
}

const US_EAST_1 = "us-east-1";

/** How each outage fault is named in the report's outage section. */
const GAME_DAY_FAULT_PHRASES: Partial<Record<GameDayFault, string>> = {
  "primary-region-down": "the primary region goes dark",
  "us-east-1-down": "us-east-1 goes dark",
  "web-tier-down": "the primary's web tier fails",
};

/** How often the outage watcher looks at the world (simulated time). */
const OUTAGE_SAMPLE_MS = 5_000;

/**
 * Records the outage's milestones from its start: the primary-down alarm's ALARM, the first
 * automatic execution, the secondary's app accepting writes, the public name answering from the
 * secondary (sampled every 5 s: the milestones are at most that late).
 */
function watchOutage(
  pair: RegionPair,
  fault: GameDayFault | undefined,
  alarmName: string | undefined,
  phrase: string | undefined,
): { timeline(): OutageTimeline; stop(): void } {
  const iso = (ms: number) => new Date(ms).toISOString();
  const startedAt = pair.clock.now();
  let detectedAt: number | null = null;
  let writesAcceptedAt: number | null = null;
  let servedAt: number | null = null;
  let stopped = false;
  const removeListener = pair.cloudWatch.onAlarmStateChange((change) => {
    if (detectedAt === null && change.alarmName === alarmName && change.state === "ALARM") {
      detectedAt = change.at;
    }
  });
  let next = pair.clock.schedule(0, sample, "outage watcher");
  function sample() {
    if (stopped) return;
    const health = simulatedHealthAnswer(pair, "secondary");
    if (writesAcceptedAt === null && health?.body?.writable === true) {
      writesAcceptedAt = pair.clock.now();
    }
    if (
      servedAt === null &&
      pair.route53.answeringRegion() === "secondary" &&
      health?.statusCode === 200
    ) {
      servedAt = pair.clock.now();
    }
    if (writesAcceptedAt === null || servedAt === null) {
      next = pair.clock.schedule(OUTAGE_SAMPLE_MS, sample, "outage watcher");
    }
  }
  const decidedAt = () => {
    const started = pair
      .callsTo({ operation: "StartExecution" })
      .find(
        (call) =>
          call.outcome === "ok" &&
          call.at >= startedAt &&
          String((call.input as { input?: string }).input ?? "").includes(
            '"requestedBy":"eventbridge:',
          ),
      );
    return started?.at ?? null;
  };
  return {
    timeline: () => {
      const decided = decidedAt();
      return {
        fault: phrase ?? fault ?? "outage",
        startedAt: iso(startedAt),
        detectedAt: detectedAt === null ? null : iso(detectedAt),
        decidedAt: decided === null ? null : iso(decided),
        writesAcceptedAt: writesAcceptedAt === null ? null : iso(writesAcceptedAt),
        servedAt: servedAt === null ? null : iso(servedAt),
      };
    },
    stop() {
      stopped = true;
      pair.clock.cancel(next);
      removeListener();
    },
  };
}
