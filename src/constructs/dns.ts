import { AcmCertificate } from "@cdktf/provider-aws/lib/acm-certificate";
import { AcmCertificateValidation } from "@cdktf/provider-aws/lib/acm-certificate-validation";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { DataAwsRoute53Zone } from "@cdktf/provider-aws/lib/data-aws-route53-zone";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Route53HealthCheck } from "@cdktf/provider-aws/lib/route53-health-check";
import { Route53Record } from "@cdktf/provider-aws/lib/route53-record";
import { Fn, Op, TerraformIterator, TerraformSelf, Token } from "cdktf";
import { Construct } from "constructs";
import {
  DR_ALARM_PERIOD_SECONDS,
  DR_METRIC_NAMESPACE,
  TRAFFIC_FENCE_METRIC,
  trafficFenceAlarmName,
  trafficFenceDimensions,
} from "../../functions/shared/dr-metrics";
import {
  otherRole,
  perRole,
  REGION_ROLES,
  type RegionRole,
} from "../../functions/shared/region-roles";
import { DOMAIN_NAME, HEALTH_PATH, HOSTED_ZONE_ID, ZONE_NAME } from "../aws-formats";
import { ConstructMisuseError, isKnown, ProblemCollector } from "../errors";

/** The hosted zone the records go in: its id, or the name of a public zone to look up. */
export type HostedZoneReference = { readonly id: string } | { readonly name: string };

/** How Route 53 probes each load balancer. */
export interface DnsHealthCheck {
  /** Seconds between probes from each checker; Route 53 supports only 10 (fast) or 30. */
  readonly intervalSeconds: 10 | 30;
  /** Consecutive failed probes before an endpoint counts as unhealthy, 1 to 10. */
  readonly failureThreshold: number;
  /** Path probed over HTTPS, starting with `/`, e.g. `/health`. */
  readonly path: string;
}

/** A load balancer the failover records point at. */
export interface FailoverEndpoint {
  /** The load balancer's DNS name; the alias target and the host the health check probes. */
  readonly dnsName: string;
  /** The load balancer's canonical hosted zone id (not the shop's zone). */
  readonly zoneId: string;
}

/** Where the traffic fences live: the automation's region (the secondary). */
export interface TrafficFenceRegion {
  /** Provider of that region; the fence alarms are created with it. */
  readonly provider: AwsProvider;
  /** Region of `provider`, e.g. `us-west-2`; the fence health checks read the alarms there. */
  readonly region: string;
}

export interface DnsProps {
  /** Zone lookup, health checks and records are global; they use this provider (the primary's). */
  readonly provider: AwsProvider;
  /** Provider per region, for the ACM certificate of each region's load balancer. */
  readonly regionalProviders: Readonly<Record<RegionRole, AwsProvider>>;
  /** Public name of the shop, e.g. `shop.example.com`; must lie inside the hosted zone. */
  readonly domainName: string;
  /**
   * The public hosted zone that holds `domainName`. An id is used as given (and checked at plan
   * time to be a public zone containing `domainName`); a name is looked up among public zones.
   */
  readonly hostedZone: HostedZoneReference;
  /** Route 53 health checks on both load balancers. */
  readonly healthCheck: DnsHealthCheck;
  /**
   * Region the PRIMARY failover record points at. Changing it updates both records in place.
   * @default "primary"
   */
  readonly activeRegion?: RegionRole;
  /**
   * Prefix of every `Name` tag, `<project>-<env>`; also the traffic fences' alarm names and their
   * `Environment` dimension (functions/shared/dr-metrics.ts), so it must equal the automation's.
   */
  readonly namePrefix: string;
  /**
   * The data-plane traffic lever of the DR automation. When set, each region gets a CloudWatch
   * alarm on its `TrafficFenced` metric in this region, a Route 53 health check that follows the
   * alarm, and a calculated health check that is healthy only while both the region's endpoint
   * check and its fence check are; that calculated check guards the region's failover record.
   * Publishing `TrafficFenced` = 1 for a region then takes its record out of DNS answers
   * whatever its endpoint answers, without the Route 53 API. Must not be the primary region:
   * the automation sets the fences while the primary region is down.
   * @default - no traffic fence: each failover record is guarded by its endpoint's health check
   */
  readonly trafficFence?: TrafficFenceRegion;
}

/** Route 53 supports only these health-check intervals. */
const HEALTH_CHECK_INTERVALS: readonly number[] = [10, 30];
const FAILURE_THRESHOLD_RANGE = { min: 1, max: 10 } as const;

