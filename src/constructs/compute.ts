import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { AutoscalingPolicy } from "@cdktf/provider-aws/lib/autoscaling-policy";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsDefaultTags } from "@cdktf/provider-aws/lib/data-aws-default-tags";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { DataAwsVpc } from "@cdktf/provider-aws/lib/data-aws-vpc";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { IamServiceLinkedRole } from "@cdktf/provider-aws/lib/iam-service-linked-role";
import { KmsGrant } from "@cdktf/provider-aws/lib/kms-grant";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Fn, type ITerraformDependable, TerraformIterator, Token } from "cdktf";
import { Construct } from "constructs";
import type { RegionRole } from "../../functions/shared/region-roles";
import { webTierName } from "../../functions/shared/resource-names";
import {
  EC2_INSTANCE_TYPE,
  HEALTH_PATH,
  loadBalancerNamePrefix,
  S3_BUCKET_NAME,
  SSM_PARAMETER_PATH,
} from "../aws-formats";
import { isKnown, ProblemCollector } from "../errors";
import { parseIpv4Cidr } from "../ipv4-cidr";
import { serviceTrustPolicy, viaService } from "./service-trust";
import { webAppUserData } from "./web-app-user-data";

/** Instances in the Auto Scaling group: `1 <= minSize <= desiredCapacity <= maxSize`. */
export interface ComputeCapacity {
  readonly minSize: number;
  /** Instances at creation; afterwards scaling policies and the failover automation own it. */
  readonly desiredCapacity: number;
  readonly maxSize: number;
}

/** Break-glass SSH access; instances are otherwise reached through SSM Session Manager. */
export interface ComputeSshAccess {
  /** EC2 key pair installed on the instances. */
  readonly keyName: string;
  /** The only IPv4 network port 22 is open to; never 0.0.0.0/0. */
  readonly allowedCidr: string;
}

/**
 * Where the load balancer writes its access logs: a bucket in its own region, encrypted with
 * SSE-S3 (the only encryption ALB access logs support) and with a policy that lets Elastic Load
 * Balancing write under `<prefix>/AWSLogs/<account>/`
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html).
 * `Storage.loadBalancerAccessLogs` is such a target.
 */
export interface LoadBalancerAccessLogs {
  readonly bucketName: string;
  /**
   * Key prefix of the logs, without a leading or trailing "/" and without "AWSLogs": ELB adds
   * `/AWSLogs/<account>/elasticloadbalancing/...` after it itself.
   */
  readonly prefix: string;
  /**
   * What must exist before the load balancer, above all the bucket policy that grants log
   * delivery: ELB checks that it can write to the bucket when access logs are turned on, and
   * the create fails otherwise.
   * @default - nothing
   */
  readonly dependsOn?: readonly ITerraformDependable[];
}

export interface ComputeProps {
  /** Provider of the region the web tier runs in. */
  readonly provider: AwsProvider;
  /** Region of `provider`; scopes the instance role's SSM and KMS permissions. */
  readonly region: string;
  /** Role of this region; baked into the web app, which reports it on the health endpoint. */
  readonly role: RegionRole;
  /**
   * Prefix of every name, `<project>-<env>-<role>`. It names the load balancer and target
   * group, so at most 32 letters, digits and hyphens.
   */
  readonly namePrefix: string;
  readonly vpcId: string;
  /** Subnets of the internet-facing load balancer; at least two, in different AZs. */
  readonly publicSubnetIds: string[];
  /** Subnets the instances run in. */
  readonly privateSubnetIds: string[];
  /** Validated ACM certificate in this region, for the HTTPS listener. */
  readonly certificateArn: string;
  /** EC2 instance type; a Graviton type (e.g. `m7g.large`) gets the arm64 AMI. */
  readonly instanceType: string;
  readonly capacity: ComputeCapacity;
  /** SSM path the web app reads its settings from at boot, e.g. "/shopsmart/prod/". */
  readonly parameterPath: string;
  /** Secret the app may read (the DB credentials in this region). */
  readonly databaseSecretArn: string;
  /**
   * This region's KMS key: encrypts the instances' volumes and decrypts the secret and
   * SecureString parameters the app reads.
   */
  readonly kmsKeyArn: string;
  /** Path the load balancer checks and the web app answers. @default "/health" */
  readonly healthCheckPath?: string;
  /** Average CPU the target-tracking policy holds the group at, 10 to 90. @default 50 */
  readonly targetCpuPercent?: number;
  /** @default - no SSH at all: no key pair, no port 22 */
  readonly ssh?: ComputeSshAccess;
  /**
   * Account the instance role's SSM permissions are scoped to.
   * @default - the account of `provider`, looked up with aws_caller_identity
   */
  readonly accountId?: string;
  /**
   * Load balancer deletion protection: AWS refuses to delete the load balancer (and so
   * `terraform destroy` fails on it) until it is switched off. Turn it off in environments that
   * are torn down routinely.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * Access logs of the load balancer (one object per node every 5 minutes).
   * @default - no access logs
   */
  readonly accessLogs?: LoadBalancerAccessLogs;
}

