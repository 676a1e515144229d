/**
 * The custom metrics and alarms of the DR automation's data-plane levers, written once for the
 * constructs that create them, the functions that publish and read them, and the simulator.
 *
 * Two levers, both in the automation's (secondary) region, so neither the primary region nor
 * us-east-1 is needed to use them:
 * - **Traffic fence** per region: probe-primary never touches it; flip-dns and the fence step
 *   publish `TrafficFenced` = 1 (fenced) or 0 (serving) with PutMetricData and move the alarm at
 *   once with SetAlarmState. Route 53 reads the alarm through a CloudWatch-alarm health check,
 *   which is a child of the calculated health check on that region's failover record, so a
 *   fenced region's record is unhealthy whatever its endpoint answers.
 * - **Primary down**: probe-primary publishes `PrimaryDown` = 1 when its quorum of independent
 *   signals agrees that the primary region is down, else 0, every minute; the alarm on it going
 *   to ALARM (after `automaticFailover.alarmMinutes` minutes in a row) starts automatic failover.
 */
import type { RegionRole } from "./region-roles";

/** Namespace of every metric the automation publishes (the drill's too). */
export const DR_METRIC_NAMESPACE = "ShopSmart/DR";

/** 1 while a region must not receive traffic, 0 while it may. Dimensions: {@link trafficFenceDimensions}. */
export const TRAFFIC_FENCE_METRIC = "TrafficFenced";

/** 1 when probe-primary's quorum says the primary region is down. Dimensions: {@link primaryDownDimensions}. */
export const PRIMARY_DOWN_METRIC = "PrimaryDown";

/** 1 when one detection signal says the primary is down, 0 when it says up, absent when unknown. */
export const PROBE_SIGNAL_METRIC = "PrimaryProbeDown";

/**
 * The independent signals probe-primary reads, each from a different vantage point:
 * - `endpoint`: the primary's load balancer, probed over HTTPS from the secondary region;
 * - `database`: the primary's Aurora cluster, read through the RDS API of the primary region;
 * - `route53`: Route 53's own health checkers (global data plane), read from the public name's
 *   DNS answer, or from their `HealthCheckStatus` metric in us-east-1 when that answers.
 */
export const DETECTION_SIGNALS = ["endpoint", "database", "route53"] as const;
export type DetectionSignal = (typeof DETECTION_SIGNALS)[number];

/** Seconds each of probe-primary's probes may take (`detection.probeTimeoutSeconds`). */
export const PROBE_TIMEOUT_SECONDS = 5;

/** Seconds between probe-primary runs (its schedule) and the period of the metrics it publishes. */
export const PROBE_INTERVAL_SECONDS = 60;

/**
 * When Route 53's "up" alone holds the verdict back (it vetoes the other signals, or its vote
 * would complete their quorum: a web-tier failure), probe-primary reads Route 53's verdict again every {@link VETO_RECHECK_INTERVAL_SECONDS} for up
 * to this long within the same run: in an outage Route 53's checkers take their failure
 * threshold of checks to notice (30 s with 10 s x 3), and waiting for the next scheduled run
 * would add up to a minute to detection. In a partition the veto holds and the run ends after
 * this window. Must fit in the function's timeout with the probes.
 */
export const VETO_RECHECK_SECONDS = 40;
export const VETO_RECHECK_INTERVAL_SECONDS = 5;

/** Period of the lever and detection alarms: one datapoint per probe or lever change. */
export const DR_ALARM_PERIOD_SECONDS = 60;

export interface MetricDimension {
  readonly Name: string;
  readonly Value: string;
}

/** `<namePrefix>-dr-traffic-fence-<role>`, in the automation's region. */
export function trafficFenceAlarmName(namePrefix: string, role: RegionRole): string {
  return `${namePrefix}-dr-traffic-fence-${role}`;
}

export function trafficFenceDimensions(namePrefix: string, role: RegionRole): MetricDimension[] {
  return [
    { Name: "Environment", Value: namePrefix },
    { Name: "RegionRole", Value: role },
  ];
}

/** `<namePrefix>-dr-primary-down`, in the automation's region. */
export function primaryDownAlarmName(namePrefix: string): string {
  return `${namePrefix}-dr-primary-down`;
}

export function primaryDownDimensions(namePrefix: string): MetricDimension[] {
  return [{ Name: "Environment", Value: namePrefix }];
}

export function probeSignalDimensions(
  namePrefix: string,
  signal: DetectionSignal,
): MetricDimension[] {
  return [
    { Name: "Environment", Value: namePrefix },
    { Name: "Signal", Value: signal },
  ];
}
