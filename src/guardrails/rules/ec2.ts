import { type Finding, finding } from "../rule";
import {
  block,
  blocks,
  isSet,
  isTrue,
  type StackModel,
  shown,
  strings,
  type TerraformElement,
} from "../terraform-model";

/** Instance metadata only through IMDSv2 session tokens (`http_tokens = "required"`). */
export function instancesRequireImdsv2(stack: StackModel): Finding[] {
  const findings: Finding[] = [];
  for (const type of ["aws_launch_template", "aws_instance"]) {
    for (const resource of stack.resources(type)) {
      const tokens = block(resource.attributes.metadata_options).http_tokens;
      if (tokens !== "required") {
        findings.push(
          finding(
            resource,
            `metadata_options.http_tokens is ${shown(tokens)}, so instances also answer IMDSv1 requests`,
          ),
        );
      }
    }
  }
  return findings;
}

/** Block devices of launch templates, instances and volumes encrypted with a KMS key. */
export function volumesEncryptedWithKms(stack: StackModel): Finding[] {
  const findings: Finding[] = [];
  for (const template of stack.resources("aws_launch_template")) {
    const mappings = blocks(template.attributes.block_device_mappings);
    if (mappings.length === 0) {
      findings.push(
        finding(
          template,
          "declares no block_device_mappings, so the root volume is only as encrypted as the AMI's snapshot",
        ),
      );
    }
    for (const mapping of mappings) {
      const problem = volumeProblem(block(mapping.ebs));
      if (problem)
        findings.push(finding(template, `volume ${shown(mapping.device_name)} ${problem}`));
    }
  }
  for (const instance of stack.resources("aws_instance")) {
    if (isSet(block(instance.attributes.launch_template).id)) continue;
    const devices = [
      ...blocks(instance.attributes.root_block_device),
      ...blocks(instance.attributes.ebs_block_device),
    ];
    for (const device of devices) {
      const problem = volumeProblem(device);
      if (problem)
        findings.push(finding(instance, `volume ${shown(device.device_name)} ${problem}`));
    }
  }
  for (const volume of stack.resources("aws_ebs_volume")) {
    const problem = volumeProblem(volume.attributes);
    if (problem) findings.push(finding(volume, problem));
  }
  return findings;
}

function volumeProblem(settings: Record<string, unknown>): string | undefined {
  if (!isTrue(settings.encrypted)) return "is not encrypted (encrypted is not true)";
  if (!isSet(settings.kms_key_id))
    return "is encrypted with the AWS-managed aws/ebs key (no kms_key_id)";
  return undefined;
}

/** One ingress permission, whichever resource type declares it. */
interface Ingress {
  readonly resource: TerraformElement;
  /** The internet range it admits: `0.0.0.0/0` or `::/0`, or undefined when it admits none. */
  readonly internetSource: string | undefined;
  readonly allTraffic: boolean;
  readonly protocol: string;
  readonly fromPort: number;
  readonly toPort: number;
}

const INTERNET_RANGES = ["0.0.0.0/0", "::/0"];
const REMOTE_ADMIN_PORTS = [
  { port: 22, name: "SSH" },
  { port: 3389, name: "RDP" },
];
/** The only ports the shop serves to the internet: HTTP (redirected) and HTTPS. */
const WEB_PORTS = [80, 443];

/** Security group rules accept protocol numbers too. */
const PROTOCOL_NUMBERS: Readonly<Record<string, string>> = { "6": "tcp", "17": "udp", "1": "icmp" };

function ingressPermissions(stack: StackModel): Ingress[] {
  return stack.cached("ec2-ingress", () => {
    const list: Ingress[] = [];
    for (const rule of stack.resources("aws_vpc_security_group_ingress_rule")) {
      const a = rule.attributes;
      list.push(
        ingress(rule, [...strings(a.cidr_ipv4), ...strings(a.cidr_ipv6)], a.ip_protocol, a),
      );
    }
    for (const rule of stack.resources("aws_security_group_rule")) {
      const a = rule.attributes;
      if (a.type !== "ingress") continue;
      list.push(
        ingress(rule, [...strings(a.cidr_blocks), ...strings(a.ipv6_cidr_blocks)], a.protocol, a),
      );
    }
    for (const group of stack.resources("aws_security_group")) {
      for (const a of blocks(group.attributes.ingress)) {
        list.push(
          ingress(
            group,
            [...strings(a.cidr_blocks), ...strings(a.ipv6_cidr_blocks)],
            a.protocol,
            a,
          ),
        );
      }
    }
    return list;
  });
}

function ingress(
  resource: TerraformElement,
  sources: string[],
  protocol: unknown,
  ports: Record<string, unknown>,
): Ingress {
  const allTraffic = protocol === "-1" || protocol === "all" || protocol === -1;
  return {
    resource,
    internetSource: sources.find((source) => INTERNET_RANGES.includes(source)),
    allTraffic,
    protocol: PROTOCOL_NUMBERS[String(protocol)] ?? String(protocol),
    fromPort: allTraffic ? 0 : Number(ports.from_port ?? 0),
    toPort: allTraffic ? 65535 : Number(ports.to_port ?? ports.from_port ?? 65535),
  };
}

function describePorts(rule: Ingress): string {
  if (rule.allTraffic) return "all traffic";
  const range =
    rule.fromPort === rule.toPort ? `${rule.fromPort}` : `${rule.fromPort}-${rule.toPort}`;
  return `${rule.protocol} ${range}`;
}

/** No SSH (22) or RDP (3389) from `0.0.0.0/0` or `::/0`: instances are reached through SSM. */
export function noRemoteAdminFromInternet(stack: StackModel): Finding[] {
  const findings: Finding[] = [];
  for (const rule of ingressPermissions(stack)) {
    if (!rule.internetSource) continue;
    for (const { port, name } of REMOTE_ADMIN_PORTS) {
      if (rule.fromPort <= port && port <= rule.toPort) {
        findings.push(
          finding(
            rule.resource,
            `admits ${name} (port ${port}, as ${describePorts(rule)}) from ${rule.internetSource}`,
          ),
        );
      }
    }
  }
  return findings;
}

/**
 * From the internet, only TCP 80 and 443 (no all-traffic rules, no other ports). A rule for
 * exactly SSH or RDP is left to {@link noRemoteAdminFromInternet}, so it is reported once.
 */
export function onlyWebPortsFromInternet(stack: StackModel): Finding[] {
  const findings: Finding[] = [];
  for (const rule of ingressPermissions(stack)) {
    if (!rule.internetSource) continue;
    const onlyRemoteAdmin =
      rule.fromPort === rule.toPort && REMOTE_ADMIN_PORTS.some((p) => p.port === rule.fromPort);
    const onlyWeb =
      !rule.allTraffic &&
      rule.protocol === "tcp" &&
      rule.fromPort === rule.toPort &&
      WEB_PORTS.includes(rule.fromPort);
    if (!onlyWeb && !onlyRemoteAdmin) {
      findings.push(
        finding(
          rule.resource,
          `admits ${describePorts(rule)} from ${rule.internetSource}; only TCP 80 and 443 may face the internet`,
        ),
      );
    }
  }
  return findings;
}