/** Port the web app listens on; the target group forwards to it. */
export const APP_PORT = 8080;
/** Seconds after launch before failed ELB health checks replace an instance. */
const HEALTH_CHECK_GRACE_SECONDS = 180;
/** The AL2023 snapshot is 8 GiB; the rest is room for the journal and updates. */
const ROOT_VOLUME_GIB = 20;
const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";
const AMI_PARAMETER_PREFIX = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-";
/** The prefix ELB writes after the configured one; a configured prefix must not contain it. */
const RESERVED_LOG_PREFIX = "AWSLogs";
/** Load balancer and target group names; also keeps `AWSServiceRoleForAutoScaling_<prefix>` within 64. */
const LOAD_BALANCER_NAME_MAX = 32;
// Graviton families: a generation digit followed by "g" (m7g, c7gn, r8gd, t4g, im4gn), or a1.
const GRAVITON_FAMILY = /^(a1|[a-z]+\d+g[a-z]*(-flex)?)$/;
/** Metrics the group publishes each minute; monitoring alarms on in-service vs desired. */
export const ASG_METRICS = [
  "GroupMinSize",
  "GroupMaxSize",
  "GroupDesiredCapacity",
  "GroupInServiceInstances",
  "GroupPendingInstances",
  "GroupTerminatingInstances",
  "GroupTotalInstances",
];

/** CPU architecture of the AMI an instance type needs. */
export function amiArchitecture(instanceType: string): "arm64" | "x86_64" {
  const family = instanceType.split(".")[0];
  return GRAVITON_FAMILY.test(family) ? "arm64" : "x86_64";
}

/** The public SSM parameter that holds the current Amazon Linux 2023 AMI for an instance type. */
export function amiParameterName(instanceType: string): string {
  return `${AMI_PARAMETER_PREFIX}${amiArchitecture(instanceType)}`;
}

/**
 * The web tier of one region: an internet-facing Application Load Balancer (HTTPS, with HTTP
 * redirected to HTTPS) in the public subnets, and an Auto Scaling group of Amazon Linux 2023
 * instances in the private subnets behind it, scaled on CPU. Each instance runs the small web app
 * of `webAppUserData`, whose health endpoint both the load balancer and Route 53 check.
 *
 * Instances are IMDSv2-only, have encrypted root volumes (the region's KMS key), are managed
 * through SSM Session Manager and accept SSH only when `ssh` is given, from its CIDR only.
 *
 * AMI. The launch template names the public AL2023 SSM parameter (`resolve:ssm:<name>`) rather
 * than an AMI id, and EC2 resolves it at each launch: instances start from the newest AMI, and
 * the template does not change when AWS publishes one, so no apply (not even the re-apply after
 * a failover, in the middle of an outage) rolls the fleets. The instance refresh below runs only
 * for real template changes (user data, instance type, ...). Instances launched by scaling get
 * the AMI current at their launch, so a group can run two AMIs until it is refreshed. To roll a
 * group onto the newest AMI, an operator starts a refresh without skip matching (with skip
 * matching and an unchanged template, a refresh succeeds at once and replaces nothing,
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/asg-instance-refresh-skip-matching.html):
 *
 * ```sh
 * aws autoscaling start-instance-refresh --region <region> \
 *   --auto-scaling-group-name <namePrefix>-web --strategy Rolling \
 *   --preferences '{"MinHealthyPercentage":100,"MaxHealthyPercentage":200,"SkipMatching":false}'
 * ```
 *
 * (docs/deploy.md: "Roll the fleets onto a new AMI").
 */
