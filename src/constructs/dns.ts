import { AcmCertificate } from "@cdktf/provider-aws/lib/acm-certificate";
import { AcmCertificateValidation } from "@cdktf/provider-aws/lib/acm-certificate-validation";
import { DataAwsRoute53Zone } from "@cdktf/provider-aws/lib/data-aws-route53-zone";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Route53HealthCheck } from "@cdktf/provider-aws/lib/route53-health-check";
import { Route53Record } from "@cdktf/provider-aws/lib/route53-record";
import { Fn, Op, TerraformIterator, TerraformSelf, Token } from "cdktf";
import { Construct } from "constructs";
import { DOMAIN_NAME_PATTERN, HOSTED_ZONE_ID_PATTERN } from "../aws-formats";
import { REGION_ROLES, type RegionRole } from "../config/schema";
import { ConstructMisuseError, ProblemCollector } from "../errors";

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
  /** Prefix of every `Name` tag, `<project>-<env>`. */
  readonly namePrefix: string;
}

/** Route 53 supports only these health-check intervals. */
const HEALTH_CHECK_INTERVALS: readonly number[] = [10, 30];
const FAILURE_THRESHOLD_RANGE = { min: 1, max: 10 } as const;
/** Route 53 caps `ResourcePath` at 255 characters. */
const HEALTH_CHECK_PATH_PATTERN = /^\/[^\s]{0,254}$/;

/**
 * DNS failover for the shop: the hosted zone, a DNS-validated ACM certificate in each region for
 * the load balancer there, and (via {@link Dns.addFailoverRecords}) an HTTPS health check on
 * each load balancer plus the PRIMARY and SECONDARY failover alias records for `domainName`.
 *
 * Route 53 answers with the PRIMARY record while its health check passes and with SECONDARY
 * otherwise, so DNS fails over without any API call. `activeRegion` picks which region's load
 * balancer the PRIMARY record points at.
 */
export class Dns extends Construct {
  /** Id of the hosted zone that holds the records. */
  readonly zoneId: string;
  /** Validated certificate ARN per region (from aws_acm_certificate_validation). */
  readonly certificateArns: Readonly<Record<RegionRole, string>>;

  private readonly props: DnsProps;
  private readonly activeRegion: RegionRole;
  private failoverHealthCheckIds?: Readonly<Record<RegionRole, string>>;

  constructor(scope: Construct, id: string, props: DnsProps) {
    super(scope, id);
    validate(this.node.path, props);
    this.props = props;
    this.activeRegion = props.activeRegion ?? "primary";

    const zone = this.lookUpZone();
    this.zoneId = "id" in props.hostedZone ? props.hostedZone.id : zone.zoneId;
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
    const healthCheckIds = {} as Record<RegionRole, string>;
    for (const role of REGION_ROLES) {
      healthCheckIds[role] = new Route53HealthCheck(this, `${role}-health-check`, {
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
      }).id;
    }
    this.failoverHealthCheckIds = healthCheckIds;

    // The records are keyed by failover role and a swap changes only their alias target and
    // health check (an in-place UPSERT each). Keying them by region instead would make a swap
    // flip PRIMARY<->SECONDARY on two records in two separate API calls, and in between the
    // zone would hold two records of the same failover type, which Route 53 rejects
    // (https://github.com/boto/boto3/issues/1347). Here every intermediate state is valid: at
    // worst both records briefly point at the same load balancer.
    const standbyRegion: RegionRole = this.activeRegion === "primary" ? "secondary" : "primary";
    const targets = { PRIMARY: this.activeRegion, SECONDARY: standbyRegion } as const;
    for (const failover of ["PRIMARY", "SECONDARY"] as const) {
      const region = targets[failover];
      new Route53Record(this, `failover-${failover.toLowerCase()}-record`, {
        provider,
        zoneId: this.zoneId,
        name: this.props.domainName,
        type: "A",
        setIdentifier: failover.toLowerCase(),
        failoverRoutingPolicy: { type: failover },
        healthCheckId: healthCheckIds[region],
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
    const certificates = {} as Record<RegionRole, AcmCertificate>;
    for (const role of REGION_ROLES) {
      certificates[role] = new AcmCertificate(this, `${role}-certificate`, {
        provider: regionalProviders[role],
        domainName,
        validationMethod: "DNS",
        // A listener always holds a certificate: the replacement is issued before the old one
        // is deleted (e.g. when domainName changes).
        lifecycle: { createBeforeDestroy: true },
        tags: { Name: `${namePrefix}-${role}-certificate` },
      });
    }

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

    const arns = {} as Record<RegionRole, string>;
    for (const role of REGION_ROLES) {
      arns[role] = new AcmCertificateValidation(this, `${role}-certificate-validation`, {
        provider: regionalProviders[role],
        certificateArn: certificates[role].arn,
        validationRecordFqdns,
      }).certificateArn;
    }
    return arns;
  }
}

function validate(path: string, props: DnsProps): void {
  const problems = new ProblemCollector();
  const { domainName, hostedZone, healthCheck, activeRegion } = props;

  const domainIsKnown = !Token.isUnresolved(domainName);
  if (domainIsKnown && !DOMAIN_NAME_PATTERN.test(domainName)) {
    problems.add("domainName", domainName, "a domain name such as shop.example.com (lower-case)");
  }
  if ("id" in hostedZone) {
    if (!Token.isUnresolved(hostedZone.id) && !HOSTED_ZONE_ID_PATTERN.test(hostedZone.id)) {
      problems.add(
        "hostedZone.id",
        hostedZone.id,
        "a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ",
      );
    }
  } else if (!Token.isUnresolved(hostedZone.name)) {
    if (!DOMAIN_NAME_PATTERN.test(hostedZone.name)) {
      problems.add("hostedZone.name", hostedZone.name, "a domain name such as example.com");
    } else if (
      domainIsKnown &&
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
    !Token.isUnresolved(healthCheck.intervalSeconds) &&
    !HEALTH_CHECK_INTERVALS.includes(healthCheck.intervalSeconds)
  ) {
    problems.add(
      "healthCheck.intervalSeconds",
      healthCheck.intervalSeconds,
      "10 or 30 (the intervals Route 53 supports)",
    );
  }
  const threshold = healthCheck.failureThreshold;
  if (
    !Token.isUnresolved(threshold) &&
    !(
      Number.isInteger(threshold) &&
      threshold >= FAILURE_THRESHOLD_RANGE.min &&
      threshold <= FAILURE_THRESHOLD_RANGE.max
    )
  ) {
    problems.add(
      "healthCheck.failureThreshold",
      threshold,
      `a whole number from ${FAILURE_THRESHOLD_RANGE.min} to ${FAILURE_THRESHOLD_RANGE.max}`,
    );
  }
  if (!Token.isUnresolved(healthCheck.path) && !HEALTH_CHECK_PATH_PATTERN.test(healthCheck.path)) {
    problems.add(
      "healthCheck.path",
      healthCheck.path,
      "a URL path starting with '/', without spaces, at most 255 characters, e.g. /health",
    );
  }
  if (activeRegion !== undefined && !REGION_ROLES.includes(activeRegion)) {
    problems.add("activeRegion", activeRegion, '"primary" or "secondary"');
  }
  problems.throwIfAnyFor(path);
}
