import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { TerraformOutput } from "cdktf";
import { describe, expect, it } from "vitest";
import {
  amiArchitecture,
  amiParameterName,
  Compute,
  type ComputeProps,
} from "../../src/constructs/compute";
import {
  addresses,
  dataSourceAt,
  listResources,
  policyStatements,
  resourceAt,
  stackWithProviders,
  synth,
} from "../support/synth";

const KEY = "arn:aws:kms:us-east-2:111111111111:key/primary";
const SECRET = "arn:aws:secretsmanager:us-east-2:111111111111:secret:shop-test-db-AbCdEf";
const CERTIFICATE = "arn:aws:acm:us-east-2:111111111111:certificate/primary";

type Overrides = Partial<Omit<ComputeProps, "provider">>;

function defaultProps(overrides: Overrides): Omit<ComputeProps, "provider"> {
  return {
    region: "us-east-2",
    role: "primary",
    namePrefix: "shop-test-primary",
    vpcId: "vpc-0123",
    publicSubnetIds: ["subnet-public-a", "subnet-public-b"],
    privateSubnetIds: ["subnet-private-a", "subnet-private-b"],
    certificateArn: CERTIFICATE,
    instanceType: "m7i.large",
    capacity: { minSize: 2, desiredCapacity: 3, maxSize: 6 },
    parameterPath: "/shop/test/",
    databaseSecretArn: SECRET,
    kmsKeyArn: KEY,
    accountId: "111111111111",
    ...overrides,
  };
}

function synthCompute(overrides: Overrides = {}) {
  const { stack, providers } = stackWithProviders();
  const compute = new Compute(stack, "compute", {
    provider: providers.primary,
    ...defaultProps(overrides),
  });
  return { json: synth(stack), compute };
}