/** What the traffic fences add, per region role. */
interface TrafficFences {
  readonly alarmNames: Readonly<Record<RegionRole, string>>;
  readonly alarmArns: Readonly<Record<RegionRole, string>>;
  readonly healthCheckIds: Readonly<Record<RegionRole, string>>;
  /** The calculated checks (endpoint AND fence) on the failover records. */
  readonly recordHealthCheckIds: Readonly<Record<RegionRole, string>>;
}

/**
 * DNS failover for the shop: the hosted zone, a DNS-validated ACM certificate in each region for
 * the load balancer there, and (via {@link Dns.addFailoverRecords}) an HTTPS health check on
 * each load balancer plus the PRIMARY and SECONDARY failover alias records for `domainName`.
 *
 * Route 53 answers with the PRIMARY record while its health check passes and with SECONDARY
 * otherwise, so DNS fails over without any API call. `activeRegion` picks which region's load
 * balancer the PRIMARY record points at. With `trafficFence`, each record's health check is a
 * calculated check over the endpoint check and a traffic-fence check that the DR automation
 * moves with PutMetricData in its own region (see {@link DnsProps.trafficFence}).
 */
export class Dns extends Construct {
  /** Id of the hosted zone that holds the records. */
  readonly zoneId: string;
  /**
   * The hosted zone's authoritative name servers, comma-separated (a Terraform expression): the
   * DR automation asks them, not a caching resolver, for Route 53's current answer.
   */
  readonly nameServers: string;
  /** Validated certificate ARN per region (from aws_acm_certificate_validation). */
  readonly certificateArns: Readonly<Record<RegionRole, string>>;

  private readonly props: DnsProps;
  private readonly activeRegion: RegionRole;
  private failoverHealthCheckIds?: Readonly<Record<RegionRole, string>>;
  private recordHealthChecks?: Readonly<Record<RegionRole, string>>;
  private fences?: TrafficFences;

  constructor(scope: Construct, id: string, props: DnsProps) {
    super(scope, id);
    validate(this.node.path, props);
    this.props = props;
    this.activeRegion = props.activeRegion ?? "primary";

    const zone = this.lookUpZone();
    this.zoneId = "id" in props.hostedZone ? props.hostedZone.id : zone.zoneId;
    this.nameServers = Fn.join(",", zone.nameServers);
    this.certificateArns = this.addCertificates();
  }

  /**
   * Creates an HTTPS health check on each load balancer and the two failover alias records for
   * `domainName`: PRIMARY to the `activeRegion`'s load balancer, SECONDARY to the other's.
   * Call once, after the load balancers exist.
   */
  addFailoverRecords(endpoints: Readonly<Record<RegionRole, FailoverEndpoint>>): void {
    if (this.failoverHealthCheckIds) {
      throw new ConstructMisuseError(
        this.node.path,
        "addFailoverRecords() was already called; a Dns construct holds exactly one pair of " +
          "failover records, so call it once with both load balancers.",
      );
    }
    const { provider, namePrefix, healthCheck } = this.props;

    // Health checks follow the load balancer (keyed by region role), never the failover role,
    // so changing activeRegion re-points the records but leaves every health check untouched.
    const healthCheckIds = perRole(
      (role) =>
        new Route53HealthCheck(this, `${role}-health-check`, {
          provider,
          type: "HTTPS",
          fqdn: endpoints[role].dnsName,
          port: 443,
          resourcePath: healthCheck.path,
          requestInterval: healthCheck.intervalSeconds,
          failureThreshold: healthCheck.failureThreshold,
          // Sends the load balancer's name in the TLS handshake, as a browser would.
          enableSni: true,
          tags: { Name: `${namePrefix}-${role}-health-check` },
        }).id,
    );
    this.failoverHealthCheckIds = healthCheckIds;
    const { trafficFence } = this.props;
    if (trafficFence) this.fences = this.addTrafficFences(trafficFence, healthCheckIds);
    const recordHealthCheckIds = this.fences?.recordHealthCheckIds ?? healthCheckIds;
    this.recordHealthChecks = recordHealthCheckIds;

    // The records are keyed by failover role and a swap changes only their alias target and
    // health check (an in-place UPSERT each). Keying them by region instead would make a swap
    // flip PRIMARY<->SECONDARY on two records in two separate API calls, and in between the
    // zone would hold two records of the same failover type, which Route 53 rejects
    // (https://github.com/boto/boto3/issues/1347). Here every intermediate state is valid: at
    // worst both records briefly point at the same load balancer.
    const targets = {
      PRIMARY: this.activeRegion,
      SECONDARY: otherRole(this.activeRegion),
    } as const;
    for (const failover of ["PRIMARY", "SECONDARY"] as const) {
      const region = targets[failover];
      new Route53Record(this, `failover-${failover.toLowerCase()}-record`, {
        provider,
        zoneId: this.zoneId,
        name: this.props.domainName,
        type: "A",
        setIdentifier: failover.toLowerCase(),
        failoverRoutingPolicy: { type: failover },
        healthCheckId: recordHealthCheckIds[region],
        alias: {
          name: endpoints[region].dnsName,
          zoneId: endpoints[region].zoneId,
          evaluateTargetHealth: true,
        },
      });
    }
  }

