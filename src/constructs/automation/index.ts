import { existsSync } from "node:fs";
import { join } from "node:path";
import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Token } from "cdktf";
import { Construct } from "constructs";
import {
  DETECTION_SIGNALS,
  DR_METRIC_NAMESPACE,
  PROBE_TIMEOUT_SECONDS,
  primaryDownAlarmName,
} from "../../../functions/shared/dr-metrics";
// Types only, as above: the drill Lambda parses what the construct writes here.
import type { DrillSettings } from "../../../functions/shared/drill-settings";
import { perRole, REGION_ROLES, type RegionRole } from "../../../functions/shared/region-roles";
import {
  autoFailoverRuleName,
  drillReportBucketName,
  functionName,
  ledgerTableName,
  operationsApiName,
  resumeRuleName,
  stateMachineName as stateMachineNameOf,
  writerEndpointParameterName,
} from "../../../functions/shared/resource-names";
// Types only: infrastructure never loads Lambda code, but writes the settings the Lambdas parse.
import type { AutomationSettings, RegionSettings } from "../../../functions/shared/settings";
import {
  ACCOUNT_ID,
  DOMAIN_NAME,
  HEALTH_PATH,
  HOSTED_ZONE_ID,
  LOG_RETENTION_DAYS,
  LOG_RETENTION_DAYS_EXPECTED,
  lowerCaseNamePrefix,
  SSM_PARAMETER_PATH,
} from "../../aws-formats";
import { ProblemCollector } from "../../errors";
import { AutomaticFailoverTrigger, PrimaryDownDetection } from "./automatic-failover";
import { bundleFunctions, type LambdaBundle, PROJECT_ROOT } from "./bundling";
import { DRILL_METRIC_NAMESPACE, DrillAutomation, drillReportPrefix } from "./drill";
import {
  AUTOMATION_FUNCTIONS,
  FUNCTION_NAMES,
  type FunctionEnvironmentContext,
  type FunctionName,
  handlerEntry,
} from "./functions";
import { API_ROUTES, type ApiRoute, OperationsHttpApi } from "./http-api";
import { AutomationLambda } from "./lambda";
import { type AutomationResources, tracingStatement } from "./permissions";
import { executionsArnOf, OperationWorkflow, stateMachineArnOf } from "./workflow";

export type { LambdaBundle } from "./bundling";
export {
  AUTOMATION_FUNCTIONS,
  type AutomationFunctionSpec,
  FUNCTION_NAMES,
  type FunctionName,
  HANDLERS_DIR,
  handlerEntries,
  handlerEntry,
} from "./functions";

/** Auto Scaling sizes. */
export interface CapacitySizes {
  readonly minSize: number;
  readonly desiredCapacity: number;
  readonly maxSize: number;
}

/** What the automation needs to know about one region of the pair. */
export interface AutomationRegion {
  /** e.g. `us-east-2`. */
  readonly region: string;
  /** The region's Aurora cluster (`Database.clusters[role]`). */
  readonly clusterIdentifier: string;
  readonly clusterArn: string;
  /** The region's web Auto Scaling group (`Compute.autoScalingGroupName`). */
  readonly autoScalingGroupName: string;
  /** The region's load balancer, the alias target of the failover records. */
  readonly loadBalancer: { readonly dnsName: string; readonly zoneId: string };
  /** Route 53 health check of the region's endpoint (`Dns.healthCheckIds[role]`). */
  readonly healthCheckId: string;
  /** Sizes while this region serves traffic (config `compute.primary`). */
  readonly activeCapacity: CapacitySizes;
  /** Sizes while this region is the warm standby (config `compute.secondary`). */
  readonly standbyCapacity: CapacitySizes;
}

