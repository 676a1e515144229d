/**
 * Data-plane readings of the shop, taken from where the function runs, with no AWS API call:
 * - {@link probeEndpoint}: one region's load balancer, over HTTPS, asking for the shop's name.
 * - {@link servedRegion}: which region's load balancer the public name resolves to, i.e. which
 *   failover record Route 53's DNS servers answer with (its health checkers' verdict).
 *
 * Both use Node's own `https` and `dns` modules, looked up at call time, so the local game day
 * can answer them for the simulated pair (src/simulation/data-plane.ts).
 */
import * as dns from "node:dns";
import * as https from "node:https";
import { REGION_ROLES, type RegionRole } from "./region-roles";

/** What one probe of a region's web endpoint found. */
export interface EndpointReading {
  /** True when the load balancer answered with 200. */
  healthy: boolean;
  /** The HTTP status, null when nothing answered. */
  statusCode: number | null;
  /** The app's own view (web-app-user-data.ts health body), null when it did not say. */
  writable: boolean | null;
  /** The region the app sees as the writer, null when it did not say. */
  writerRegion: string | null;
  /** Why it is unhealthy, e.g. `timeout after 5000 ms`; absent when healthy. */
  reason?: string;
}

export interface EndpointProbe {
  /** The load balancer's DNS name, connected to directly. */
  readonly host: string;
  /**
   * The shop's public name, sent as SNI and Host: the listener's certificate is for it, so the
   * TLS check passes against the name the certificate carries, not the load balancer's.
   */
  readonly serverName: string;
  readonly path: string;
  readonly timeoutMs: number;
  /** @default 443 */
  readonly port?: number;
}

/** Longest health body read; the app's is a few hundred bytes. */
const MAX_BODY_BYTES = 4096;

/** GET `path` on the load balancer; never throws (an error is an unhealthy reading). */
export function probeEndpoint(probe: EndpointProbe): Promise<EndpointReading> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (reading: EndpointReading) => {
      if (settled) return;
      settled = true;
      resolve(reading);
    };
    const unhealthy = (reason: string, statusCode: number | null = null): EndpointReading => ({
      healthy: false,
      statusCode,
      writable: null,
      writerRegion: null,
      reason,
    });
    const request = https.request(
      {
        host: probe.host,
        port: probe.port ?? 443,
        servername: probe.serverName,
        path: probe.path,
        method: "GET",
        headers: { Host: probe.serverName, "User-Agent": "shopsmart-dr-probe" },
        timeout: probe.timeoutMs,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let length = 0;
        response.on("data", (chunk: Buffer) => {
          if (length < MAX_BODY_BYTES) chunks.push(chunk);
          length += chunk.length;
        });
        response.on("end", () => {
          const statusCode = response.statusCode ?? null;
          if (statusCode !== 200) {
            finish(unhealthy(`HTTP ${statusCode ?? "?"}`, statusCode));
            return;
          }
          finish({ healthy: true, statusCode, ...appView(Buffer.concat(chunks).toString("utf8")) });
        });
        response.on("error", (error) => finish(unhealthy(error.message, response.statusCode)));
      },
    );
    request.on("timeout", () => {
      request.destroy(new Error(`timeout after ${probe.timeoutMs} ms`));
    });
    request.on("error", (error) => finish(unhealthy(error.message)));
    request.end();
  });
}

/** The writer fields of the app's health body; null when the body is not the app's JSON. */
function appView(body: string): Pick<EndpointReading, "writable" | "writerRegion"> {
  try {
    const parsed = JSON.parse(body) as { writable?: unknown; writerRegion?: unknown };
    return {
      writable: typeof parsed.writable === "boolean" ? parsed.writable : null,
      writerRegion: typeof parsed.writerRegion === "string" ? parsed.writerRegion : null,
    };
  } catch {
    return { writable: null, writerRegion: null };
  }
}

