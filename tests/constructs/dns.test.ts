import { TerraformOutput } from "cdktf";
import { describe, expect, it } from "vitest";
import type { RegionRole } from "../../src/config/schema";
import { Dns, type DnsProps, type TrafficFenceRegion } from "../../src/constructs/dns";
import { ConstructMisuseError } from "../../src/errors";
import {
  addresses,
  dataSourceAt,
  listResources,
  resourceAt,
  resourcesOf,
  type SynthesizedStack,
  stackWithProviders,
  synth,
} from "../support/synth";

const ENDPOINTS = {
  primary: { dnsName: "shop-primary-123.us-east-2.elb.amazonaws.com", zoneId: "Z3AADJGX6KTTL2" },
  secondary: { dnsName: "shop-secondary-456.us-west-2.elb.amazonaws.com", zoneId: "Z1H1FL5HABSF5" },
};

type Overrides = Partial<Omit<DnsProps, "provider" | "regionalProviders" | "trafficFence">>;

type Providers = ReturnType<typeof stackWithProviders>["providers"];

interface DnsStackOptions {
  /** Call addFailoverRecords. @default true */
  readonly addRecords?: boolean;
  /** Traffic fences in the secondary region (us-west-2). @default false */
  readonly fenced?: boolean;
  /** Traffic fences as given (overrides `fenced`). */
  readonly fence?: (providers: Providers) => TrafficFenceRegion;
}

/** A stack with one Dns construct (id `dns`); failover records added unless told otherwise. */
function dnsStack(overrides: Overrides = {}, options: DnsStackOptions = {}) {
  const { stack, providers } = stackWithProviders();
  const trafficFence =
    options.fence?.(providers) ??
    (options.fenced ? { provider: providers.secondary, region: "us-west-2" } : undefined);
  const dns = new Dns(stack, "dns", {
    provider: providers.primary,
    regionalProviders: providers,
    domainName: "shop.example.com",
    hostedZone: { name: "example.com" },
    healthCheck: { intervalSeconds: 10, failureThreshold: 3, path: "/health" },
    namePrefix: "shop-test",
    ...(trafficFence ? { trafficFence } : {}),
    ...overrides,
  });
  if (options.addRecords ?? true) dns.addFailoverRecords(ENDPOINTS);
  return { stack, dns };
}

function synthDns(overrides: Overrides = {}): SynthesizedStack {
  return synth(dnsStack(overrides).stack);
}

/** The logical id (Terraform resource name) of the resource at a construct path suffix. */
function logicalIdAt(json: SynthesizedStack, type: string, pathSuffix: string): string {
  const resource = resourceAt(json, type, pathSuffix);
  const entry = Object.entries(resourcesOf(json, type)).find(([, r]) => r === resource);
  if (!entry) throw new Error(`no ${type} at */${pathSuffix}`);
  return entry[0];
}

function failoverRecord(json: SynthesizedStack, failover: "primary" | "secondary") {
  return resourceAt(json, "aws_route53_record", `failover-${failover}-record`);
}