/** The scheduled DR drill (config `drill`). */
export interface AutomationDrill {
  /**
   * Whether the schedule starts drills. When false the schedule exists but is DISABLED; the
   * drill state machine can still be started by hand.
   */
  readonly enabled: boolean;
  /** EventBridge Scheduler cron expression, in UTC, e.g. `cron(0 6 ? * WED *)`. */
  readonly schedule: string;
  /** Minutes to stay failed over before failing back (the schedule's input). */
  readonly holdMinutes: number;
  /** The app's health path, which the drill reads through the public name. @default "/health" */
  readonly healthPath?: string;
  /** Days a drill report is kept. @default 365 */
  readonly reportRetentionDays?: number;
  /** Seconds between the drill's polls of a running operation. @default 10 */
  readonly pollSeconds?: number;
}

/** How the standby side decides that the primary is down, and whether that starts a failover. */
export interface AutomationAutomaticFailover {
  /** Whether the primary-down alarm starts an unplanned failover. */
  readonly enabled: boolean;
  /**
   * Minutes in a row probe-primary must find the primary down before the alarm fires: its
   * evaluation periods, at most 1440 (CloudWatch evaluates at most one day).
   * @default 3
   */
  readonly alarmMinutes?: number;
  /**
   * How many of the detection signals (dr-metrics.ts `DETECTION_SIGNALS`) must say the primary
   * is down, 1 to 3.
   * @default 2
   */
  readonly quorum?: number;
  /** Minutes after an automatic failover started before another may start. @default 30 */
  readonly minimumIntervalMinutes?: number;
}

export interface AutomationProps {
  /** Prefix of every name, `<project>-<env>`; names add `-dr-...`. At most 39 characters. */
  readonly namePrefix: string;
  /** Environment name, e.g. `prod` (in notifications). */
  readonly environment: string;
  /**
   * Provider of the secondary region. Everything the construct creates lives there, detection and
   * trigger included, so failover depends neither on the primary region nor on us-east-1 (SPEC 5,
   * region independence).
   */
  readonly provider: AwsProvider;
  readonly accountId: string;
  /**
   * The secondary region's KMS key: log groups, the ledger table, the state machine and the
   * functions' environment. Its policy must let CloudWatch Logs (the region's `logs` principal)
   * and log delivery (`delivery.logs.amazonaws.com`, for the encrypted state machine) use it.
   */
  readonly kmsKeyArn: string;
  readonly regions: Readonly<Record<RegionRole, AutomationRegion>>;
  /** `Database.globalClusterIdentifier`. */
  readonly globalClusterIdentifier: string;
  /** `Dns.zoneId`. */
  readonly hostedZoneId: string;
  /**
   * `Dns.nameServers`: the zone's authoritative name servers, comma-separated, which
   * probe-primary asks for Route 53's current answer (no resolver cache in between).
   * @default - the functions' own resolver
   */
  readonly nameServers?: string;
  /** The shop's name, the failover records' name, e.g. `shop.example.com`. */
  readonly recordName: string;
  /** SSM path of the app settings, e.g. `/shopsmart/prod/` (detach-and-promote rewrites one). */
  readonly parameterPath: string;
  /**
   * The secondary region's alert topic (`Monitoring.topicArns.secondary`) and the key it is
   * encrypted with; the finish step publishes the operation's outcome there, and the detection
   * alarms notify it.
   */
  readonly alertTopic: { readonly arn: string; readonly kmsKeyArn: string };
  readonly rpoSeconds: number;
  readonly rtoSeconds: number;
  /**
   * The config's estimate of a database promotion (`dr.estimates.databasePromotionSeconds`): the
   * workflow pages when a running promotion takes several times as long.
   * @default 60
   */
  readonly databasePromotionSeconds?: number;
  /**
   * Detection and automatic failover (config `automaticFailover`). probe-primary, its schedule
   * rule and the primary-down alarm exist either way (see `PrimaryDownDetection`); `enabled`
   * adds the auto-failover function and the rules that start an unplanned failover when the
   * primary-down alarm goes to ALARM. Disabled: no auto-failover function, rule or permission
   * exists at all.
   */
  readonly automaticFailover: AutomationAutomaticFailover;
  /**
   * The region the PRIMARY failover record points at (config `activeRegion`): flip-dns fences
   * that region's record when traffic must leave it.
   * @default "primary"
   */
  readonly activeRegion?: RegionRole;
  /**
   * The scheduled drill: the run-drill function, the drill state machine, its report bucket and
   * its schedule. All exist in every environment; `enabled` only switches the schedule.
   */
  readonly drill: AutomationDrill;
  /**
   * Throttling of every API route (the `$default` stage's default route settings).
   * @default - burst 10 requests, 5 requests per second
   */
  readonly apiThrottle?: { readonly burstLimit: number; readonly rateLimitPerSecond: number };
  /** Days the functions', state machine's and API's logs are kept. @default 90 */
  readonly logRetentionDays?: number;
  /** Whether the ledger table refuses deletion. @default true */
  readonly deletionProtection?: boolean;
  /** X-Ray tracing of the functions and the state machine. @default false */
  readonly tracingEnabled?: boolean;
  /**
   * Concurrent executions reserved for each function (see `AutomationLambdaProps`); the account
   * must keep 100 unreserved beyond their sum.
   * @default - none: the functions share the account's unreserved pool
   */
  readonly reservedConcurrency?: number;
  /**
   * Handler entry files, relative to the project root (for tests with stand-in handlers).
   * @default - `functions/handlers/<name>.ts` for each function
   */
  readonly handlerEntries?: Readonly<Partial<Record<FunctionName, string>>>;
}