  /** Health check id of each region's load balancer. Set by {@link Dns.addFailoverRecords}. */
  get healthCheckIds(): Readonly<Record<RegionRole, string>> {
    if (!this.failoverHealthCheckIds) {
      throw new ConstructMisuseError(
        this.node.path,
        "healthCheckIds is set by addFailoverRecords(); call addFailoverRecords() with both " +
          "load balancers before reading it.",
      );
    }
    return this.failoverHealthCheckIds;
  }

  /**
   * Health check id on each region's failover record: the calculated check (endpoint AND traffic
   * fence) with `trafficFence`, else the endpoint check. Set by {@link Dns.addFailoverRecords}.
   */
  get recordHealthCheckIds(): Readonly<Record<RegionRole, string>> {
    if (!this.recordHealthChecks) {
      throw new ConstructMisuseError(
        this.node.path,
        "recordHealthCheckIds is set by addFailoverRecords(); call addFailoverRecords() with " +
          "both load balancers before reading it.",
      );
    }
    return this.recordHealthChecks;
  }

  /** ARN of each region's traffic-fence alarm (in the `trafficFence` region). */
  get trafficFenceAlarmArns(): Readonly<Record<RegionRole, string>> {
    return this.trafficFences("trafficFenceAlarmArns").alarmArns;
  }

  /** Name of each region's traffic-fence alarm, as a literal (dr-metrics.ts `trafficFenceAlarmName`). */
  get trafficFenceAlarmNames(): Readonly<Record<RegionRole, string>> {
    return this.trafficFences("trafficFenceAlarmNames").alarmNames;
  }

  /** Id of each region's Route 53 health check on its traffic-fence alarm. */
  get trafficFenceHealthCheckIds(): Readonly<Record<RegionRole, string>> {
    return this.trafficFences("trafficFenceHealthCheckIds").healthCheckIds;
  }

  private trafficFences(attribute: string): TrafficFences {
    if (!this.props.trafficFence) {
      throw new ConstructMisuseError(
        this.node.path,
        `${attribute} exists only with traffic fences; pass trafficFence (the automation's ` +
          "region and provider) to create them.",
      );
    }
    if (!this.fences) {
      throw new ConstructMisuseError(
        this.node.path,
        `${attribute} is set by addFailoverRecords(); call addFailoverRecords() with both ` +
          "load balancers before reading it.",
      );
    }
    return this.fences;
  }