export class Compute extends Construct {
  readonly loadBalancerArn: string;
  /** The `app/<name>/<id>` part of the ARN, the `LoadBalancer` dimension of ALB metrics. */
  readonly loadBalancerArnSuffix: string;
  readonly loadBalancerDnsName: string;
  /** Hosted zone of the load balancer's DNS name, for Route 53 alias records. */
  readonly loadBalancerZoneId: string;
  readonly loadBalancerSecurityGroupId: string;
  readonly targetGroupArn: string;
  /** The `targetgroup/<name>/<id>` part of the ARN, the `TargetGroup` dimension of ALB metrics. */
  readonly targetGroupArnSuffix: string;
  readonly autoScalingGroupName: string;
  readonly autoScalingGroupArn: string;
  /** Security group of the instances; the database admits PostgreSQL from it. */
  readonly appSecurityGroupId: string;
  readonly instanceRoleArn: string;

  constructor(scope: Construct, id: string, props: ComputeProps) {
    super(scope, id);
    const healthCheckPath = props.healthCheckPath ?? "/health";
    const targetCpuPercent = props.targetCpuPercent ?? 50;
    validate(this.node.path, props, healthCheckPath, targetCpuPercent);
    const { provider, namePrefix } = props;
    const accountId =
      props.accountId ?? new DataAwsCallerIdentity(this, "account", { provider }).accountId;

    const securityGroups = this.addSecurityGroups(props);
    this.loadBalancerSecurityGroupId = securityGroups.loadBalancer.id;
    this.appSecurityGroupId = securityGroups.app.id;

    const loadBalancer = new Lb(this, "load-balancer", {
      provider,
      name: namePrefix,
      loadBalancerType: "application",
      internal: false,
      subnets: props.publicSubnetIds,
      securityGroups: [securityGroups.loadBalancer.id],
      dropInvalidHeaderFields: true,
      enableDeletionProtection: props.deletionProtection ?? true,
      accessLogs: props.accessLogs
        ? { bucket: props.accessLogs.bucketName, prefix: props.accessLogs.prefix, enabled: true }
        : undefined,
      dependsOn: props.accessLogs?.dependsOn ? [...props.accessLogs.dependsOn] : undefined,
    });
    this.loadBalancerArn = loadBalancer.arn;
    this.loadBalancerArnSuffix = loadBalancer.arnSuffix;
    this.loadBalancerDnsName = loadBalancer.dnsName;
    this.loadBalancerZoneId = loadBalancer.zoneId;

    const targetGroup = new LbTargetGroup(this, "target-group", {
      provider,
      name: namePrefix,
      vpcId: props.vpcId,
      targetType: "instance",
      protocol: "HTTP",
      port: APP_PORT,
      // Draining waits this long before an instance leaves during scale-in or refresh; the
      // app's requests are short, so the 300 s default only slows rollouts down.
      deregistrationDelay: "30",
      healthCheck: {
        enabled: true,
        protocol: "HTTP",
        port: "traffic-port",
        path: healthCheckPath,
        matcher: "200",
        interval: 10,
        timeout: 5,
        healthyThreshold: 2,
        unhealthyThreshold: 3,
      },
    });
    this.targetGroupArn = targetGroup.arn;
    this.targetGroupArnSuffix = targetGroup.arnSuffix;

    new LbListener(this, "https-listener", {
      provider,
      loadBalancerArn: loadBalancer.arn,
      port: 443,
      protocol: "HTTPS",
      sslPolicy: TLS_POLICY,
      certificateArn: props.certificateArn,
      defaultAction: [{ type: "forward", targetGroupArn: targetGroup.arn }],
    });
    new LbListener(this, "http-listener", {
      provider,
      loadBalancerArn: loadBalancer.arn,
      port: 80,
      protocol: "HTTP",
      defaultAction: [
        {
          type: "redirect",
          redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" },
        },
      ],
    });

    const instanceProfile = this.addInstanceRole(props, accountId);
    this.instanceRoleArn = instanceProfile.role.arn;

    const userData = webAppUserData({
      role: props.role,
      parameterPath: props.parameterPath,
      port: APP_PORT,
      healthCheckPath,
    });
    // The ASG does not get the provider's default tags; read them so instances and volumes
    // carry project/environment/dr-role like everything else.
    const defaultTags = new DataAwsDefaultTags(this, "default-tags", { provider });
    const instanceTags = Token.asStringMap(
      Fn.merge([defaultTags.tags, { Name: webTierName(namePrefix) }]),
    );

    const launchTemplate = new LaunchTemplate(this, "launch-template", {
      provider,
      name: webTierName(namePrefix),
      // EC2 resolves the parameter to the current AMI at each launch, so the template stays the
      // same when a new AMI is published
      // (https://docs.aws.amazon.com/autoscaling/ec2/userguide/using-systems-manager-parameters.html,
      // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/create-launch-template.html#use-an-ssm-parameter-instead-of-an-ami-id,
      // image_id in https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/launch_template).
      // Whoever creates the template needs ssm:GetParameters on the parameter; so does the
      // group's service-linked role at launch, which AutoScalingServiceRolePolicy grants on "*"
      // (statement SystemsManagerParameterManagement,
      // https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AutoScalingServiceRolePolicy.html).
      imageId: `resolve:ssm:${amiParameterName(props.instanceType)}`,
      instanceType: props.instanceType,
      keyName: props.ssh?.keyName,
      vpcSecurityGroupIds: [securityGroups.app.id],
      iamInstanceProfile: { arn: instanceProfile.profile.arn },
      // Base64 at synth time: launch templates require it, and the script never passes through
      // Terraform's template syntax.
      userData: Buffer.from(userData, "utf8").toString("base64"),
      updateDefaultVersion: true,
      metadataOptions: {
        httpEndpoint: "enabled",
        httpTokens: "required",
        // 1: only the instance itself reaches IMDS; nothing runs in containers here.
        httpPutResponseHopLimit: 1,
        instanceMetadataTags: "disabled",
      },
      monitoring: { enabled: true },
      blockDeviceMappings: [
        {
          deviceName: "/dev/xvda",
          ebs: {
            volumeType: "gp3",
            volumeSize: ROOT_VOLUME_GIB,
            encrypted: "true",
            kmsKeyId: props.kmsKeyArn,
            deleteOnTermination: "true",
          },
        },
      ],
      tagSpecifications: [{ resourceType: "volume", tags: instanceTags }],
    });

    const launchRole = this.addLaunchRole(props);

    const tags = TerraformIterator.fromMap(instanceTags);
    const group = new AutoscalingGroup(this, "group", {
      provider,
      name: webTierName(namePrefix),
      vpcZoneIdentifier: props.privateSubnetIds,
      launchTemplate: {
        id: launchTemplate.id,
        version: Token.asString(launchTemplate.latestVersion),
      },
      targetGroupArns: [targetGroup.arn],
      healthCheckType: "ELB",
      healthCheckGracePeriod: HEALTH_CHECK_GRACE_SECONDS,
      defaultInstanceWarmup: 120,
      minSize: props.capacity.minSize,
      maxSize: props.capacity.maxSize,
      desiredCapacity: props.capacity.desiredCapacity,
      enabledMetrics: ASG_METRICS,
      metricsGranularity: "1Minute",
      serviceLinkedRoleArn: launchRole.role.arn,
      // Started by Terraform when the launch template gets a new version; a new AMI alone makes
      // none (see the class docs for the refresh an operator starts then).
      instanceRefresh: {
        strategy: "Rolling",
        // Launch replacements before terminating: capacity never drops below desired, which
        // matters most for the one-instance warm standby.
        preferences: { minHealthyPercentage: 100, maxHealthyPercentage: 200, skipMatching: true },
      },
      tag: tags.dynamic({ key: tags.key, value: tags.value, propagate_at_launch: true }),
      // Without the grant, launches fail until it exists (encrypted volumes need the key).
      dependsOn: [launchRole.grant],
      lifecycle: {
        // Target tracking and the failover automation (scaling the standby up) own the desired
        // capacity; a routine apply must not scale the group back to the configured start value.
        // min/max still apply, and bound whatever they set.
        ignoreChanges: ["desired_capacity"],
      },
    });
    this.autoScalingGroupName = group.name;
    this.autoScalingGroupArn = group.arn;

    new AutoscalingPolicy(this, "cpu-target-tracking", {
      provider,
      name: `${namePrefix}-cpu-${targetCpuPercent}`,
      autoscalingGroupName: group.name,
      policyType: "TargetTrackingScaling",
      targetTrackingConfiguration: {
        predefinedMetricSpecification: { predefinedMetricType: "ASGAverageCPUUtilization" },
        targetValue: targetCpuPercent,
      },
    });
  }