const MEMORY_MB = 256;
const DEFAULT_THROTTLE = { burstLimit: 10, rateLimitPerSecond: 5 } as const;
/** API Gateway's default account-level throttle; a stage cannot exceed it. */
const MAX_THROTTLE = { burstLimit: 5000, rateLimitPerSecond: 10_000 } as const;
/** Longest name suffix the construct appends: `-dr-auto-failover-resume` (a 64-character rule). */
const LONGEST_NAME_SUFFIX = resumeRuleName("");
const MAX_NAME_PREFIX_LENGTH = 64 - LONGEST_NAME_SUFFIX.length;
/** CloudWatch: evaluation periods x period must fit in one day (1-minute periods here). */
const MAX_ALARM_MINUTES = 1440;
const DEFAULT_DETECTION = { alarmMinutes: 3, quorum: 2, minimumIntervalMinutes: 30 } as const;

/**
 * The failover automation, in the secondary region: one bundled Lambda function per step, each
 * with its own least-privilege role and encrypted log group; a DynamoDB ledger of operations; the
 * Step Functions workflow that runs a failover or failback; the SigV4-authenticated HTTP API that
 * starts and reports operations; the standby side's detection (probe-primary every minute and
 * the primary-down alarm); and, when enabled, the EventBridge rules that start an unplanned
 * failover when that alarm fires. Everything lives in the secondary region.
 *
 * Synth bundles the handlers with esbuild (cached, see bundling.ts) and writes each zip into
 * the stack's assets; the functions read their settings from one environment variable,
 * SHOPSMART_DR_SETTINGS, validated by functions/shared/settings.ts.
 */