describe("Dns", () => {
  const json = synthDns();
  const healthCheckId = (role: RegionRole) =>
    `\${aws_route53_health_check.${logicalIdAt(json, "aws_route53_health_check", `${role}-health-check`)}.id}`;

  it("keeps the Terraform address of every resource it creates", () => {
    expect(addresses(json)).toEqual([
      "aws_acm_certificate.dns_primary-certificate_61F67136",
      "aws_acm_certificate.dns_secondary-certificate_62351F4E",
      "aws_acm_certificate_validation.dns_primary-certificate-validation_E5CF752A",
      "aws_acm_certificate_validation.dns_secondary-certificate-validation_1CAB39AD",
      "aws_route53_health_check.dns_primary-health-check_C8669280",
      "aws_route53_health_check.dns_secondary-health-check_035E041C",
      "aws_route53_record.dns_certificate-validation-record_08246D04",
      "aws_route53_record.dns_failover-primary-record_D32CD04B",
      "aws_route53_record.dns_failover-secondary-record_B19D783D",
      "data.aws_route53_zone.dns_zone_2E2729FB",
    ]);
  });

  describe("hosted zone", () => {
    it("looks up a public zone by name and puts every record in it", () => {
      const zone = dataSourceAt(json, "aws_route53_zone", "dns/zone");
      expect(zone).toMatchObject({
        name: "example.com",
        private_zone: false,
        provider: "aws.primary",
      });
      expect(zone).not.toHaveProperty("zone_id");
      const zoneRef = `\${data.aws_route53_zone.${Object.keys(json.data?.aws_route53_zone ?? {})[0]}.zone_id}`;
      for (const record of listResources(json, "aws_route53_record")) {
        expect(record.zone_id).toBe(zoneRef);
      }
    });

    it("uses a zone id as given and checks at plan time that the zone is public and holds the domain", () => {
      const byId = synthDns({ hostedZone: { id: "Z0123456789ABCDEFGHIJ" } });
      expect(dataSourceAt(byId, "aws_route53_zone", "dns/zone")).toMatchObject({
        zone_id: "Z0123456789ABCDEFGHIJ",
        provider: "aws.primary",
        lifecycle: {
          postcondition: [
            { condition: `\${!self.private_zone}` },
            {
              condition: `\${((self.name == "shop.example.com") || endswith("shop.example.com", ".\${self.name}"))}`,
              error_message:
                "The hosted zone does not contain shop.example.com; use the zone that holds it.",
            },
          ],
        },
      });
      for (const record of listResources(byId, "aws_route53_record")) {
        expect(record.zone_id).toBe("Z0123456789ABCDEFGHIJ");
      }
    });
  });

  describe("certificates", () => {
    it("requests a DNS-validated certificate for the domain in each region, created before the old one is destroyed", () => {
      for (const role of ["primary", "secondary"] as const) {
        expect(resourceAt(json, "aws_acm_certificate", `dns/${role}-certificate`)).toMatchObject({
          provider: `aws.${role}`,
          domain_name: "shop.example.com",
          validation_method: "DNS",
          lifecycle: { create_before_destroy: true },
          tags: { Name: `shop-test-${role}-certificate` },
        });
      }
    });

    it("creates the validation CNAME once, from the primary certificate, allowing overwrite", () => {
      const validationRecords = listResources(json, "aws_route53_record").filter(
        (record) => record.for_each !== undefined,
      );
      expect(validationRecords).toHaveLength(1);
      const primaryCertificate = logicalIdAt(
        json,
        "aws_acm_certificate",
        "dns/primary-certificate",
      );
      expect(validationRecords[0]).toMatchObject({
        provider: "aws.primary",
        for_each: `\${{ for key, val in tolist(aws_acm_certificate.${primaryCertificate}.domain_validation_options): val.domain_name => val }}`,
        name: `\${each.value.resource_record_name}`,
        type: `\${each.value.resource_record_type}`,
        records: [`\${each.value.resource_record_value}`],
        ttl: 60,
        allow_overwrite: true,
      });
    });

    it("validates each region's certificate in that region against the shared validation record", () => {
      const validationRecord = logicalIdAt(
        json,
        "aws_route53_record",
        "dns/certificate-validation-record",
      );
      for (const role of ["primary", "secondary"] as const) {
        const certificate = logicalIdAt(json, "aws_acm_certificate", `dns/${role}-certificate`);
        expect(
          resourceAt(json, "aws_acm_certificate_validation", `dns/${role}-certificate-validation`),
        ).toMatchObject({
          provider: `aws.${role}`,
          certificate_arn: `\${aws_acm_certificate.${certificate}.arn}`,
          validation_record_fqdns: `\${[ for key, val in aws_route53_record.${validationRecord}: val.fqdn]}`,
        });
      }
    });

    it("exposes the validated certificate ARN of each region, so listeners wait for validation", () => {
      const { stack, dns } = dnsStack();
      new TerraformOutput(stack, "primary-certificate", { value: dns.certificateArns.primary });
      new TerraformOutput(stack, "secondary-certificate", { value: dns.certificateArns.secondary });
      const outputs = synth(stack);
      for (const role of ["primary", "secondary"] as const) {
        const validation = logicalIdAt(
          outputs,
          "aws_acm_certificate_validation",
          `dns/${role}-certificate-validation`,
        );
        expect(outputs.output?.[`${role}-certificate`]?.value).toBe(
          `\${aws_acm_certificate_validation.${validation}.certificate_arn}`,
        );
      }
    });
  });

  describe("failover", () => {
    it("checks each load balancer over HTTPS with SNI at the configured path, interval and threshold", () => {
      const custom = synthDns({
        healthCheck: { intervalSeconds: 30, failureThreshold: 5, path: "/healthz" },
      });
      for (const role of ["primary", "secondary"] as const) {
        expect(
          resourceAt(custom, "aws_route53_health_check", `dns/${role}-health-check`),
        ).toMatchObject({
          provider: "aws.primary",
          type: "HTTPS",
          fqdn: ENDPOINTS[role].dnsName,
          port: 443,
          resource_path: "/healthz",
          request_interval: 30,
          failure_threshold: 5,
          enable_sni: true,
          tags: { Name: `shop-test-${role}-health-check` },
        });
      }
    });

    it("points PRIMARY at the primary region and SECONDARY at the other, each with its health check", () => {
      expect(failoverRecord(json, "primary")).toMatchObject({
        provider: "aws.primary",
        name: "shop.example.com",
        type: "A",
        set_identifier: "primary",
        failover_routing_policy: { type: "PRIMARY" },
        health_check_id: healthCheckId("primary"),
        alias: {
          name: ENDPOINTS.primary.dnsName,
          zone_id: ENDPOINTS.primary.zoneId,
          evaluate_target_health: true,
        },
      });
      expect(failoverRecord(json, "secondary")).toMatchObject({
        name: "shop.example.com",
        type: "A",
        set_identifier: "secondary",
        failover_routing_policy: { type: "SECONDARY" },
        health_check_id: healthCheckId("secondary"),
        alias: {
          name: ENDPOINTS.secondary.dnsName,
          zone_id: ENDPOINTS.secondary.zoneId,
          evaluate_target_health: true,
        },
      });
    });

    it("with activeRegion secondary, points PRIMARY at the secondary region without changing any address", () => {
      const failedOver = synthDns({ activeRegion: "secondary" });
      expect(addresses(failedOver)).toEqual(addresses(json));
      expect(failoverRecord(failedOver, "primary")).toMatchObject({
        set_identifier: "primary",
        failover_routing_policy: { type: "PRIMARY" },
        health_check_id: healthCheckId("secondary"),
        alias: { name: ENDPOINTS.secondary.dnsName, zone_id: ENDPOINTS.secondary.zoneId },
      });
      expect(failoverRecord(failedOver, "secondary")).toMatchObject({
        set_identifier: "secondary",
        failover_routing_policy: { type: "SECONDARY" },
        health_check_id: healthCheckId("primary"),
        alias: { name: ENDPOINTS.primary.dnsName, zone_id: ENDPOINTS.primary.zoneId },
      });
      // Health checks follow their load balancer, whichever record uses them.
      for (const role of ["primary", "secondary"] as const) {
        expect(
          resourceAt(failedOver, "aws_route53_health_check", `dns/${role}-health-check`).fqdn,
        ).toBe(ENDPOINTS[role].dnsName);
      }
    });

    it("exposes the health check id of each region's load balancer", () => {
      const { stack, dns } = dnsStack();
      new TerraformOutput(stack, "primary-health", { value: dns.healthCheckIds.primary });
      new TerraformOutput(stack, "secondary-health", { value: dns.healthCheckIds.secondary });
      const outputs = synth(stack);
      expect(outputs.output?.["primary-health"]?.value).toBe(healthCheckId("primary"));
      expect(outputs.output?.["secondary-health"]?.value).toBe(healthCheckId("secondary"));
    });

    it("creates no health checks or failover records until addFailoverRecords is called", () => {
      const withoutRecords = synth(dnsStack({}, { addRecords: false }).stack);
      expect(listResources(withoutRecords, "aws_route53_health_check")).toEqual([]);
      expect(
        listResources(withoutRecords, "aws_route53_record").map((r) => r.set_identifier),
      ).toEqual([undefined]);
    });
  });

  describe("traffic fences", () => {
    const fenced = synth(dnsStack({}, { fenced: true }).stack);
    const id = (type: string, path: string) => logicalIdAt(fenced, type, path);
    const ref = (type: string, path: string, attribute: string) =>
      `\${${type}.${id(type, path)}.${attribute}}`;

    it("adds an alarm, a fence check and a calculated check per region, and keeps every other address", () => {
      expect(addresses(fenced)).toEqual(
        [
          ...addresses(json),
          "aws_cloudwatch_metric_alarm.dns_primary-traffic-fence-alarm_6E397090",
          "aws_cloudwatch_metric_alarm.dns_secondary-traffic-fence-alarm_7D0A260C",
          "aws_route53_health_check.dns_primary-record-health-check_8C87B97D",
          "aws_route53_health_check.dns_primary-traffic-fence-health-check_F5D716C4",
          "aws_route53_health_check.dns_secondary-record-health-check_721FAED4",
          "aws_route53_health_check.dns_secondary-traffic-fence-health-check_1F0E47B0",
        ].sort(),
      );
    });

    it("alarms in the automation's region on each region's TrafficFenced metric, keeping its state without new data", () => {
      for (const role of ["primary", "secondary"] as const) {
        expect(
          resourceAt(fenced, "aws_cloudwatch_metric_alarm", `dns/${role}-traffic-fence-alarm`),
        ).toMatchObject({
          provider: "aws.secondary",
          alarm_name: `shop-test-dr-traffic-fence-${role}`,
          namespace: "ShopSmart/DR",
          metric_name: "TrafficFenced",
          dimensions: { Environment: "shop-test", RegionRole: role },
          statistic: "Maximum",
          period: 60,
          evaluation_periods: 1,
          datapoints_to_alarm: 1,
          comparison_operator: "GreaterThanOrEqualToThreshold",
          threshold: 1,
          treat_missing_data: "ignore",
        });
      }
    });

    it("follows each alarm with a CloudWatch-alarm health check, healthy until it knows better, that keeps its last status without data", () => {
      for (const role of ["primary", "secondary"] as const) {
        expect(
          resourceAt(fenced, "aws_route53_health_check", `dns/${role}-traffic-fence-health-check`),
        ).toMatchObject({
          provider: "aws.primary",
          type: "CLOUDWATCH_METRIC",
          // A reference: Terraform creates the alarm before the health check that reads it.
          cloudwatch_alarm_name: ref(
            "aws_cloudwatch_metric_alarm",
            `dns/${role}-traffic-fence-alarm`,
            "alarm_name",
          ),
          cloudwatch_alarm_region: "us-west-2",
          insufficient_data_health_status: "LastKnownStatus",
          tags: { Name: `shop-test-${role}-traffic-fence` },
        });
      }
    });

    it("guards each region's record with a calculated check that needs both its endpoint and its fence", () => {
      for (const role of ["primary", "secondary"] as const) {
        expect(
          resourceAt(fenced, "aws_route53_health_check", `dns/${role}-record-health-check`),
        ).toMatchObject({
          provider: "aws.primary",
          type: "CALCULATED",
          child_healthchecks: [
            ref("aws_route53_health_check", `dns/${role}-health-check`, "id"),
            ref("aws_route53_health_check", `dns/${role}-traffic-fence-health-check`, "id"),
          ],
          child_health_threshold: 2,
        });
      }
      const record = ref("aws_route53_health_check", "dns/primary-record-health-check", "id");
      expect(failoverRecord(fenced, "primary").health_check_id).toBe(record);
      expect(failoverRecord(fenced, "secondary").health_check_id).toBe(
        ref("aws_route53_health_check", "dns/secondary-record-health-check", "id"),
      );
    });

    it("with activeRegion secondary, guards each record with the calculated check of the region it points at", () => {
      const failedOver = synth(dnsStack({ activeRegion: "secondary" }, { fenced: true }).stack);
      expect(addresses(failedOver)).toEqual(addresses(fenced));
      expect(failoverRecord(failedOver, "primary").health_check_id).toBe(
        ref("aws_route53_health_check", "dns/secondary-record-health-check", "id"),
      );
      expect(failoverRecord(failedOver, "secondary").health_check_id).toBe(
        ref("aws_route53_health_check", "dns/primary-record-health-check", "id"),
      );
    });

    it("exposes the record checks, the endpoint checks and the fence alarms", () => {
      const { stack, dns } = dnsStack({}, { fenced: true });
      for (const role of ["primary", "secondary"] as const) {
        new TerraformOutput(stack, `${role}-record`, { value: dns.recordHealthCheckIds[role] });
        new TerraformOutput(stack, `${role}-endpoint`, { value: dns.healthCheckIds[role] });
        new TerraformOutput(stack, `${role}-fence-check`, {
          value: dns.trafficFenceHealthCheckIds[role],
        });
        new TerraformOutput(stack, `${role}-fence-alarm`, {
          value: dns.trafficFenceAlarmArns[role],
        });
      }
      const outputs = synth(stack);
      for (const role of ["primary", "secondary"] as const) {
        expect(outputs.output?.[`${role}-record`]?.value).toBe(
          ref("aws_route53_health_check", `dns/${role}-record-health-check`, "id"),
        );
        expect(outputs.output?.[`${role}-endpoint`]?.value).toBe(
          ref("aws_route53_health_check", `dns/${role}-health-check`, "id"),
        );
        expect(outputs.output?.[`${role}-fence-check`]?.value).toBe(
          ref("aws_route53_health_check", `dns/${role}-traffic-fence-health-check`, "id"),
        );
        expect(outputs.output?.[`${role}-fence-alarm`]?.value).toBe(
          ref("aws_cloudwatch_metric_alarm", `dns/${role}-traffic-fence-alarm`, "arn"),
        );
      }
      expect(dns.trafficFenceAlarmNames).toEqual({
        primary: "shop-test-dr-traffic-fence-primary",
        secondary: "shop-test-dr-traffic-fence-secondary",
      });
    });

    it("without trafficFence, guards each record with its endpoint check and creates no alarm", () => {
      expect(resourcesOf(json, "aws_cloudwatch_metric_alarm")).toEqual({});
      expect(listResources(json, "aws_route53_health_check").map((check) => check.type)).toEqual([
        "HTTPS",
        "HTTPS",
      ]);
      const { dns } = dnsStack();
      expect(dns.recordHealthCheckIds).toEqual(dns.healthCheckIds);
    });

    it("fails when the fence alarms are read without trafficFence, or before addFailoverRecords", () => {
      expect(() => dnsStack().dns.trafficFenceAlarmArns).toThrow(
        new ConstructMisuseError(
          "test/dns",
          "trafficFenceAlarmArns exists only with traffic fences; pass trafficFence (the " +
            "automation's region and provider) to create them.",
        ),
      );
      expect(
        () => dnsStack({}, { fenced: true, addRecords: false }).dns.trafficFenceAlarmNames,
      ).toThrow(
        new ConstructMisuseError(
          "test/dns",
          "trafficFenceAlarmNames is set by addFailoverRecords(); call addFailoverRecords() " +
            "with both load balancers before reading it.",
        ),
      );
    });

    it("fails when the fences would live in the primary region, or not in their provider's region", () => {
      expect(() =>
        dnsStack(
          {},
          { fence: (providers) => ({ provider: providers.primary, region: "us-east-2" }) },
        ),
      ).toThrow(
        [
          "Invalid props for test/dns:",
          '  - trafficFence.region: got "us-east-2"; expected a region other than the primary region (us-east-2, regionalProviders.primary): the automation sets the fences while the primary region is down, so they live in its region (the secondary)',
        ].join("\n"),
      );
      expect(() =>
        dnsStack(
          {},
          { fence: (providers) => ({ provider: providers.secondary, region: "eu-west-1" }) },
        ),
      ).toThrow(
        [
          "Invalid props for test/dns:",
          '  - trafficFence.region: got "eu-west-1"; expected the region of trafficFence.provider (us-west-2)',
        ].join("\n"),
      );
    });
  });

  describe("misuse", () => {
    it("fails when addFailoverRecords is called a second time", () => {
      const { dns } = dnsStack();
      expect(() => dns.addFailoverRecords(ENDPOINTS)).toThrow(
        new ConstructMisuseError(
          "test/dns",
          "addFailoverRecords() was already called; a Dns construct holds exactly one " +
            "pair of failover records, so call it once with both load balancers.",
        ),
      );
    });

    it("fails when healthCheckIds is read before addFailoverRecords", () => {
      const { dns } = dnsStack({}, { addRecords: false });
      expect(() => dns.healthCheckIds).toThrow(
        new ConstructMisuseError(
          "test/dns",
          "healthCheckIds is set by addFailoverRecords(); call addFailoverRecords() " +
            "with both load balancers before reading it.",
        ),
      );
    });
  });

  describe("props", () => {
    it("fails on a malformed domain, zone id, health-check settings and active region, all at once", () => {
      expect(() =>
        dnsStack({
          domainName: "Shop.Example.com",
          hostedZone: { id: "not-a-zone" },
          healthCheck: { intervalSeconds: 15 as 10, failureThreshold: 11, path: "health" },
          activeRegion: "tertiary" as RegionRole,
        }),
      ).toThrow(
        [
          "Invalid props for test/dns:",
          '  - domainName: got "Shop.Example.com"; expected a domain name such as shop.example.com (lower-case)',
          '  - hostedZone.id: got "not-a-zone"; expected a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ',
          "  - healthCheck.intervalSeconds: got 15; expected 10 or 30 (the intervals Route 53 supports)",
          "  - healthCheck.failureThreshold: got 11; expected a whole number from 1 to 10",
          `  - healthCheck.path: got "health"; expected a URL path starting with '/' of letters, digits, '_', '.', '/' and '-', at most 255 characters, e.g. /health`,
          '  - activeRegion: got "tertiary"; expected "primary" or "secondary"',
        ].join("\n"),
      );
    });

    it("fails on a failure threshold below 1 and a zone name that is not a domain", () => {
      expect(() =>
        dnsStack({
          hostedZone: { name: "example" },
          healthCheck: { intervalSeconds: 30, failureThreshold: 0, path: "/health" },
        }),
      ).toThrow(
        [
          "Invalid props for test/dns:",
          '  - hostedZone.name: got "example"; expected a domain name such as example.com',
          "  - healthCheck.failureThreshold: got 0; expected a whole number from 1 to 10",
        ].join("\n"),
      );
    });

    it("fails when the domain lies outside the hosted zone it is looked up in", () => {
      expect(() =>
        dnsStack({ domainName: "shop.example.org", hostedZone: { name: "example.com" } }),
      ).toThrow(
        [
          "Invalid props for test/dns:",
          '  - domainName: got "shop.example.org"; expected a name inside the hosted zone example.com (example.com itself or ending in .example.com)',
        ].join("\n"),
      );
    });

    it("fails on a domain that only ends with the zone's name as text, not as a label", () => {
      expect(() =>
        dnsStack({ domainName: "shopexample.com", hostedZone: { name: "example.com" } }),
      ).toThrow(
        [
          "Invalid props for test/dns:",
          '  - domainName: got "shopexample.com"; expected a name inside the hosted zone example.com (example.com itself or ending in .example.com)',
        ].join("\n"),
      );
    });

    it("accepts the zone apex as the domain", () => {
      const apex = synthDns({ domainName: "example.com" });
      expect(failoverRecord(apex, "primary").name).toBe("example.com");
    });
  });
});