  /**
   * Load balancer group: HTTPS and HTTP from anywhere (a public shop), out only to the app port.
   * App group: the app port from the load balancer only; out to HTTPS (AWS APIs through NAT)
   * and PostgreSQL within the VPC.
   */
  private addSecurityGroups(props: ComputeProps) {
    const { provider, namePrefix, vpcId } = props;
    const loadBalancer = new SecurityGroup(this, "load-balancer-security-group", {
      provider,
      name: `${namePrefix}-alb`,
      description: "Internet-facing load balancer of the web tier",
      vpcId,
      tags: { Name: `${namePrefix}-alb` },
    });
    const app = new SecurityGroup(this, "app-security-group", {
      provider,
      name: webTierName(namePrefix),
      description: "Web tier instances",
      vpcId,
      tags: { Name: webTierName(namePrefix) },
    });
    const tcp = { provider, ipProtocol: "tcp" };

    // The load balancer and the VPC are IPv4-only, so there is no ::/0 rule to add.
    for (const port of [443, 80]) {
      new VpcSecurityGroupIngressRule(this, `load-balancer-ingress-${port}`, {
        ...tcp,
        securityGroupId: loadBalancer.id,
        fromPort: port,
        toPort: port,
        cidrIpv4: "0.0.0.0/0",
        description: port === 443 ? "HTTPS from the internet" : "HTTP, redirected to HTTPS",
      });
    }
    new VpcSecurityGroupEgressRule(this, "load-balancer-egress-app", {
      ...tcp,
      securityGroupId: loadBalancer.id,
      fromPort: APP_PORT,
      toPort: APP_PORT,
      referencedSecurityGroupId: app.id,
      description: "Requests and health checks to the web instances",
    });

    new VpcSecurityGroupIngressRule(this, "app-ingress-load-balancer", {
      ...tcp,
      securityGroupId: app.id,
      fromPort: APP_PORT,
      toPort: APP_PORT,
      referencedSecurityGroupId: loadBalancer.id,
      description: "Requests and health checks from the load balancer",
    });
    if (props.ssh) {
      new VpcSecurityGroupIngressRule(this, "app-ingress-ssh", {
        ...tcp,
        securityGroupId: app.id,
        fromPort: 22,
        toPort: 22,
        cidrIpv4: props.ssh.allowedCidr,
        description: "Break-glass SSH from the configured network",
      });
    }
    new VpcSecurityGroupEgressRule(this, "app-egress-https", {
      ...tcp,
      securityGroupId: app.id,
      fromPort: 443,
      toPort: 443,
      cidrIpv4: "0.0.0.0/0",
      description: "AWS APIs (SSM, Secrets Manager, KMS) through the NAT gateways",
    });
    // The database's security group is not known here (the database admits this group through
    // Database.allowFrom); the VPC range keeps PostgreSQL traffic inside the region's network.
    const vpc = new DataAwsVpc(this, "vpc", { provider, id: vpcId });
    new VpcSecurityGroupEgressRule(this, "app-egress-database", {
      ...tcp,
      securityGroupId: app.id,
      fromPort: 5432,
      toPort: 5432,
      cidrIpv4: vpc.cidrBlock,
      description: "PostgreSQL to the database subnets",
    });
    return { loadBalancer, app };
  }