/** The message of the error `build` throws (so tests compare it whole, not as a substring). */
function errorMessage(build: () => unknown): string {
  try {
    build();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected an error, but none was thrown");
}

/** The user-data script, decoded from the launch template's base64. */
function userDataOf(json: ReturnType<typeof synthCompute>["json"]): string {
  const template = resourceAt(json, "aws_launch_template", "compute/launch-template");
  return Buffer.from(template.user_data as string, "base64").toString("utf8");
}

type Rule = Record<string, unknown>;

function rulesOf(json: ReturnType<typeof synthCompute>["json"], type: string, group: string) {
  return listResources(json, type).filter((rule) =>
    (rule.security_group_id as string).includes(`compute_${group}-security-group`),
  ) as Rule[];
}

describe("Compute", () => {
  const { json } = synthCompute();

  it("keeps its Terraform addresses stable", () => {
    expect(addresses(json).map((a) => a.replace(/_[0-9A-F]{8}$/, ""))).toEqual([
      "aws_autoscaling_group.compute_group",
      "aws_autoscaling_policy.compute_cpu-target-tracking",
      "aws_iam_instance_profile.compute_instance-profile",
      "aws_iam_role.compute_instance-role",
      "aws_iam_role_policy.compute_instance-policy",
      "aws_iam_role_policy_attachment.compute_instance-ssm-core",
      "aws_iam_service_linked_role.compute_launch-role",
      "aws_kms_grant.compute_launch-role-key-grant",
      "aws_launch_template.compute_launch-template",
      "aws_lb.compute_load-balancer",
      "aws_lb_listener.compute_http-listener",
      "aws_lb_listener.compute_https-listener",
      "aws_lb_target_group.compute_target-group",
      "aws_security_group.compute_app-security-group",
      "aws_security_group.compute_load-balancer-security-group",
      "aws_vpc_security_group_egress_rule.compute_app-egress-database",
      "aws_vpc_security_group_egress_rule.compute_app-egress-https",
      "aws_vpc_security_group_egress_rule.compute_load-balancer-egress-app",
      "aws_vpc_security_group_ingress_rule.compute_app-ingress-load-balancer",
      "aws_vpc_security_group_ingress_rule.compute_load-balancer-ingress-443",
      "aws_vpc_security_group_ingress_rule.compute_load-balancer-ingress-80",
      "data.aws_default_tags.compute_default-tags",
      "data.aws_iam_policy_document.compute_instance-permissions",
      "data.aws_iam_policy_document.compute_instance-trust",
      "data.aws_vpc.compute_vpc",
    ]);
  });

  it("puts every resource and data source in the given provider's region", () => {
    const all = [
      ...Object.values(json.resource).flatMap((byName) => Object.values(byName)),
      ...Object.values(json.data ?? {}).flatMap((byName) => Object.values(byName)),
    ];
    expect(all.every((resource) => resource.provider === "aws.primary")).toBe(true);
  });

  describe("load balancer", () => {
    it("is an internet-facing ALB in the public subnets that drops invalid headers", () => {
      expect(resourceAt(json, "aws_lb", "compute/load-balancer")).toMatchObject({
        name: "shop-test-primary",
        load_balancer_type: "application",
        internal: false,
        subnets: ["subnet-public-a", "subnet-public-b"],
        security_groups: [expect.stringContaining("compute_load-balancer-security-group")],
        drop_invalid_header_fields: true,
      });
    });

    it("has deletion protection by default, and none when switched off", () => {
      expect(resourceAt(json, "aws_lb", "compute/load-balancer").enable_deletion_protection).toBe(
        true,
      );
      const unprotected = synthCompute({ deletionProtection: false }).json;
      expect(
        resourceAt(unprotected, "aws_lb", "compute/load-balancer").enable_deletion_protection,
      ).toBe(false);
    });

    it("writes no access logs unless given a target", () => {
      expect(resourceAt(json, "aws_lb", "compute/load-balancer")).not.toHaveProperty("access_logs");
    });

    it("writes access logs to the given bucket and prefix, once what it depends on exists", () => {
      const { stack, providers } = stackWithProviders();
      const policy = new S3BucketPolicy(stack, "bucket-policy", {
        provider: providers.primary,
        bucket: "shop-test-primary-access-logs-111111111111",
        policy: "{}",
      });
      new Compute(stack, "compute", {
        provider: providers.primary,
        ...defaultProps({
          accessLogs: {
            bucketName: "shop-test-primary-access-logs-111111111111",
            prefix: "load-balancer",
            dependsOn: [policy],
          },
        }),
      });
      const loadBalancer = resourceAt(synth(stack), "aws_lb", "compute/load-balancer");
      expect(loadBalancer.access_logs).toEqual({
        bucket: "shop-test-primary-access-logs-111111111111",
        prefix: "load-balancer",
        enabled: true,
      });
      expect(loadBalancer.depends_on).toEqual(["aws_s3_bucket_policy.bucket-policy"]);
    });

    it("admits only HTTPS and HTTP from the internet and sends only to the app port of the app group", () => {
      const ingress = rulesOf(json, "aws_vpc_security_group_ingress_rule", "load-balancer");
      expect(ingress.map((r) => [r.ip_protocol, r.from_port, r.to_port, r.cidr_ipv4])).toEqual([
        ["tcp", 443, 443, "0.0.0.0/0"],
        ["tcp", 80, 80, "0.0.0.0/0"],
      ]);
      const egress = rulesOf(json, "aws_vpc_security_group_egress_rule", "load-balancer");
      expect(egress).toHaveLength(1);
      expect(egress[0]).toMatchObject({
        ip_protocol: "tcp",
        from_port: 8080,
        to_port: 8080,
        referenced_security_group_id: expect.stringContaining("compute_app-security-group"),
      });
      expect(egress[0].cidr_ipv4).toBeUndefined();
    });

    it("terminates TLS 1.2/1.3 with the region's certificate and forwards to the target group", () => {
      expect(resourceAt(json, "aws_lb_listener", "compute/https-listener")).toMatchObject({
        port: 443,
        protocol: "HTTPS",
        ssl_policy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
        certificate_arn: CERTIFICATE,
        default_action: [
          {
            type: "forward",
            target_group_arn: expect.stringContaining("compute_target-group"),
          },
        ],
      });
    });

    it("redirects HTTP to HTTPS permanently", () => {
      expect(resourceAt(json, "aws_lb_listener", "compute/http-listener")).toMatchObject({
        port: 80,
        protocol: "HTTP",
        default_action: [
          {
            type: "redirect",
            redirect: { protocol: "HTTPS", port: "443", status_code: "HTTP_301" },
          },
        ],
      });
    });

    it("forwards to the app port and checks the health path for a 200", () => {
      expect(resourceAt(json, "aws_lb_target_group", "compute/target-group")).toMatchObject({
        name: "shop-test-primary",
        vpc_id: "vpc-0123",
        target_type: "instance",
        protocol: "HTTP",
        port: 8080,
        health_check: {
          enabled: true,
          protocol: "HTTP",
          port: "traffic-port",
          path: "/health",
          matcher: "200",
        },
      });
    });

    it("checks a configured health path, and the web app answers on it", () => {
      const custom = synthCompute({ healthCheckPath: "/status/ready" }).json;
      expect(
        resourceAt(custom, "aws_lb_target_group", "compute/target-group").health_check,
      ).toMatchObject({ path: "/status/ready" });
      expect(userDataOf(custom)).toContain("Environment=SHOPSMART_HEALTH_PATH=/status/ready\n");
    });
  });

  describe("instances", () => {
    const template = resourceAt(json, "aws_launch_template", "compute/launch-template");

    it("boots the AMI the public AL2023 SSM parameter names at launch, so a new AMI changes no template", () => {
      expect(template.image_id).toBe(
        "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
      );
      expect(json.data).not.toHaveProperty("aws_ssm_parameter");
      expect(template.instance_type).toBe("m7i.large");
    });

    it.each(["m7g.large", "c7g.xlarge", "t4g.medium", "r8g.large"])(
      "boots the arm64 AMI on Graviton type %s",
      (instanceType) => {
        const graviton = synthCompute({ instanceType }).json;
        expect(
          resourceAt(graviton, "aws_launch_template", "compute/launch-template").image_id,
        ).toBe("resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64");
        expect(amiParameterName(instanceType)).toBe(
          "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
        );
      },
    );

    it("tells Graviton families from x86 ones by the g after the generation", () => {
      const architectures = Object.fromEntries(
        [
          "m7g.large",
          "c7gn.large",
          "r6gd.large",
          "im4gn.large",
          "x2gd.large",
          "g5g.xlarge",
          "a1.large",
          "m7i.large",
          "m7i-flex.large",
          "c6a.large",
          "g4dn.xlarge",
          "t3.micro",
          "r5b.large",
        ].map((type) => [type, amiArchitecture(type)]),
      );
      expect(architectures).toEqual({
        "m7g.large": "arm64",
        "c7gn.large": "arm64",
        "r6gd.large": "arm64",
        "im4gn.large": "arm64",
        "x2gd.large": "arm64",
        "g5g.xlarge": "arm64",
        "a1.large": "arm64",
        "m7i.large": "x86_64",
        "m7i-flex.large": "x86_64",
        "c6a.large": "x86_64",
        "g4dn.xlarge": "x86_64",
        "t3.micro": "x86_64",
        "r5b.large": "x86_64",
      });
    });

    it("requires IMDSv2 tokens and keeps metadata one hop from the instance", () => {
      expect(template.metadata_options).toEqual({
        http_endpoint: "enabled",
        http_tokens: "required",
        http_put_response_hop_limit: 1,
        instance_metadata_tags: "disabled",
      });
    });

    it("encrypts the gp3 root volume with the region's KMS key", () => {
      expect(template.block_device_mappings).toEqual([
        {
          device_name: "/dev/xvda",
          ebs: {
            volume_type: "gp3",
            volume_size: 20,
            encrypted: "true",
            kms_key_id: KEY,
            delete_on_termination: "true",
          },
        },
      ]);
    });

    it("lets Auto Scaling use the key through its own service-linked role and a grant", () => {
      expect(resourceAt(json, "aws_iam_service_linked_role", "compute/launch-role")).toMatchObject({
        aws_service_name: "autoscaling.amazonaws.com",
        custom_suffix: "shop-test-primary",
      });
      const grant = resourceAt(json, "aws_kms_grant", "compute/launch-role-key-grant");
      expect(grant).toMatchObject({
        key_id: KEY,
        grantee_principal: expect.stringMatching(
          /^\$\{aws_iam_service_linked_role\.compute_launch-role_.*\.arn\}$/,
        ),
      });
      expect([...(grant.operations as string[])].sort()).toEqual([
        "CreateGrant",
        "Decrypt",
        "DescribeKey",
        "Encrypt",
        "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext",
        "ReEncryptFrom",
        "ReEncryptTo",
      ]);
      const group = resourceAt(json, "aws_autoscaling_group", "compute/group");
      expect(group.service_linked_role_arn).toMatch(
        /aws_iam_service_linked_role\.compute_launch-role_/,
      );
      expect(group.depends_on).toEqual([
        expect.stringMatching(/^aws_kms_grant\.compute_launch-role-key-grant_/),
      ]);
    });

    it("gives instances a role with Session Manager access", () => {
      const [trust] = policyStatements(json, "compute/instance-trust");
      expect(trust).toMatchObject({
        actions: ["sts:AssumeRole"],
        principals: [{ type: "Service", identifiers: ["ec2.amazonaws.com"] }],
      });
      expect(
        resourceAt(json, "aws_iam_role_policy_attachment", "compute/instance-ssm-core"),
      ).toMatchObject({ policy_arn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" });
      expect(template.iam_instance_profile).toEqual({
        arn: expect.stringMatching(
          /^\$\{aws_iam_instance_profile\.compute_instance-profile_.*\.arn\}$/,
        ),
      });
    });

    it("lets instances read only their parameters, their database secret and decrypt via those services", () => {
      const statements = policyStatements(json, "compute/instance-permissions");
      expect(statements).toEqual([
        {
          sid: "ReadAppParameters",
          actions: ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
          resources: ["arn:aws:ssm:us-east-2:111111111111:parameter/shop/test/*"],
        },
        {
          sid: "ListAppParameters",
          actions: ["ssm:GetParametersByPath"],
          resources: ["arn:aws:ssm:us-east-2:111111111111:parameter/shop/test"],
        },
        {
          sid: "ReadDatabaseSecret",
          actions: ["secretsmanager:GetSecretValue"],
          resources: [SECRET],
        },
        {
          sid: "DecryptSecretAndParameters",
          actions: ["kms:Decrypt"],
          resources: [KEY],
          condition: [
            {
              test: "StringEquals",
              variable: "kms:ViaService",
              values: ["secretsmanager.us-east-2.amazonaws.com", "ssm.us-east-2.amazonaws.com"],
            },
          ],
        },
      ]);
      for (const statement of statements) {
        expect(statement.actions.some((action) => action.includes("*"))).toBe(false);
      }
    });

    it("scopes parameter access to the provider's account when no account id is given", () => {
      const lookedUp = synthCompute({ accountId: undefined }).json;
      expect(dataSourceAt(lookedUp, "aws_caller_identity", "compute/account").provider).toBe(
        "aws.primary",
      );
      const [parameters] = policyStatements(lookedUp, "compute/instance-permissions");
      expect(parameters.resources).toEqual([
        expect.stringMatching(
          /^arn:aws:ssm:us-east-2:\$\{data\.aws_caller_identity\.compute_account_.*\.account_id\}:parameter\/shop\/test\/\*$/,
        ),
      ]);
      expect(json.data?.aws_caller_identity).toBeUndefined();
    });

    it("admits only the load balancer on the app port and sends only HTTPS out and PostgreSQL within the VPC", () => {
      const ingress = rulesOf(json, "aws_vpc_security_group_ingress_rule", "app");
      expect(ingress).toHaveLength(1);
      expect(ingress[0]).toMatchObject({
        ip_protocol: "tcp",
        from_port: 8080,
        to_port: 8080,
        referenced_security_group_id: expect.stringContaining(
          "compute_load-balancer-security-group",
        ),
      });
      const egress = rulesOf(json, "aws_vpc_security_group_egress_rule", "app");
      const byPort = egress.map((r) => [r.from_port, r.to_port, r.cidr_ipv4]);
      expect(byPort.sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual([
        [443, 443, "0.0.0.0/0"],
        [5432, 5432, expect.stringMatching(/^\$\{data\.aws_vpc\.compute_vpc_.*\.cidr_block\}$/)],
      ]);
      expect(dataSourceAt(json, "aws_vpc", "compute/vpc").id).toBe("vpc-0123");
    });

    it("has no SSH at all by default: no key pair, no port 22", () => {
      expect(template.key_name).toBeUndefined();
      const ports = listResources(json, "aws_vpc_security_group_ingress_rule").map(
        (r) => r.from_port,
      );
      expect(ports).not.toContain(22);
    });

    it("opens SSH only from the configured network when SSH is configured", () => {
      const withSsh = synthCompute({
        ssh: { keyName: "ops-break-glass", allowedCidr: "203.0.113.0/24" },
      }).json;
      expect(resourceAt(withSsh, "aws_launch_template", "compute/launch-template").key_name).toBe(
        "ops-break-glass",
      );
      const ssh = listResources(withSsh, "aws_vpc_security_group_ingress_rule").filter(
        (r) => r.from_port === 22,
      );
      expect(ssh).toEqual([
        expect.objectContaining({
          to_port: 22,
          ip_protocol: "tcp",
          cidr_ipv4: "203.0.113.0/24",
          security_group_id: expect.stringContaining("compute_app-security-group"),
        }),
      ]);
    });

    it("tags volumes with the provider's default tags and a Name", () => {
      expect(template.tag_specifications).toEqual([
        {
          resource_type: "volume",
          tags: expect.stringMatching(
            /^\$\{merge\(data\.aws_default_tags\.compute_default-tags_.*\.tags, \{"Name" = "shop-test-primary-web"\}\)\}$/,
          ),
        },
      ]);
    });
  });

  describe("auto scaling group", () => {
    const group = resourceAt(json, "aws_autoscaling_group", "compute/group");

    it("runs the latest launch template version in the private subnets behind the target group", () => {
      expect(group).toMatchObject({
        name: "shop-test-primary-web",
        vpc_zone_identifier: ["subnet-private-a", "subnet-private-b"],
        target_group_arns: [expect.stringContaining("compute_target-group")],
        launch_template: {
          id: expect.stringMatching(/^\$\{aws_launch_template\.compute_launch-template_.*\.id\}$/),
          version: expect.stringMatching(
            /^\$\{aws_launch_template\.compute_launch-template_.*\.latest_version\}$/,
          ),
        },
      });
    });

    it("replaces instances the load balancer finds unhealthy, after a boot grace period", () => {
      expect(group).toMatchObject({ health_check_type: "ELB", health_check_grace_period: 180 });
    });

    it("sizes the group from the capacity", () => {
      expect(group).toMatchObject({ min_size: 2, desired_capacity: 3, max_size: 6 });
    });

    it("publishes the group metrics monitoring alarms on, every minute", () => {
      expect(group.enabled_metrics).toEqual(
        expect.arrayContaining(["GroupInServiceInstances", "GroupDesiredCapacity"]),
      );
      expect(group.metrics_granularity).toBe("1Minute");
    });

    it("rolls instances on launch template changes (not on a new AMI) without dropping below desired capacity", () => {
      expect(group.instance_refresh).toEqual({
        strategy: "Rolling",
        preferences: {
          min_healthy_percentage: 100,
          max_healthy_percentage: 200,
          skip_matching: true,
        },
      });
    });

    it("leaves desired capacity to scaling and failover once created", () => {
      expect(group.lifecycle).toEqual({ ignore_changes: ["desired_capacity"] });
    });

    it("propagates the default tags and a Name to the instances it launches", () => {
      expect(group.dynamic).toEqual({
        tag: {
          for_each: expect.stringMatching(
            /^\$\{merge\(data\.aws_default_tags\.compute_default-tags_.*\.tags, \{"Name" = "shop-test-primary-web"\}\)\}$/,
          ),
          iterator: "each",
          content: {
            key: expect.stringMatching(/^\$\{each\.key\}$/),
            value: expect.stringMatching(/^\$\{each\.value\}$/),
            propagate_at_launch: true,
          },
        },
      });
    });

    it("tracks the default 50% average CPU", () => {
      expect(
        resourceAt(json, "aws_autoscaling_policy", "compute/cpu-target-tracking"),
      ).toMatchObject({
        autoscaling_group_name: expect.stringMatching(
          /^\$\{aws_autoscaling_group\.compute_group_.*\.name\}$/,
        ),
        policy_type: "TargetTrackingScaling",
        target_tracking_configuration: {
          predefined_metric_specification: { predefined_metric_type: "ASGAverageCPUUtilization" },
          target_value: 50,
        },
      });
    });

    it("tracks a configured CPU target", () => {
      const custom = synthCompute({ targetCpuPercent: 65 }).json;
      expect(
        resourceAt(custom, "aws_autoscaling_policy", "compute/cpu-target-tracking"),
      ).toMatchObject({ target_tracking_configuration: { target_value: 65 } });
    });
  });

  describe("web app user data", () => {
    const script = userDataOf(json);

    it("is a bash script well under the 16 KB user-data limit", () => {
      expect(script.startsWith("#!/bin/bash\n")).toBe(true);
      expect(Buffer.byteLength(script)).toBeLessThan(16 * 1024);
    });

    it("bakes in the role, the parameter path, the port and the health path", () => {
      expect(script).toContain("Environment=SHOPSMART_ROLE=primary\n");
      expect(script).toContain("Environment=SHOPSMART_PARAMETER_PATH=/shop/test/\n");
      expect(script).toContain("Environment=SHOPSMART_PORT=8080\n");
      expect(script).toContain("Environment=SHOPSMART_HEALTH_PATH=/health\n");
    });

    it("reports the secondary role on a secondary instance", () => {
      const secondary = userDataOf(synthCompute({ role: "secondary" }).json);
      expect(secondary).toContain("Environment=SHOPSMART_ROLE=secondary\n");
      expect(secondary).not.toContain("SHOPSMART_ROLE=primary");
    });

    it("reads the region from IMDSv2 and the writer endpoint from SSM under the parameter path", () => {
      expect(script).toContain('METADATA_URL + "/api/token"');
      expect(script).toContain('"X-aws-ec2-metadata-token": token');
      expect(script).toContain('"/meta-data/placement/region"');
      expect(script).toContain('WRITER_ENDPOINT_PARAMETER = PARAMETER_PATH + "db/writer-endpoint"');
      expect(script).toContain('"aws", "ssm", "get-parameter"');
    });

    it("probes the database with a 1 s TCP connect and answers health checks 200 either way", () => {
      expect(script).toContain("CONNECT_TIMEOUT_SECONDS = 1\n");
      expect(script).toContain("socket.create_connection(");
      const healthBranch = script.slice(
        script.indexOf("if path == HEALTH_PATH:"),
        script.indexOf("elif path =="),
      );
      expect(healthBranch).toContain("self.reply(200, {");
      expect(healthBranch).toContain('"database": state["database"]');
      expect(healthBranch).not.toMatch(/reply\((?!200)\d+/);
    });

    it("runs the app as a hardened systemd service with no package installs", () => {
      expect(script).toContain("ExecStart=/usr/bin/python3 /opt/shopsmart/web.py\n");
      expect(script).toContain("DynamicUser=yes\n");
      expect(script).toContain("systemctl enable --now shopsmart-web.service\n");
      expect(script).not.toMatch(/\b(dnf|yum|pip3?|curl|wget)\b/);
    });
  });

  it("exposes the attributes other constructs wire to", () => {
    const { stack, providers } = stackWithProviders();
    const compute = new Compute(stack, "compute", {
      provider: providers.primary,
      ...defaultProps({}),
    });
    const outputs = {
      "lb-arn": compute.loadBalancerArn,
      "lb-arn-suffix": compute.loadBalancerArnSuffix,
      "lb-dns-name": compute.loadBalancerDnsName,
      "lb-zone-id": compute.loadBalancerZoneId,
      "tg-arn-suffix": compute.targetGroupArnSuffix,
      "asg-name": compute.autoScalingGroupName,
      "app-sg-id": compute.appSecurityGroupId,
    };
    for (const [id, value] of Object.entries(outputs)) new TerraformOutput(stack, id, { value });
    const values = Object.fromEntries(
      Object.entries(synth(stack).output ?? {}).map(([id, output]) => [
        id,
        // "${aws_lb.compute_load-balancer_1A2B3C4D.arn}" -> "aws_lb.compute_load-balancer.arn"
        (output.value as string).replace(/^\$\{(.*)_[0-9A-F]{8}\.(.*)\}$/, "$1.$2"),
      ]),
    );
    expect(values).toEqual({
      "lb-arn": "aws_lb.compute_load-balancer.arn",
      "lb-arn-suffix": "aws_lb.compute_load-balancer.arn_suffix",
      "lb-dns-name": "aws_lb.compute_load-balancer.dns_name",
      "lb-zone-id": "aws_lb.compute_load-balancer.zone_id",
      "tg-arn-suffix": "aws_lb_target_group.compute_target-group.arn_suffix",
      "asg-name": "aws_autoscaling_group.compute_group.name",
      "app-sg-id": "aws_security_group.compute_app-security-group.id",
    });
  });

  describe("validation", () => {
    const build = (overrides: Overrides) => () => synthCompute(overrides);

    it("fails when desired capacity is outside min..max", () => {
      expect(
        errorMessage(build({ capacity: { minSize: 2, desiredCapacity: 1, maxSize: 4 } })),
      ).toBe(
        [
          "Invalid props for test/compute:",
          "  - capacity.desiredCapacity: got 1; expected minSize (2) <= desiredCapacity <= maxSize (4)",
        ].join("\n"),
      );
      expect(
        errorMessage(build({ capacity: { minSize: 1, desiredCapacity: 5, maxSize: 4 } })),
      ).toBe(
        [
          "Invalid props for test/compute:",
          "  - capacity.desiredCapacity: got 5; expected minSize (1) <= desiredCapacity <= maxSize (4)",
        ].join("\n"),
      );
    });

    it("fails on a capacity below 1 or not whole, reporting every size", () => {
      expect(
        errorMessage(build({ capacity: { minSize: 0, desiredCapacity: 1.5, maxSize: 2 } })),
      ).toBe(
        [
          "Invalid props for test/compute:",
          "  - capacity.minSize: got 0; expected a whole number >= 1",
          "  - capacity.desiredCapacity: got 1.5; expected a whole number >= 1",
        ].join("\n"),
      );
    });

    it("fails on SSH open to the whole IPv4 or IPv6 internet", () => {
      const expected = (cidr: string) =>
        [
          "Invalid props for test/compute:",
          `  - ssh.allowedCidr: got "${cidr}"; expected an IPv4 network narrower than 0.0.0.0/0, e.g. 203.0.113.0/24: SSH is never open to the internet`,
        ].join("\n");
      for (const cidr of ["0.0.0.0/0", "::/0"]) {
        expect(errorMessage(build({ ssh: { keyName: "ops", allowedCidr: cidr } }))).toBe(
          expected(cidr),
        );
      }
    });

    it("fails on an SSH CIDR that is not a network and a blank key name", () => {
      expect(errorMessage(build({ ssh: { keyName: " ", allowedCidr: "10.0.0.1/8" } }))).toBe(
        [
          "Invalid props for test/compute:",
          '  - ssh.keyName: got " "; expected the name of an EC2 key pair',
          '  - ssh.allowedCidr: got "10.0.0.1/8"; expected an IPv4 network narrower than 0.0.0.0/0, e.g. 203.0.113.0/24: SSH is never open to the internet',
        ].join("\n"),
      );
    });

    it("fails on names, subnets, paths, instance type and CPU target it cannot use, all at once", () => {
      expect(
        errorMessage(
          build({
            namePrefix: "shopsmart-staging-secondary-extra",
            publicSubnetIds: ["subnet-public-a"],
            privateSubnetIds: [],
            instanceType: "large",
            parameterPath: "/shop/test",
            healthCheckPath: "health",
            targetCpuPercent: 95,
          }),
        ),
      ).toBe(
        [
          "Invalid props for test/compute:",
          '  - namePrefix: got "shopsmart-staging-secondary-extra"; expected at most 32 letters, digits and hyphens, not starting or ending with a hyphen (it names the load balancer and target group)',
          '  - publicSubnetIds: got ["subnet-public-a"]; expected at least two subnets in different AZs (an Application Load Balancer needs two)',
          "  - privateSubnetIds: got []; expected at least one subnet",
          '  - instanceType: got "large"; expected an EC2 instance type such as m7i.large',
          '  - parameterPath: got "/shop/test"; expected a literal SSM path starting and ending with "/" (letters, digits, _ . -), e.g. "/shopsmart/prod/"',
          "  - healthCheckPath: got \"health\"; expected a literal URL path starting with '/' of letters, digits, '_', '.', '/' and '-', at most 255 characters, e.g. /health",
          "  - targetCpuPercent: got 95; expected a whole number from 10 to 90",
        ].join("\n"),
      );
    });

    it.each(["AWSLogs", "alb/AWSLogs", "/load-balancer", "load-balancer/"])(
      "fails on access log prefix %s, which ELB cannot write under",
      (prefix) => {
        expect(errorMessage(build({ accessLogs: { bucketName: "Not_A_Bucket", prefix } }))).toBe(
          [
            "Invalid props for test/compute:",
            '  - accessLogs.bucketName: got "Not_A_Bucket"; expected an S3 bucket name',
            `  - accessLogs.prefix: got "${prefix}"; expected a key prefix without a leading or trailing "/" that does not contain "AWSLogs" (ELB adds "/AWSLogs/<account>/..." after it), e.g. "load-balancer"`,
          ].join("\n"),
        );
      },
    );

    it("fails on a parameter path with characters that would break the user data", () => {
      expect(errorMessage(build({ parameterPath: "/shop/$(reboot)/" }))).toBe(
        [
          "Invalid props for test/compute:",
          '  - parameterPath: got "/shop/$(reboot)/"; expected a literal SSM path starting and ending with "/" (letters, digits, _ . -), e.g. "/shopsmart/prod/"',
        ].join("\n"),
      );
    });
  });
});
