import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DataAwsAvailabilityZones } from "@cdktf/provider-aws/lib/data-aws-availability-zones";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Route } from "@cdktf/provider-aws/lib/route";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { Fn } from "cdktf";
import { Construct } from "constructs";
import { AZ_COUNT_RANGE, VPC_PREFIX_RANGE } from "../config/schema";
import { ProblemCollector } from "../errors";
import { formatIpv4Cidr, type Ipv4Cidr, parseIpv4Cidr, subnetCidr } from "../ipv4-cidr";
import { serviceTrustPolicy } from "./service-trust";

/** How many NAT gateways a region gets. */
export type NatGatewayMode = "per-az" | "single";

export interface NetworkingProps {
  /** Provider of the region this network is built in. */
  readonly provider: AwsProvider;
  /** Region of `provider` (used in names and to scope the flow-log role). */
  readonly region: string;
  /** Account id, to scope the flow-log role's trust to this account. */
  readonly accountId: string;
  /** Prefix of every name and `Name` tag, e.g. `shopsmart-prod-primary`. */
  readonly namePrefix: string;
  /** VPC range; /16 to /22, not overlapping the other region's. */
  readonly vpcCidr: string;
  /** Availability zones to spread subnets over (2 to 4). @default 3 */
  readonly azCount?: number;
  /**
   * One NAT gateway per AZ, so losing an AZ does not cut the others off the internet; or a
   * single one for the region, cheaper but a single point of failure (dev only).
   * @default "per-az"
   */
  readonly natGateways?: NatGatewayMode;
  /** KMS key that encrypts the flow-log group. */
  readonly kmsKeyArn: string;
  /** Days VPC flow logs are kept in CloudWatch Logs. @default 30 */
  readonly flowLogRetentionDays?: number;
}

/** The three subnet tiers; each AZ gets one subnet of each. */
const TIERS = ["public", "private", "database"] as const;
type Tier = (typeof TIERS)[number];

/**
 * The VPC of one region: public subnets (load balancer, NAT), private subnets (web tier) and
 * isolated database subnets, spread over `azCount` AZs; an internet gateway; NAT gateways;
 * gateway endpoints so S3 and DynamoDB traffic stays off the NAT; VPC flow logs to an encrypted
 * log group; and the default security group emptied, so nothing lands in it by accident.
 *
 * Subnet plan: the VPC range is cut into four equal tier blocks (public, private, database, one
 * spare), and each tier block into four AZ slots, so a /16 gives /20 subnets and adding an AZ
 * never moves an existing subnet.
 */
export class Networking extends Construct {
  readonly vpc: Vpc;
  readonly vpcId: string;
  readonly publicSubnetIds: string[];
  readonly privateSubnetIds: string[];
  readonly databaseSubnetIds: string[];

  constructor(scope: Construct, id: string, props: NetworkingProps) {
    super(scope, id);
    const azCount = props.azCount ?? 3;
    const natGateways = props.natGateways ?? "per-az";
    const flowLogRetentionDays = props.flowLogRetentionDays ?? 30;
    const vpcRange = validate(this.node.path, props, azCount);
    const { provider, namePrefix } = props;
    const tags = (name: string) => ({ Name: `${namePrefix}-${name}` });

    this.vpc = new Vpc(this, "vpc", {
      provider,
      cidrBlock: props.vpcCidr,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: tags("vpc"),
    });
    this.vpcId = this.vpc.id;

    const zones = new DataAwsAvailabilityZones(this, "zones", {
      provider,
      state: "available",
      // Only the region's own AZs; Local Zones and Wavelength Zones lack most services.
      filter: [{ name: "opt-in-status", values: ["opt-in-not-required"] }],
    });

    const subnets: Record<Tier, Subnet[]> = { public: [], private: [], database: [] };
    for (const [tierIndex, tier] of TIERS.entries()) {
      const tierBlock = subnetCidr(vpcRange, 2, tierIndex);
      for (let az = 0; az < azCount; az++) {
        subnets[tier].push(
          new Subnet(this, `${tier}-subnet-${az}`, {
            provider,
            vpcId: this.vpc.id,
            cidrBlock: formatIpv4Cidr(subnetCidr(tierBlock, 2, az)),
            availabilityZone: Fn.element(zones.names, az),
            tags: { ...tags(`${tier}-${az}`), tier },
          }),
        );
      }
    }
    this.publicSubnetIds = subnets.public.map((s) => s.id);
    this.privateSubnetIds = subnets.private.map((s) => s.id);
    this.databaseSubnetIds = subnets.database.map((s) => s.id);

    const internetGateway = new InternetGateway(this, "internet-gateway", {
      provider,
      vpcId: this.vpc.id,
      tags: tags("igw"),
    });
    const publicRoutes = new RouteTable(this, "public-routes", {
      provider,
      vpcId: this.vpc.id,
      tags: tags("public"),
    });
    new Route(this, "public-default-route", {
      provider,
      routeTableId: publicRoutes.id,
      destinationCidrBlock: "0.0.0.0/0",
      gatewayId: internetGateway.id,
    });
    subnets.public.forEach((subnet, az) => {
      new RouteTableAssociation(this, `public-subnet-${az}-routes`, {
        provider,
        subnetId: subnet.id,
        routeTableId: publicRoutes.id,
      });
    });

    const natCount = natGateways === "per-az" ? azCount : 1;
    const nats: NatGateway[] = [];
    for (let az = 0; az < natCount; az++) {
      const address = new Eip(this, `nat-address-${az}`, {
        provider,
        domain: "vpc",
        tags: tags(`nat-${az}`),
      });
      nats.push(
        new NatGateway(this, `nat-gateway-${az}`, {
          provider,
          allocationId: address.allocationId,
          subnetId: subnets.public[az].id,
          tags: tags(`nat-${az}`),
          dependsOn: [internetGateway],
        }),
      );
    }

    // One private route table per AZ, each to its own AZ's NAT gateway (or the single one).
    const privateRoutes = subnets.private.map((subnet, az) => {
      const table = new RouteTable(this, `private-routes-${az}`, {
        provider,
        vpcId: this.vpc.id,
        tags: tags(`private-${az}`),
      });
      new Route(this, `private-default-route-${az}`, {
        provider,
        routeTableId: table.id,
        destinationCidrBlock: "0.0.0.0/0",
        natGatewayId: nats[Math.min(az, nats.length - 1)].id,
      });
      new RouteTableAssociation(this, `private-subnet-${az}-routes`, {
        provider,
        subnetId: subnet.id,
        routeTableId: table.id,
      });
      return table;
    });

    // Database subnets have no route to the internet at all.
    const databaseRoutes = new RouteTable(this, "database-routes", {
      provider,
      vpcId: this.vpc.id,
      tags: tags("database"),
    });
    subnets.database.forEach((subnet, az) => {
      new RouteTableAssociation(this, `database-subnet-${az}-routes`, {
        provider,
        subnetId: subnet.id,
        routeTableId: databaseRoutes.id,
      });
    });

    const endpointRouteTables = [...privateRoutes.map((t) => t.id), databaseRoutes.id];
    for (const service of ["s3", "dynamodb"]) {
      new VpcEndpoint(this, `${service}-endpoint`, {
        provider,
        vpcId: this.vpc.id,
        serviceName: `com.amazonaws.${props.region}.${service}`,
        vpcEndpointType: "Gateway",
        routeTableIds: endpointRouteTables,
        tags: tags(`${service}-endpoint`),
      });
    }

    // Declaring the default security group with no rules removes the allow-all rules AWS adds.
    new DefaultSecurityGroup(this, "default-security-group", {
      provider,
      vpcId: this.vpc.id,
      tags: tags("default-deny-all"),
    });

    this.addFlowLogs(props, flowLogRetentionDays);
  }