  /**
   * The instances' role: Session Manager access (the replacement for SSH), and read access to
   * the app's own parameters, its database secret and the key that encrypts them.
   */
  private addInstanceRole(props: ComputeProps, accountId: string) {
    const { provider, namePrefix, region } = props;
    const trust = serviceTrustPolicy(this, "instance-trust", {
      provider,
      service: "ec2.amazonaws.com",
    });
    const role = new IamRole(this, "instance-role", {
      provider,
      name: webTierName(namePrefix),
      assumeRolePolicy: trust.json,
    });
    new IamRolePolicyAttachment(this, "instance-ssm-core", {
      provider,
      role: role.name,
      policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    });

    const parameterArn = `arn:aws:ssm:${region}:${accountId}:parameter${props.parameterPath}`;
    const permissions = new DataAwsIamPolicyDocument(this, "instance-permissions", {
      provider,
      statement: [
        {
          sid: "ReadAppParameters",
          actions: ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
          resources: [`${parameterArn}*`],
        },
        {
          // GetParametersByPath is authorized on the path itself, which has no trailing slash.
          sid: "ListAppParameters",
          actions: ["ssm:GetParametersByPath"],
          resources: [parameterArn.replace(/\/$/, "")],
        },
        {
          sid: "ReadDatabaseSecret",
          actions: ["secretsmanager:GetSecretValue"],
          resources: [props.databaseSecretArn],
        },
        {
          sid: "DecryptSecretAndParameters",
          actions: ["kms:Decrypt"],
          resources: [props.kmsKeyArn],
          condition: [viaService(region, "secretsmanager", "ssm")],
        },
      ],
    });
    new IamRolePolicy(this, "instance-policy", {
      provider,
      role: role.id,
      name: "read-app-config",
      policy: permissions.json,
    });
    const profile = new IamInstanceProfile(this, "instance-profile", {
      provider,
      name: webTierName(namePrefix),
      role: role.name,
    });
    return { role, profile };
  }