export class Automation extends Construct {
  /** Function name of each deployed function (auto-failover only when enabled). */
  readonly functionNames: Readonly<Partial<Record<FunctionName, string>>>;
  readonly functionArns: Readonly<Partial<Record<FunctionName, string>>>;
  readonly stateMachineName: string;
  readonly stateMachineArn: string;
  readonly ledgerTableName: string;
  readonly ledgerTableArn: string;
  /** `https://<api-id>.execute-api.<region>.amazonaws.com`. */
  readonly apiEndpoint: string;
  readonly failoverApiUrl: string;
  readonly failbackApiUrl: string;
  readonly statusApiUrl: string;
  /** What an operator's IAM policy allows (`execute-api:Invoke`) to use each route. */
  readonly apiRouteInvokeArns: Readonly<Record<ApiRoute, string>>;
  /** The rule that starts automatic failovers; undefined when disabled. */
  readonly autoFailoverRuleName?: string;
  /** The standby side's primary-down alarm (in the automation's region), which starts them. */
  readonly primaryDownAlarmName: string;
  readonly primaryDownAlarmArn: string;
  /** The schedule rule that runs probe-primary every minute. */
  readonly probeRuleName: string;
  /** The deployment package of each function (sizes for the bench). */
  readonly bundles: Readonly<Partial<Record<FunctionName, LambdaBundle>>>;
  /** The settings every function gets as SHOPSMART_DR_SETTINGS. */
  readonly settings: AutomationSettings;
  /** The drill state machine; start it by hand with `{"holdMinutes": <n>}`. */
  readonly drillStateMachineArn: string;
  /** The drill's schedule (`default` group). */
  readonly drillScheduleName: string;
  /** Where drill reports go: `drills/<environment>/<drillId>.json` and `.md`. */
  readonly drillReportBucketName: string;
  /** What run-drill gets as SHOPSMART_DR_DRILL. */
  readonly drillSettings: DrillSettings;

  constructor(scope: Construct, id: string, props: AutomationProps) {
    super(scope, id);
    const apiThrottle = props.apiThrottle ?? DEFAULT_THROTTLE;
    const logRetentionDays = props.logRetentionDays ?? 90;
    const tracingEnabled = props.tracingEnabled ?? false;
    const enabledFeatures = { automaticFailover: props.automaticFailover.enabled };
    const functions = FUNCTION_NAMES.filter((name) => {
      const feature = AUTOMATION_FUNCTIONS[name].deployedWith;
      return feature === undefined || enabledFeatures[feature];
    });
    // Every handler is bundled, deployed or not: one esbuild run then serves stacks with and
    // without automatic failover, instead of a second run for the function the first one lacked.
    const entries = Object.fromEntries(
      FUNCTION_NAMES.map((name) => [name, props.handlerEntries?.[name] ?? handlerEntry(name)]),
    ) as Record<FunctionName, string>;
    const detection = { ...DEFAULT_DETECTION, ...definedOnly(props.automaticFailover) };
    validate(this.node.path, props, { apiThrottle, logRetentionDays, entries, detection });

    const { provider, namePrefix, accountId, kmsKeyArn } = props;
    const region = props.regions.secondary.region;
    const nameOf = (fn: FunctionName) => functionName(namePrefix, fn);

    const ledger = new DynamodbTable(this, "ledger", {
      provider,
      name: ledgerTableName(namePrefix),
      billingMode: "PAY_PER_REQUEST",
      hashKey: "pk",
      attribute: [{ name: "pk", type: "S" }],
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true, kmsKeyArn },
      deletionProtectionEnabled: props.deletionProtection ?? true,
    });
    this.ledgerTableName = ledger.name;
    this.ledgerTableArn = ledger.arn;

    // Created before the functions: its endpoint is in their settings (statusUrl), and its
    // routes are connected to operations-api once that exists.
    const httpApi = new OperationsHttpApi(this, "http-api", {
      provider,
      name: operationsApiName(namePrefix),
      throttle: apiThrottle,
      kmsKeyArn,
      logRetentionDays,
    });