  /**
   * Per region: the fence alarm in the automation's region, a CLOUDWATCH_METRIC health check on
   * it, and a CALCULATED health check that needs both that check and the endpoint check.
   *
   * What Route 53 does with the fence (Route 53 Developer Guide):
   * - it follows the alarm's *data stream*, not the alarm's state, so only the `TrafficFenced`
   *   datapoints (PutMetricData) move it; SetAlarmState cannot force it
   *   (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html#dns-failover-determining-health-of-endpoints-cloudwatch);
   * - when the data stream cannot tell the state, the status follows InsufficientDataHealthStatus.
   *   `LastKnownStatus` keeps the last status, and "for new health checks that have no last known
   *   status, the default status for the health check is healthy"
   *   (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-creating-values.html#health-checks-creating-values-cloudwatch):
   *   a new fence serves, a fence set stays set when the automation's publisher pauses, and a
   *   region whose datapoints stop arriving (the automation's region unreachable; AWS documents
   *   no separate behaviour for it, so this is the insufficient-data case) keeps its last status;
   * - it supports standard-resolution metrics and the Maximum statistic (same page);
   * - it reads the alarm's settings when the health check is created or updated, so a later
   *   change of the alarm's metric, statistic, period or threshold needs an UpdateHealthCheck
   *   with the same alarm (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-updating-cloudwatch-alarm-settings.html);
   *   replacing the health check instead would reset it to healthy.
   *
   * The calculated check is healthy when at least `child_health_threshold` of its children are
   * (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-creating-values.html#health-checks-creating-values-calculated):
   * 2 of 2, an AND. Each check references the alarm (or its children) it reads, so Terraform
   * creates the alarm first and the calculated check last.
   */
  private addTrafficFences(
    fence: TrafficFenceRegion,
    endpointCheckIds: Readonly<Record<RegionRole, string>>,
  ): TrafficFences {
    const { provider, namePrefix } = this.props;
    const fences = perRole((role) => {
      const name = trafficFenceAlarmName(namePrefix, role);
      const alarm = new CloudwatchMetricAlarm(this, `${role}-traffic-fence-alarm`, {
        provider: fence.provider,
        alarmName: name,
        alarmDescription:
          `Traffic fence of the ${role} region: in ALARM (${TRAFFIC_FENCE_METRIC} = 1) Route 53 ` +
          `treats the ${role} region's failover record as unhealthy whatever its endpoint ` +
          "answers. Set and cleared by the DR automation (flip-dns, republished every minute " +
          "by probe-primary); never by hand.",
        namespace: DR_METRIC_NAMESPACE,
        metricName: TRAFFIC_FENCE_METRIC,
        dimensions: Object.fromEntries(
          trafficFenceDimensions(namePrefix, role).map((d) => [d.Name, d.Value]),
        ),
        statistic: "Maximum",
        period: DR_ALARM_PERIOD_SECONDS,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: 1,
        // "ignore: The current alarm state is maintained" when no datapoint arrives
        // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data):
        // a fence holds between two publications instead of lapsing to INSUFFICIENT_DATA.
        treatMissingData: "ignore",
      });
      const fenceCheck = new Route53HealthCheck(this, `${role}-traffic-fence-health-check`, {
        provider,
        type: "CLOUDWATCH_METRIC",
        cloudwatchAlarmName: alarm.alarmName,
        cloudwatchAlarmRegion: fence.region,
        insufficientDataHealthStatus: "LastKnownStatus",
        tags: { Name: `${namePrefix}-${role}-traffic-fence` },
      });
      const recordCheck = new Route53HealthCheck(this, `${role}-record-health-check`, {
        provider,
        type: "CALCULATED",
        childHealthchecks: [endpointCheckIds[role], fenceCheck.id],
        childHealthThreshold: 2,
        tags: { Name: `${namePrefix}-${role}-record-health` },
      });
      return {
        alarmName: name,
        alarmArn: alarm.arn,
        healthCheckId: fenceCheck.id,
        recordHealthCheckId: recordCheck.id,
      };
    });
    return {
      alarmNames: perRole((role) => fences[role].alarmName),
      alarmArns: perRole((role) => fences[role].alarmArn),
      healthCheckIds: perRole((role) => fences[role].healthCheckId),
      recordHealthCheckIds: perRole((role) => fences[role].recordHealthCheckId),
    };
  }

  /**
   * Reads the zone in both cases: a name is resolved to its public zone, and an id is checked
   * at plan time, so a private zone or a zone that does not hold the domain stops the plan
   * instead of leaving ACM validation to time out at apply.
   */
  private lookUpZone(): DataAwsRoute53Zone {
    const { provider, hostedZone, domainName } = this.props;
    const zoneName = TerraformSelf.getString("name");
    return new DataAwsRoute53Zone(this, "zone", {
      provider,
      ...("id" in hostedZone
        ? { zoneId: hostedZone.id }
        : { name: hostedZone.name, privateZone: false }),
      lifecycle: {
        postcondition: [
          {
            condition: Op.not(TerraformSelf.getAny("private_zone")),
            errorMessage:
              "The hosted zone is private; the shop's records and ACM validation need a public zone.",
          },
          {
            condition: Op.or(Op.eq(zoneName, domainName), Fn.endswith(domainName, `.${zoneName}`)),
            errorMessage: `The hosted zone does not contain ${domainName}; use the zone that holds it.`,
          },
        ],
      },
    });
  }