  /**
   * The role Auto Scaling launches instances with, and its use of the KMS key.
   *
   * Volumes are encrypted with the region's customer-managed key (house rule), and Auto Scaling
   * can launch such instances only if its service-linked role may use the key
   * (https://docs.aws.amazon.com/autoscaling/ec2/userguide/key-policy-requirements-EBS-encryption.html).
   * Naming the default AWSServiceRoleForAutoScaling in the key policy fails in a fresh account,
   * where that role does not exist until the first group is created ("MalformedPolicyDocument-
   * Exception: invalid principals", e.g. braintrustdata/terraform-aws-braintrust-data-plane#35),
   * and creating it here fails in every account where it does exist ("has been taken in this
   * account", hashicorp/terraform-provider-aws#28644). So the group gets its own
   * custom-suffix service-linked role, which this stack always creates, and a KMS grant on
   * the key (the provider retries CreateGrant while the new role propagates); the key policy
   * stays as it is.
   */
  private addLaunchRole(props: ComputeProps) {
    const { provider, namePrefix } = props;
    const role = new IamServiceLinkedRole(this, "launch-role", {
      provider,
      awsServiceName: "autoscaling.amazonaws.com",
      customSuffix: namePrefix,
      description: `Launches the ${namePrefix} web instances`,
    });
    const grant = new KmsGrant(this, "launch-role-key-grant", {
      provider,
      name: `${webTierName(namePrefix)}-volumes`,
      keyId: props.kmsKeyArn,
      granteePrincipal: role.arn,
      // The operations the Auto Scaling guide lists for a service-linked role on a CMK;
      // CreateGrant lets it hand EC2 the grant each volume attachment needs.
      operations: [
        "Encrypt",
        "Decrypt",
        "ReEncryptFrom",
        "ReEncryptTo",
        "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext",
        "DescribeKey",
        "CreateGrant",
      ],
    });
    return { role, grant };
  }
}