    // Known before the state machine exists, so the functions' settings (which the state
    // machine's definition depends on) can carry it without a dependency cycle.
    const stateMachineName = stateMachineNameOf(namePrefix, "operation");
    const stateMachineArn = stateMachineArnOf(region, accountId, stateMachineName);
    this.settings = {
      environment: props.environment,
      namePrefix,
      primaryRecordRegion: props.activeRegion ?? "primary",
      healthPath: props.drill.healthPath ?? "/health",
      detection: {
        quorum: detection.quorum,
        minimumIntervalMinutes: detection.minimumIntervalMinutes,
        probeTimeoutSeconds: PROBE_TIMEOUT_SECONDS,
      },
      globalClusterIdentifier: props.globalClusterIdentifier,
      regions: perRole((role) => regionSettings(props.regions[role])),
      hostedZoneId: props.hostedZoneId,
      ...(props.nameServers === undefined ? {} : { nameServers: props.nameServers }),
      recordName: props.recordName,
      parameterPath: props.parameterPath,
      ledgerTableName: ledger.name,
      stateMachineArn,
      topicArn: props.alertTopic.arn,
      readTopologyFunctionName: nameOf("read-topology"),
      readTrafficFunctionName: nameOf("read-traffic"),
      rpoSeconds: props.rpoSeconds,
      rtoSeconds: props.rtoSeconds,
      ...(props.databasePromotionSeconds === undefined
        ? {}
        : { databasePromotionSeconds: props.databasePromotionSeconds }),
      apiBaseUrl: httpApi.endpoint,
    };

    // Named ahead, like the state machine: run-drill's policy needs the bucket's ARN, and the
    // bucket lives in the drill construct, which needs run-drill's ARN.
    const drillBucketName = drillReportBucketName(namePrefix, accountId);
    this.drillSettings = {
      reportBucket: drillBucketName,
      reportKmsKeyArn: kmsKeyArn,
      appUrl: `https://${props.recordName}/`,
      healthPath: props.drill.healthPath ?? "/health",
      metricNamespace: DRILL_METRIC_NAMESPACE,
      holdMinutes: props.drill.holdMinutes,
      pollSeconds: props.drill.pollSeconds ?? 10,
    };

    const resources: AutomationResources = {
      region,
      accountId,
      globalClusterArn: `arn:aws:rds::${accountId}:global-cluster:${props.globalClusterIdentifier}`,
      clusterArns: perRole((role) => props.regions[role].clusterArn),
      autoScalingGroupArns: perRole((role) => {
        const { region: groupRegion, autoScalingGroupName } = props.regions[role];
        return `arn:aws:autoscaling:${groupRegion}:${accountId}:autoScalingGroup:*:autoScalingGroupName/${autoScalingGroupName}`;
      }),
      healthCheckArns: perRole(
        (role) => `arn:aws:route53:::healthcheck/${props.regions[role].healthCheckId}`,
      ),
      writerEndpointParameterArns: perRole(
        (role) =>
          `arn:aws:ssm:${props.regions[role].region}:${accountId}:parameter${writerEndpointParameterName(props.parameterPath)}`,
      ),
      ledgerTableArn: ledger.arn,
      triggerAlarmArn: `arn:aws:cloudwatch:${region}:${accountId}:alarm:${primaryDownAlarmName(namePrefix)}`,
      drMetricNamespace: DR_METRIC_NAMESPACE,
      topicArn: props.alertTopic.arn,
      topicKmsKeyArn: props.alertTopic.kmsKeyArn,
      stateMachineArn,
      executionsArn: executionsArnOf(region, accountId, stateMachineName),
      kmsKeyArn,
      readerFunctionArns: (["read-topology", "read-traffic"] as const).map(
        (fn) => `arn:aws:lambda:${region}:${accountId}:function:${nameOf(fn)}`,
      ),
      apiRouteInvokeArns: Object.values(httpApi.routeInvokeArns),
      drillReportBucketArn: `arn:aws:s3:::${drillBucketName}`,
      drillReportObjectsArn: `arn:aws:s3:::${drillBucketName}/${drillReportPrefix(props.environment)}*`,
      drillMetricNamespace: DRILL_METRIC_NAMESPACE,
    };