  /**
   * One certificate per region (ALB listeners take only a certificate from their own region).
   *
   * ACM derives the DNS-validation CNAME from the domain name and the account, not the region,
   * so both certificates ask for the identical record ("Since the CNAME validation token works
   * for any AWS Region, you can re-create the same certificate in multiple Regions",
   * https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html). Creating it from
   * each certificate would have two Terraform resources own one record: the second create fails
   * or overwrites, and destroying either removes it from under the other
   * (https://github.com/hashicorp/terraform-provider-aws/issues/13653,
   * https://github.com/terraform-aws-modules/terraform-aws-acm/issues/14). So the record is
   * created once, from the primary certificate, and both certificates are validated against it;
   * aws_acm_certificate_validation fails loudly if a certificate's record name ever differs.
   */
  private addCertificates(): Record<RegionRole, string> {
    const { provider, regionalProviders, namePrefix, domainName } = this.props;
    const certificates = perRole(
      (role) =>
        new AcmCertificate(this, `${role}-certificate`, {
          provider: regionalProviders[role],
          domainName,
          validationMethod: "DNS",
          // A listener always holds a certificate: the replacement is issued before the old one
          // is deleted (e.g. when domainName changes).
          lifecycle: { createBeforeDestroy: true },
          tags: { Name: `${namePrefix}-${role}-certificate` },
        }),
    );

    // domain_validation_options is a set; for_each needs a map with keys known at plan time.
    // The provider fills in domain_name at plan time, and keying by it works because the
    // certificate has a single name: with SANs, tolist() of a set whose elements are partly
    // unknown is wholly unknown and the plan fails
    // (https://github.com/hashicorp/terraform-cdk/issues/3713).
    const validationOptions = TerraformIterator.fromComplexList(
      certificates.primary.domainValidationOptions,
      "domain_name",
    );
    const validationRecords = new Route53Record(this, "certificate-validation-record", {
      provider,
      forEach: validationOptions,
      zoneId: this.zoneId,
      name: validationOptions.getString("resource_record_name"),
      type: validationOptions.getString("resource_record_type"),
      records: [validationOptions.getString("resource_record_value")],
      ttl: 60,
      // The record may already exist: ACM issues the same CNAME for every certificate of this
      // name in the account, e.g. one left by an earlier stack or a manual request.
      allowOverwrite: true,
    });
    const validationRecordFqdns = Token.asList(
      TerraformIterator.fromResources(validationRecords).pluckProperty("fqdn"),
    );

    return perRole(
      (role) =>
        new AcmCertificateValidation(this, `${role}-certificate-validation`, {
          provider: regionalProviders[role],
          certificateArn: certificates[role].arn,
          validationRecordFqdns,
        }).certificateArn,
    );
  }
}

function validate(path: string, props: DnsProps): void {
  const problems = new ProblemCollector();
  const { domainName, hostedZone, healthCheck, activeRegion, trafficFence } = props;

  problems.pattern("domainName", domainName, DOMAIN_NAME);
  if ("id" in hostedZone) {
    problems.pattern("hostedZone.id", hostedZone.id, HOSTED_ZONE_ID);
  } else if (problems.pattern("hostedZone.name", hostedZone.name, ZONE_NAME)) {
    if (
      isKnown(domainName) &&
      domainName !== hostedZone.name &&
      !domainName.endsWith(`.${hostedZone.name}`)
    ) {
      problems.add(
        "domainName",
        domainName,
        `a name inside the hosted zone ${hostedZone.name} (${hostedZone.name} itself or ending ` +
          `in .${hostedZone.name})`,
      );
    }
  }

  if (
    isKnown(healthCheck.intervalSeconds) &&
    !HEALTH_CHECK_INTERVALS.includes(healthCheck.intervalSeconds)
  ) {
    problems.add(
      "healthCheck.intervalSeconds",
      healthCheck.intervalSeconds,
      "10 or 30 (the intervals Route 53 supports)",
    );
  }
  problems.wholeNumberInRange(
    "healthCheck.failureThreshold",
    healthCheck.failureThreshold,
    FAILURE_THRESHOLD_RANGE,
    `a whole number from ${FAILURE_THRESHOLD_RANGE.min} to ${FAILURE_THRESHOLD_RANGE.max}`,
  );
  problems.pattern("healthCheck.path", healthCheck.path, HEALTH_PATH, {
    detail: ", e.g. /health",
  });
  if (activeRegion !== undefined && !REGION_ROLES.includes(activeRegion)) {
    problems.add("activeRegion", activeRegion, '"primary" or "secondary"');
  }
  if (trafficFence) validateTrafficFence(problems, props, trafficFence);
  problems.throwIfAnyFor(path);
}

function validateTrafficFence(
  problems: ProblemCollector,
  props: DnsProps,
  fence: TrafficFenceRegion,
): void {
  const providerRegion = fence.provider.region;
  problems.same(
    "trafficFence.region",
    fence.region,
    providerRegion,
    `the region of trafficFence.provider (${providerRegion})`,
  );
  const primaryRegion = props.regionalProviders.primary.region;
  problems.distinct(
    "trafficFence.region",
    fence.region,
    primaryRegion,
    `a region other than the primary region (${primaryRegion}, regionalProviders.primary): ` +
      "the automation sets the fences while the primary region is down, so they live in its " +
      "region (the secondary)",
  );
}