function validate(
  path: string,
  props: ComputeProps,
  healthCheckPath: string,
  targetCpuPercent: number,
): void {
  const problems = new ProblemCollector();

  problems.pattern("namePrefix", props.namePrefix, loadBalancerNamePrefix(LOAD_BALANCER_NAME_MAX), {
    detail: " (it names the load balancer and target group)",
  });
  if (isKnown(props.publicSubnetIds) && props.publicSubnetIds.length < 2) {
    problems.add(
      "publicSubnetIds",
      props.publicSubnetIds,
      "at least two subnets in different AZs (an Application Load Balancer needs two)",
    );
  }
  if (isKnown(props.privateSubnetIds) && props.privateSubnetIds.length < 1) {
    problems.add("privateSubnetIds", props.privateSubnetIds, "at least one subnet");
  }
  problems.pattern("instanceType", props.instanceType, EC2_INSTANCE_TYPE);

  const { minSize, desiredCapacity, maxSize } = props.capacity;
  const sizes = { minSize, desiredCapacity, maxSize };
  const sizesValid = Object.entries(sizes).map(([name, value]) =>
    problems.wholeNumberInRange(`capacity.${name}`, value, { min: 1 }, "a whole number >= 1"),
  );
  if (sizesValid.every(Boolean) && (minSize > desiredCapacity || desiredCapacity > maxSize)) {
    problems.add(
      "capacity.desiredCapacity",
      desiredCapacity,
      `minSize (${minSize}) <= desiredCapacity <= maxSize (${maxSize})`,
    );
  }

  // Both paths are written into the instances' user data, so they must be literals.
  problems.pattern("parameterPath", props.parameterPath, SSM_PARAMETER_PATH, {
    literal: true,
    detail: ' (letters, digits, _ . -), e.g. "/shopsmart/prod/"',
  });
  problems.pattern("healthCheckPath", healthCheckPath, HEALTH_PATH, {
    literal: true,
    detail: ", e.g. /health",
  });
  problems.wholeNumberInRange(
    "targetCpuPercent",
    targetCpuPercent,
    { min: 10, max: 90 },
    "a whole number from 10 to 90",
  );

  if (props.accessLogs) {
    const { bucketName, prefix } = props.accessLogs;
    problems.pattern("accessLogs.bucketName", bucketName, {
      ...S3_BUCKET_NAME,
      expected: "an S3 bucket name",
    });
    if (
      isKnown(prefix) &&
      (prefix.startsWith("/") || prefix.endsWith("/") || prefix.includes(RESERVED_LOG_PREFIX))
    ) {
      problems.add(
        "accessLogs.prefix",
        prefix,
        `a key prefix without a leading or trailing "/" that does not contain "${RESERVED_LOG_PREFIX}" (ELB adds "/${RESERVED_LOG_PREFIX}/<account>/..." after it), e.g. "load-balancer"`,
      );
    }
  }

  if (props.ssh) {
    const { keyName, allowedCidr } = props.ssh;
    if (isKnown(keyName) && keyName.trim() === "") {
      problems.add("ssh.keyName", keyName, "the name of an EC2 key pair");
    }
    if (isKnown(allowedCidr)) {
      const cidr = parseIpv4Cidr(allowedCidr);
      if (!cidr || cidr.prefixLength === 0) {
        problems.add(
          "ssh.allowedCidr",
          allowedCidr,
          "an IPv4 network narrower than 0.0.0.0/0, e.g. 203.0.113.0/24: SSH is never open to the internet",
        );
      }
    }
  }
  problems.throwIfAnyFor(path);
}