    const bundles = bundleFunctions(entries);
    this.bundles = Object.fromEntries(functions.map((fn) => [fn, bundles[fn]]));
    const settingsJson = JSON.stringify(this.settings);
    const environmentContext: FunctionEnvironmentContext = {
      drillSettings: this.drillSettings,
      // The primary-down alarm lives in the automation's own region.
      autoFailover: {
        alarmName: primaryDownAlarmName(namePrefix),
        alarmRegion: region,
        ruleName: autoFailoverRuleName(namePrefix),
      },
    };
    const deployed: Partial<Record<FunctionName, AutomationLambda>> = {};
    for (const fn of functions) {
      const spec = AUTOMATION_FUNCTIONS[fn];
      deployed[fn] = new AutomationLambda(this, `function-${fn}`, {
        provider,
        functionName: nameOf(fn),
        description: spec.description,
        bundle: bundles[fn],
        timeoutSeconds: spec.timeoutSeconds,
        memoryMb: MEMORY_MB,
        environment: {
          SHOPSMART_DR_SETTINGS: settingsJson,
          // Stack traces point into the TypeScript sources through the bundled source map.
          NODE_OPTIONS: "--enable-source-maps",
          ...spec.environment?.(environmentContext),
        },
        statements: [
          ...spec.permissions(resources),
          ...(tracingEnabled ? [tracingStatement()] : []),
        ],
        kmsKeyArn,
        logRetentionDays,
        tracingEnabled,
        reservedConcurrentExecutions: props.reservedConcurrency,
      });
    }
    const step = (fn: FunctionName) => deployed[fn] as AutomationLambda;
    this.functionNames = Object.fromEntries(functions.map((fn) => [fn, nameOf(fn)]));
    this.functionArns = Object.fromEntries(functions.map((fn) => [fn, step(fn).functionArn]));

    const workflow = new OperationWorkflow(this, "workflow", {
      provider,
      region,
      accountId,
      name: stateMachineName,
      functionArns: {
        readTopology: step("read-topology").functionArn,
        readTraffic: step("read-traffic").functionArn,
        planOperation: step("plan-operation").functionArn,
        promoteDatabase: step("promote-database").functionArn,
        checkWriter: step("check-writer").functionArn,
        scaleCapacity: step("scale-capacity").functionArn,
        flipDns: step("flip-dns").functionArn,
        finish: step("finish").functionArn,
      },
      kmsKeyArn,
      logRetentionDays,
      tracingEnabled,
    });
    this.stateMachineName = stateMachineName;
    this.stateMachineArn = workflow.stateMachineArn;

    httpApi.connect(step("operations-api"));
    this.apiEndpoint = httpApi.endpoint;
    this.failoverApiUrl = `${httpApi.endpoint}${API_ROUTES.failover.path}`;
    this.failbackApiUrl = `${httpApi.endpoint}${API_ROUTES.failback.path}`;
    this.statusApiUrl = `${httpApi.endpoint}${API_ROUTES.status.path}`;
    this.apiRouteInvokeArns = httpApi.routeInvokeArns;

    const drill = new DrillAutomation(this, "drill", {
      provider,
      region,
      accountId,
      namePrefix,
      environment: props.environment,
      functionArn: step("run-drill").functionArn,
      kmsKeyArn,
      alertTopicArn: props.alertTopic.arn,
      scheduleEnabled: props.drill.enabled,
      scheduleExpression: props.drill.schedule,
      holdMinutes: props.drill.holdMinutes,
      ...(props.drill.reportRetentionDays === undefined
        ? {}
        : { reportRetentionDays: props.drill.reportRetentionDays }),
      logRetentionDays,
      tracingEnabled,
    });
    this.drillStateMachineArn = drill.stateMachineArn;
    this.drillScheduleName = drill.scheduleName;
    this.drillReportBucketName = drill.reportBucketName;

    const primaryDown = new PrimaryDownDetection(this, "detection", {
      namePrefix,
      accountId,
      provider,
      region,
      probeFunctionName: step("probe-primary").functionName,
      probeFunctionArn: step("probe-primary").functionArn,
      alarmMinutes: detection.alarmMinutes,
      alarmTopicArn: props.alertTopic.arn,
    });
    this.primaryDownAlarmName = primaryDown.alarmName;
    this.primaryDownAlarmArn = primaryDown.alarmArn;
    this.probeRuleName = primaryDown.ruleName;