/**
 * A resolver that asks the zone's own name servers (its delegation set, "the authoritative name
 * servers for a hosted zone", https://docs.aws.amazon.com/Route53/latest/APIReference/API_DelegationSet.html;
 * Route 53's data plane, "globally distributed",
 * https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/route-53-concepts.html): their
 * answer is Route 53's current choice of record, with no resolver cache that would keep the old
 * one for the TTL. Their addresses are found through the ordinary resolver.
 */
async function authoritativeResolver(
  nameServers: readonly string[],
  resolve: (name: string) => Promise<Set<string> | string>,
  timeoutMs: number,
): Promise<dns.promises.Resolver | string> {
  const found = await Promise.all(nameServers.map((name) => resolve(name)));
  const addresses = found.flatMap((result) => (typeof result === "string" ? [] : [...result]));
  if (addresses.length === 0) {
    return `none of the zone's name servers resolved (${found.filter((result) => typeof result === "string").join("; ")})`;
  }
  const resolver = new dns.promises.Resolver({ timeout: timeoutMs, tries: 1 });
  resolver.setServers(addresses);
  return resolver;
}

/** The data-plane readers, injectable so tests and the simulator can answer them. */
export interface DataPlaneReaders {
  readonly probeEndpoint: typeof probeEndpoint;
  readonly servedRegion: typeof servedRegion;
}

/** Each region's load balancer DNS name, as servedRegion takes them. */
export function loadBalancerNames(
  regions: Readonly<Record<RegionRole, { loadBalancer: { dnsName: string } }>>,
): Record<RegionRole, string> {
  return {
    primary: regions.primary.loadBalancer.dnsName,
    secondary: regions.secondary.loadBalancer.dnsName,
  };
}

/** Which region the public name resolves to, or why that is not known. */
export type ServedRegion =
  | { readonly region: RegionRole }
  | { readonly region: "unknown"; readonly reason: string };

/**
 * Resolves the public name and each region's load balancer (A records) and returns the region
 * whose addresses the name's answer shares. An ALB's name answers a rotating subset of its
 * nodes, so any shared address identifies it; both are resolved at the same moment, through
 * the same resolver. Route 53 answers alias records with the target's addresses, with the alias
 * TTL of 60 s for an ELB target
 * (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-choosing-alias-non-alias.html).
 */
export async function servedRegion(
  recordName: string,
  loadBalancers: Readonly<Record<RegionRole, string>>,
  timeoutMs: number,
  nameServers?: readonly string[],
): Promise<ServedRegion> {
  const resolver = new dns.promises.Resolver({ timeout: timeoutMs, tries: 2 });
  const resolveWith =
    (using: dns.promises.Resolver) =>
    async (name: string): Promise<Set<string> | string> => {
      try {
        return new Set(await using.resolve4(name));
      } catch (error) {
        return `${name}: ${error instanceof Error ? error.message : String(error)}`;
      }
    };
  const resolve = resolveWith(resolver);
  const [answer, ...targets] = await Promise.all([
    nameServers && nameServers.length > 0
      ? authoritativeResolver(nameServers, resolve, timeoutMs).then((authoritative) =>
          typeof authoritative === "string"
            ? authoritative
            : resolveWith(authoritative)(recordName),
        )
      : resolve(recordName),
    ...REGION_ROLES.map((role) => resolve(loadBalancers[role])),
  ]);
  if (typeof answer === "string") return { region: "unknown", reason: answer };
  const matches = REGION_ROLES.filter((_, index) => {
    const addresses = targets[index];
    return typeof addresses !== "string" && [...answer].some((address) => addresses?.has(address));
  });
  if (matches.length === 1 && matches[0] !== undefined) return { region: matches[0] };
  const unresolved = targets.filter((target): target is string => typeof target === "string");
  return {
    region: "unknown",
    reason:
      matches.length > 1
        ? `${recordName} shares addresses with both load balancers`
        : `${recordName} answers ${[...answer].join(", ") || "nothing"}, which is neither load balancer's${unresolved.length ? ` (${unresolved.join("; ")})` : ""}`,
  };
}
