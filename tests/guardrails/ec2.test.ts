import { EbsVolume } from "@cdktf/provider-aws/lib/ebs-volume";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { SecurityGroupRule } from "@cdktf/provider-aws/lib/security-group-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { describe, expect, it } from "vitest";
import { keyArn, named, violation, violationsOf } from "../support/guardrails";
import { stackWithProviders, TEST_REGIONS } from "../support/synth";
import { violationAt } from "./violation-at";

const KEY = keyArn(TEST_REGIONS.primary);

function launchTemplate(props: {
  httpTokens?: string;
  volume?: { encrypted?: string; kmsKeyId?: string };
}) {
  const { stack, providers } = stackWithProviders();
  new LaunchTemplate(stack, "template", {
    provider: providers.primary,
    name: "web",
    metadataOptions: props.httpTokens ? { httpTokens: props.httpTokens } : undefined,
    blockDeviceMappings: props.volume
      ? [{ deviceName: "/dev/xvda", ebs: { volumeType: "gp3", ...props.volume } }]
      : undefined,
  });
  return stack;
}

/** One ingress rule on a security group, from a CIDR. */
function ingress(rule: { cidr: string; protocol: string; from?: number; to?: number }) {
  const { stack, providers } = stackWithProviders();
  const group = new SecurityGroup(stack, "group", { provider: providers.primary, name: "g" });
  new VpcSecurityGroupIngressRule(stack, "rule", {
    provider: providers.primary,
    securityGroupId: group.id,
    ...(rule.cidr.includes(":") ? { cidrIpv6: rule.cidr } : { cidrIpv4: rule.cidr }),
    ipProtocol: rule.protocol,
    fromPort: rule.from,
    toPort: rule.to,
  });
  return stack;
}

describe("SS-EC2-1 instances require IMDSv2", () => {
  it("fails a launch template that allows IMDSv1", () => {
    expect(violationsOf("SS-EC2-1", launchTemplate({ httpTokens: "optional" }))).toEqual([
      violation(
        "SS-EC2-1",
        "test/template",
        'metadata_options.http_tokens is "optional", so instances also answer IMDSv1 requests',
      ),
    ]);
    expect(violationsOf("SS-EC2-1", launchTemplate({}))).toEqual([
      violation(
        "SS-EC2-1",
        "test/template",
        "metadata_options.http_tokens is unset, so instances also answer IMDSv1 requests",
      ),
    ]);
  });

  it("passes http_tokens = required", () => {
    expect(violationsOf("SS-EC2-1", launchTemplate({ httpTokens: "required" }))).toEqual([]);
  });
});

describe("SS-EC2-2 no SSH or RDP from the internet", () => {
  it("fails SSH from 0.0.0.0/0", () => {
    expect(
      violationsOf("SS-EC2-2", ingress({ cidr: "0.0.0.0/0", protocol: "tcp", from: 22, to: 22 })),
    ).toEqual([
      violationAt(
        "SS-EC2-2",
        "test/rule",
        "admits SSH (port 22, as tcp 22) from 0.0.0.0/0",
        "aws_vpc_security_group_ingress_rule.rule",
      ),
    ]);
  });

  it("fails an inline all-traffic rule from ::/0 (covers SSH and RDP)", () => {
    const { stack, providers } = stackWithProviders();
    new SecurityGroup(stack, "group", {
      provider: providers.primary,
      name: "open",
      ingress: [{ protocol: "-1", fromPort: 0, toPort: 0, ipv6CidrBlocks: ["::/0"] }],
    });
    expect(violationsOf("SS-EC2-2", stack)).toEqual([
      violationAt(
        "SS-EC2-2",
        "test/group",
        "admits SSH (port 22, as all traffic) from ::/0",
        "aws_security_group.group",
      ),
      violationAt(
        "SS-EC2-2",
        "test/group",
        "admits RDP (port 3389, as all traffic) from ::/0",
        "aws_security_group.group",
      ),
    ]);
  });

  it.each(
    named([
      {
        name: "SSH from a private range",
        rule: { cidr: "10.0.0.0/8", protocol: "tcp", from: 22, to: 22 },
      },
      {
        name: "HTTPS from the internet",
        rule: { cidr: "0.0.0.0/0", protocol: "tcp", from: 443, to: 443 },
      },
    ]),
  )("passes %s", (_name, { rule }) => {
    expect(violationsOf("SS-EC2-2", ingress(rule))).toEqual([]);
  });
});

describe("SS-EC2-3 only HTTP and HTTPS face the internet", () => {
  it("fails all traffic and other ports from the internet", () => {
    expect(violationsOf("SS-EC2-3", ingress({ cidr: "0.0.0.0/0", protocol: "-1" }))).toEqual([
      violation(
        "SS-EC2-3",
        "test/rule",
        "admits all traffic from 0.0.0.0/0; only TCP 80 and 443 may face the internet",
      ),
    ]);
    const { stack, providers } = stackWithProviders();
    new SecurityGroupRule(stack, "postgres", {
      provider: providers.primary,
      type: "ingress",
      securityGroupId: "sg-0123456789abcdef0",
      protocol: "tcp",
      fromPort: 5432,
      toPort: 5432,
      cidrBlocks: ["0.0.0.0/0"],
    });
    expect(violationsOf("SS-EC2-3", stack)).toEqual([
      violation(
        "SS-EC2-3",
        "test/postgres",
        "admits tcp 5432 from 0.0.0.0/0; only TCP 80 and 443 may face the internet",
      ),
    ]);
  });

  it("passes TCP 80 and 443 from the internet (and leaves a pure SSH rule to SS-EC2-2)", () => {
    for (const port of [80, 443, 22]) {
      expect(
        violationsOf(
          "SS-EC2-3",
          ingress({ cidr: "0.0.0.0/0", protocol: "tcp", from: port, to: port }),
        ),
      ).toEqual([]);
    }
  });
});

describe("SS-EC2-4 EBS volumes encrypt with a KMS key", () => {
  it("fails unencrypted, AWS-managed-key and undeclared volumes", () => {
    expect(violationsOf("SS-EC2-4", launchTemplate({ volume: { encrypted: "false" } }))).toEqual([
      violation(
        "SS-EC2-4",
        "test/template",
        'volume "/dev/xvda" is not encrypted (encrypted is not true)',
      ),
    ]);
    expect(violationsOf("SS-EC2-4", launchTemplate({ volume: { encrypted: "true" } }))).toEqual([
      violation(
        "SS-EC2-4",
        "test/template",
        'volume "/dev/xvda" is encrypted with the AWS-managed aws/ebs key (no kms_key_id)',
      ),
    ]);
    expect(violationsOf("SS-EC2-4", launchTemplate({}))).toEqual([
      violation(
        "SS-EC2-4",
        "test/template",
        "declares no block_device_mappings, so the root volume is only as encrypted as the AMI's snapshot",
      ),
    ]);
    const { stack, providers } = stackWithProviders();
    new EbsVolume(stack, "volume", {
      provider: providers.primary,
      availabilityZone: "us-east-2a",
      size: 10,
    });
    expect(violationsOf("SS-EC2-4", stack)).toEqual([
      violation("SS-EC2-4", "test/volume", "is not encrypted (encrypted is not true)"),
    ]);
  });

  it("passes volumes encrypted with a KMS key", () => {
    expect(
      violationsOf("SS-EC2-4", launchTemplate({ volume: { encrypted: "true", kmsKeyId: KEY } })),
    ).toEqual([]);
  });
});
