import { describe, expect, it } from "vitest";
import { Networking, type NetworkingProps } from "../../src/constructs/networking";
import {
  listResources,
  policyStatements,
  resourceAt,
  resourcesOf,
  stackWithProviders,
  synth,
} from "../support/synth";

function synthNetworking(overrides: Partial<Omit<NetworkingProps, "provider">> = {}) {
  const { stack, providers } = stackWithProviders();
  new Networking(stack, "networking", {
    provider: providers.primary,
    region: "us-east-2",
    accountId: "111111111111",
    namePrefix: "shop-test-primary",
    vpcCidr: "10.10.0.0/16",
    kmsKeyArn: "arn:aws:kms:us-east-2:111111111111:key/example",
    ...overrides,
  });
  return synth(stack);
}

describe("Networking", () => {
  it("creates a VPC with DNS support in the given provider's region", () => {
    const json = synthNetworking();
    expect(resourceAt(json, "aws_vpc", "networking/vpc")).toMatchObject({
      cidr_block: "10.10.0.0/16",
      enable_dns_hostnames: true,
      enable_dns_support: true,
      provider: "aws.primary",
      tags: { Name: "shop-test-primary-vpc" },
    });
  });

  it("carves public, private and database subnets per AZ from fixed slots of the VPC range", () => {
    const json = synthNetworking({ azCount: 3 });
    const cidrs = listResources(json, "aws_subnet").map((s) => [
      (s.tags as Record<string, string>).Name,
      s.cidr_block,
    ]);
    expect(Object.fromEntries(cidrs)).toEqual({
      "shop-test-primary-public-0": "10.10.0.0/20",
      "shop-test-primary-public-1": "10.10.16.0/20",
      "shop-test-primary-public-2": "10.10.32.0/20",
      "shop-test-primary-private-0": "10.10.64.0/20",
      "shop-test-primary-private-1": "10.10.80.0/20",
      "shop-test-primary-private-2": "10.10.96.0/20",
      "shop-test-primary-database-0": "10.10.128.0/20",
      "shop-test-primary-database-1": "10.10.144.0/20",
      "shop-test-primary-database-2": "10.10.160.0/20",
    });
    // Each subnet lands in a distinct AZ of the region's own (non-local) zones.
    const zones = listResources(json, "aws_subnet").map((s) => s.availability_zone);
    expect(new Set(zones).size).toBe(3);
    expect(zones[0]).toMatch(/^\$\{element\(data\.aws_availability_zones\..*\.names, \d\)\}$/);
  });

  it("gives each AZ its own NAT gateway by default", () => {
    const json = synthNetworking({ azCount: 3 });
    expect(listResources(json, "aws_nat_gateway")).toHaveLength(3);
    expect(listResources(json, "aws_eip")).toHaveLength(3);
    const routes = listResources(json, "aws_route").filter((r) => r.nat_gateway_id !== undefined);
    expect(new Set(routes.map((r) => r.nat_gateway_id)).size).toBe(3);
  });

  it("routes every private subnet through one NAT gateway in single mode", () => {
    const json = synthNetworking({ azCount: 3, natGateways: "single" });
    expect(listResources(json, "aws_nat_gateway")).toHaveLength(1);
    const routes = listResources(json, "aws_route").filter((r) => r.nat_gateway_id !== undefined);
    expect(routes).toHaveLength(3);
    expect(new Set(routes.map((r) => r.nat_gateway_id)).size).toBe(1);
  });

  it("sends public traffic to the internet gateway and gives database subnets no default route", () => {
    const json = synthNetworking({ azCount: 2 });
    expect(resourceAt(json, "aws_route", "public-default-route")).toMatchObject({
      destination_cidr_block: "0.0.0.0/0",
      gateway_id: expect.stringContaining("aws_internet_gateway."),
    });
    const databaseTable = resourceAt(json, "aws_route_table", "database-routes");
    expect(databaseTable.route).toBeUndefined();
    const tableRoutes = listResources(json, "aws_route").map((r) => r.route_table_id as string);
    expect(tableRoutes.some((id) => id.includes("database-routes"))).toBe(false);
    expect(listResources(json, "aws_route_table_association")).toHaveLength(6);
  });

  it("adds S3 and DynamoDB gateway endpoints on the private and database route tables", () => {
    const json = synthNetworking({ azCount: 2 });
    const endpoints = listResources(json, "aws_vpc_endpoint");
    expect(endpoints.map((e) => e.service_name).sort()).toEqual([
      "com.amazonaws.us-east-2.dynamodb",
      "com.amazonaws.us-east-2.s3",
    ]);
    for (const endpoint of endpoints) {
      expect(endpoint.vpc_endpoint_type).toBe("Gateway");
      // Two private tables (one per AZ) and the database table.
      expect(endpoint.route_table_ids).toHaveLength(3);
    }
  });

  it("sends all VPC flow logs to an encrypted log group with the configured retention", () => {
    const json = synthNetworking({ flowLogRetentionDays: 90 });
    expect(resourceAt(json, "aws_cloudwatch_log_group", "flow-log-group")).toMatchObject({
      name: "/shop-test-primary/vpc-flow-logs",
      retention_in_days: 90,
      kms_key_id: "arn:aws:kms:us-east-2:111111111111:key/example",
    });
    expect(resourceAt(json, "aws_flow_log", "flow-log")).toMatchObject({
      traffic_type: "ALL",
      log_destination_type: "cloud-watch-logs",
      max_aggregation_interval: 60,
    });
  });

  it("scopes the flow-log role to this account's flow logs and its own log group", () => {
    const json = synthNetworking();
    const [trust] = policyStatements(json, "flow-log-trust");
    expect(trust.principals).toEqual([
      { type: "Service", identifiers: ["vpc-flow-logs.amazonaws.com"] },
    ]);
    expect(trust.condition).toContainEqual({
      test: "StringEquals",
      variable: "aws:SourceAccount",
      values: ["111111111111"],
    });
    const statements = policyStatements(json, "flow-log-permissions");
    for (const statement of statements) {
      expect(statement.actions.every((a) => !a.includes("*"))).toBe(true);
      expect(statement.resources).not.toContain("*");
    }
    expect(statements[0].resources?.[0]).toMatch(/aws_cloudwatch_log_group\..*\.arn\}:\*$/);
  });

  it("strips every rule from the default security group", () => {
    const json = synthNetworking();
    const [defaultGroup] = listResources(json, "aws_default_security_group");
    expect(defaultGroup.ingress).toBeUndefined();
    expect(defaultGroup.egress).toBeUndefined();
    expect(Object.keys(resourcesOf(json, "aws_default_security_group"))).toHaveLength(1);
  });

  it("fails on a VPC range the subnet plan cannot use and an AZ count out of range", () => {
    expect(() => synthNetworking({ vpcCidr: "10.10.0.0/24", azCount: 5 })).toThrow(
      [
        "Invalid props for test/networking:",
        '  - vpcCidr: got "10.10.0.0/24"; expected an IPv4 network from /16 to /22 with no host bits set, e.g. 10.10.0.0/16',
        "  - azCount: got 5; expected a whole number from 2 to 4",
      ].join("\n"),
    );
  });
});