    if (props.automaticFailover.enabled) {
      const trigger = new AutomaticFailoverTrigger(this, "automatic-failover", {
        namePrefix,
        accountId,
        provider,
        region,
        alarmName: primaryDown.alarmName,
        functionName: step("auto-failover").functionName,
        functionArn: step("auto-failover").functionArn,
        stateMachineArn,
        deadLetters: { kmsKeyArn, alarmTopicArn: props.alertTopic.arn },
      });
      this.autoFailoverRuleName = trigger.ruleName;
    }
  }
}

/** The fields of `value` that are set, so spreading it over defaults keeps the defaults. */
function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, field]) => field !== undefined),
  ) as Partial<T>;
}

function regionSettings(region: AutomationRegion): RegionSettings {
  const sizes = (capacity: CapacitySizes) => ({
    minSize: capacity.minSize,
    desiredCapacity: capacity.desiredCapacity,
    maxSize: capacity.maxSize,
  });
  return {
    region: region.region,
    clusterIdentifier: region.clusterIdentifier,
    clusterArn: region.clusterArn,
    autoScalingGroupName: region.autoScalingGroupName,
    loadBalancer: { dnsName: region.loadBalancer.dnsName, zoneId: region.loadBalancer.zoneId },
    healthCheckId: region.healthCheckId,
    activeCapacity: sizes(region.activeCapacity),
    standbyCapacity: sizes(region.standbyCapacity),
  };
}

function validate(
  path: string,
  props: AutomationProps,
  resolved: {
    apiThrottle: { burstLimit: number; rateLimitPerSecond: number };
    logRetentionDays: number;
    entries: Readonly<Record<string, string>>;
    detection: { alarmMinutes: number; quorum: number; minimumIntervalMinutes: number };
  },
): void {
  const problems = new ProblemCollector();

  problems.pattern("namePrefix", props.namePrefix, lowerCaseNamePrefix(MAX_NAME_PREFIX_LENGTH), {
    detail: ` (role, function and rule names append up to ${LONGEST_NAME_SUFFIX.length} characters)`,
  });
  problems.pattern("accountId", props.accountId, ACCOUNT_ID);

  problems.regionPair("regions", props.regions);
  const { secondary } = props.regions;
  const providerRegion = props.provider.region;
  problems.same(
    "regions.secondary.region",
    secondary.region,
    providerRegion,
    `the region of provider (${providerRegion}): the automation runs in the secondary region`,
  );
  for (const role of REGION_ROLES) {
    for (const kind of ["activeCapacity", "standbyCapacity"] as const) {
      validateCapacity(problems, `regions.${role}.${kind}`, props.regions[role][kind]);
    }
  }

  problems.pattern("recordName", props.recordName, DOMAIN_NAME);
  problems.pattern("hostedZoneId", props.hostedZoneId, HOSTED_ZONE_ID);
  problems.pattern("parameterPath", props.parameterPath, SSM_PARAMETER_PATH, {
    literal: true,
    detail: ', e.g. "/shopsmart/prod/" (it scopes the promote step\'s role)',
  });
  for (const field of ["rpoSeconds", "rtoSeconds"] as const) {
    const value = props[field];
    // Written into the functions' settings JSON, so a token number would corrupt it.
    problems.wholeNumberInRange(
      field,
      value,
      { min: 1 },
      "a literal whole number of seconds >= 1",
      {
        literal: true,
      },
    );
  }
  validateDetection(problems, resolved.detection);

  // Written into run-drill's settings JSON, which the function validates the same way.
  const { pollSeconds, healthPath } = props.drill;
  if (pollSeconds !== undefined && (!Number.isInteger(pollSeconds) || pollSeconds < 1)) {
    problems.add("drill.pollSeconds", pollSeconds, "a whole number of seconds >= 1");
  }
  if (healthPath !== undefined) {
    problems.pattern("drill.healthPath", healthPath, HEALTH_PATH, {
      literal: true,
      detail: ", e.g. /health",
    });
  }

  const { burstLimit, rateLimitPerSecond } = resolved.apiThrottle;
  if (!Number.isInteger(burstLimit) || burstLimit < 1 || burstLimit > MAX_THROTTLE.burstLimit) {
    problems.add(
      "apiThrottle.burstLimit",
      burstLimit,
      `a whole number of requests from 1 to ${MAX_THROTTLE.burstLimit} (API Gateway's account default)`,
    );
  }
  if (
    !Number.isFinite(rateLimitPerSecond) ||
    rateLimitPerSecond <= 0 ||
    rateLimitPerSecond > MAX_THROTTLE.rateLimitPerSecond
  ) {
    problems.add(
      "apiThrottle.rateLimitPerSecond",
      rateLimitPerSecond,
      `requests per second above 0 and at most ${MAX_THROTTLE.rateLimitPerSecond} (API Gateway's account default)`,
    );
  }
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(resolved.logRetentionDays)) {
    problems.add("logRetentionDays", resolved.logRetentionDays, LOG_RETENTION_DAYS_EXPECTED);
  }
  const reserved = props.reservedConcurrency;
  if (reserved !== undefined && (!Number.isInteger(reserved) || reserved < 1)) {
    problems.add(
      "reservedConcurrency",
      reserved,
      "a whole number of executions >= 1, or leave it out for the unreserved pool",
    );
  }
  for (const [fn, entry] of Object.entries(resolved.entries)) {
    if (!existsSync(join(PROJECT_ROOT, entry))) {
      problems.add(
        `handlerEntries.${fn}`,
        entry,
        "an existing handler file, relative to the project root",
      );
    }
  }
  problems.throwIfAnyFor(path);
}

