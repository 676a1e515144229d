/**
 * IPv4 CIDR arithmetic done at synth time, so subnet ranges are plain strings in the synthesized
 * JSON (reviewable in a diff) instead of `cidrsubnet()` calls Terraform evaluates later.
 */

export interface Ipv4Cidr {
  /** Network address as an unsigned 32-bit integer. */
  readonly network: number;
  readonly prefixLength: number;
}

// No leading zeros: Terraform (Go's net package) rejects them, as some tools read them as octal.
const OCTET = "(0|[1-9]\\d{0,2})";
const CIDR_PATTERN = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}\\/(\\d{1,2})$`);

/** Parses `a.b.c.d/n`; returns `undefined` for anything malformed or with host bits set. */
export function parseIpv4Cidr(text: string): Ipv4Cidr | undefined {
  const match = CIDR_PATTERN.exec(text);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefixLength = Number(match[5]);
  if (octets.some((o) => o > 255) || prefixLength > 32) return undefined;
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const network = address - (address % blockSize(prefixLength));
  if (network !== address) return undefined;
  return { network, prefixLength };
}

/** True when the two ranges share at least one address. */
export function cidrsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  const aEnd = a.network + blockSize(a.prefixLength);
  const bEnd = b.network + blockSize(b.prefixLength);
  return a.network < bEnd && b.network < aEnd;
}

/** Same as Terraform's `cidrsubnet(prefix, newBits, netNum)`. */
export function subnetCidr(parent: Ipv4Cidr, newBits: number, netNum: number): Ipv4Cidr {
  const prefixLength = parent.prefixLength + newBits;
  const valid =
    Number.isInteger(newBits) &&
    Number.isInteger(netNum) &&
    newBits >= 0 &&
    prefixLength <= 32 &&
    netNum >= 0 &&
    netNum < 2 ** newBits;
  if (!valid) {
    throw new RangeError(
      `cannot carve subnet ${netNum} of /${prefixLength} from ${formatIpv4Cidr(parent)}`,
    );
  }
  return { network: parent.network + netNum * blockSize(prefixLength), prefixLength };
}

export function formatIpv4Cidr(cidr: Ipv4Cidr): string {
  const n = cidr.network;
  const octets = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  return `${octets.join(".")}/${cidr.prefixLength}`;
}

function blockSize(prefixLength: number): number {
  return 2 ** (32 - prefixLength);
}