  private addFlowLogs(props: NetworkingProps, retentionDays: number): void {
    const { provider, namePrefix, region, accountId } = props;
    const logGroup = new CloudwatchLogGroup(this, "flow-log-group", {
      provider,
      name: `/${namePrefix}/vpc-flow-logs`,
      retentionInDays: retentionDays,
      kmsKeyId: props.kmsKeyArn,
    });
    const trust = serviceTrustPolicy(this, "flow-log-trust", {
      provider,
      service: "vpc-flow-logs.amazonaws.com",
      // Confused-deputy guard: only flow logs of this account and region may assume the role.
      condition: [
        { test: "StringEquals", variable: "aws:SourceAccount", values: [accountId] },
        {
          test: "ArnLike",
          variable: "aws:SourceArn",
          values: [`arn:aws:ec2:${region}:${accountId}:vpc-flow-log/*`],
        },
      ],
    });
    const role = new IamRole(this, "flow-log-role", {
      provider,
      name: `${namePrefix}-vpc-flow-logs`,
      assumeRolePolicy: trust.json,
    });
    const permissions = new DataAwsIamPolicyDocument(this, "flow-log-permissions", {
      provider,
      statement: [
        {
          actions: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
          resources: [`${logGroup.arn}:*`],
        },
        {
          actions: ["logs:DescribeLogGroups"],
          resources: [`arn:aws:logs:${region}:${accountId}:log-group:*`],
        },
      ],
    });
    new IamRolePolicy(this, "flow-log-policy", {
      provider,
      role: role.id,
      name: "write-flow-logs",
      policy: permissions.json,
    });
    new FlowLog(this, "flow-log", {
      provider,
      vpcId: this.vpc.id,
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: logGroup.arn,
      iamRoleArn: role.arn,
      maxAggregationInterval: 60,
      tags: { Name: `${namePrefix}-vpc-flow-log` },
    });
  }
}

function validate(path: string, props: NetworkingProps, azCount: number): Ipv4Cidr {
  const problems = new ProblemCollector();
  const range = parseIpv4Cidr(props.vpcCidr);
  if (
    !range ||
    range.prefixLength < VPC_PREFIX_RANGE.min ||
    range.prefixLength > VPC_PREFIX_RANGE.max
  ) {
    problems.add(
      "vpcCidr",
      props.vpcCidr,
      `an IPv4 network from /${VPC_PREFIX_RANGE.min} to /${VPC_PREFIX_RANGE.max} with no host bits set, e.g. 10.10.0.0/16`,
    );
  }
  if (!Number.isInteger(azCount) || azCount < AZ_COUNT_RANGE.min || azCount > AZ_COUNT_RANGE.max) {
    problems.add(
      "azCount",
      azCount,
      `a whole number from ${AZ_COUNT_RANGE.min} to ${AZ_COUNT_RANGE.max}`,
    );
  }
  if (
    props.natGateways !== undefined &&
    props.natGateways !== "per-az" &&
    props.natGateways !== "single"
  ) {
    problems.add("natGateways", props.natGateways, '"per-az" or "single"');
  }
  problems.throwIfAnyFor(path);
  return range as Ipv4Cidr;
}