/** Written into the settings JSON and the alarm: literal whole numbers in CloudWatch's range. */
function validateDetection(
  problems: ProblemCollector,
  detection: { alarmMinutes: number; quorum: number; minimumIntervalMinutes: number },
): void {
  const literal = { literal: true };
  problems.wholeNumberInRange(
    "automaticFailover.alarmMinutes",
    detection.alarmMinutes,
    { min: 1, max: MAX_ALARM_MINUTES },
    `a whole number of minutes from 1 to ${MAX_ALARM_MINUTES} (CloudWatch evaluates at most one day)`,
    literal,
  );
  problems.wholeNumberInRange(
    "automaticFailover.quorum",
    detection.quorum,
    { min: 1, max: DETECTION_SIGNALS.length },
    `a whole number from 1 to ${DETECTION_SIGNALS.length}, the detection signals (${DETECTION_SIGNALS.join(", ")}) that must say the primary is down`,
    literal,
  );
  problems.wholeNumberInRange(
    "automaticFailover.minimumIntervalMinutes",
    detection.minimumIntervalMinutes,
    { min: 0, max: Number.MAX_SAFE_INTEGER },
    "a whole number of minutes >= 0",
    literal,
  );
}

function validateCapacity(problems: ProblemCollector, path: string, sizes: CapacitySizes): void {
  const values = [sizes.minSize, sizes.desiredCapacity, sizes.maxSize];
  // Written into the functions' settings JSON: they must be literal numbers.
  if (values.some((value) => !Number.isInteger(value) || value < 0 || Token.isUnresolved(value))) {
    problems.add(path, sizes, "literal whole numbers >= 0 (minSize, desiredCapacity, maxSize)");
  } else if (sizes.minSize > sizes.desiredCapacity || sizes.desiredCapacity > sizes.maxSize) {
    problems.add(path, sizes, "minSize <= desiredCapacity <= maxSize");
  }
}
