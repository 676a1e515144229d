import { TerraformOutput } from "cdktf";
import { describe, expect, it } from "vitest";
import type { RegionRole } from "../../src/config/schema";
import { Dns, type DnsProps } from "../../src/constructs/dns";
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

type Overrides = Partial<Omit<DnsProps, "provider" | "regionalProviders">>;

/** A stack with one Dns construct (id `dns`); failover records added unless told otherwise. */
function dnsStack(overrides: Overrides = {}, options: { addRecords?: boolean } = {}) {
  const { stack, providers } = stackWithProviders();
  const dns = new Dns(stack, "dns", {
    provider: providers.primary,
    regionalProviders: providers,
    domainName: "shop.example.com",
    hostedZone: { name: "example.com" },
    healthCheck: { intervalSeconds: 10, failureThreshold: 3, path: "/health" },
    namePrefix: "shop-test",
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
          `  - healthCheck.path: got "health"; expected a URL path starting with '/', without spaces, at most 255 characters, e.g. /health`,
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
