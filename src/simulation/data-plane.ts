/**
 * The shop's data plane for the simulated pair: DNS answers for the public name and the load
 * balancers, and HTTPS answers of each region's load balancer, as functions/shared/
 * endpoint-probe.ts reads them (Node's `dns` Resolver and `https.request`, looked up at call
 * time). {@link installSimulatedDataPlane} answers the names the pair knows and hands every
 * other name to Node.
 *
 * What is modelled:
 * - the public name resolves to the load balancer of the region Route 53 answers with
 *   (Route53Simulation.answeringRegion: failover records, endpoint health, traffic fences),
 *   including while Route 53's API or us-east-1 is down (DNS is its data plane);
 * - each load balancer's name resolves to its own addresses (documentation ranges, RFC 5737);
 * - an HTTPS request to a load balancer is made from the automation's (secondary) region: it
 *   times out when the target's region is down or partitioned from it, answers 503 while its web
 *   tier fails or no instance is in service, else 200 with the app's health body
 *   (web-app-user-data.ts: the writer's region and whether this region writes).
 * What is not: resolver caching (answers follow the simulated state at once; real resolvers keep
 * an answer for the alias record's 60 s TTL), TLS, partial answers.
 */
import * as dns from "node:dns";
import { EventEmitter } from "node:events";
import type * as https from "node:https";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { PassThrough } from "node:stream";
import type { RegionRole } from "../../functions/shared/region-roles";
import { writerEndpointParameterName } from "../../functions/shared/resource-names";
import type { RegionPair } from "./region-pair";

const ROLES = ["primary", "secondary"] as const;
const nodeRequire = createRequire(`${process.cwd()}/`);

/** Each region's load balancer addresses (TEST-NET-1 and TEST-NET-2). */
export const LOAD_BALANCER_ADDRESSES: Readonly<Record<RegionRole, readonly string[]>> = {
  primary: ["192.0.2.10", "192.0.2.11"],
  secondary: ["198.51.100.20", "198.51.100.21"],
};

/** What the app's health path answers in one region (web-app-user-data.ts's body). */
export interface SimulatedHealthAnswer {
  readonly statusCode: number;
  readonly body?: {
    region: string;
    role: RegionRole;
    database: "reachable";
    writerRegion: string;
    writer: "here" | "elsewhere";
    writable: boolean;
  };
}

/**
 * The health answer of `role`'s load balancer, or undefined when it does not answer: its region
 * is down, or (asked from the automation's region, the default) partitioned from it. A client on
 * the internet (`fromAutomation: false`) is not behind the partition.
 */
export function simulatedHealthAnswer(
  pair: RegionPair,
  role: RegionRole,
  { fromAutomation = true }: { fromAutomation?: boolean } = {},
): SimulatedHealthAnswer | undefined {
  if (!pair.isRegionUp(role)) return undefined;
  if (fromAutomation && !pair.isReachableFromAutomation(role)) return undefined;
  if (!pair.isEndpointHealthy(role)) return { statusCode: 503 };
  const writer = appWriter(pair, role);
  const here = writer === role;
  return {
    statusCode: 200,
    body: {
      region: pair.regionId(role),
      role,
      database: "reachable",
      writerRegion: writer === undefined ? "unknown" : pair.regionId(writer),
      writer: here ? "here" : "elsewhere",
      writable: here,
    },
  };
}

/**
 * The cluster the app in `role` writes to: the one its region's `db/writer-endpoint` parameter
 * names (the app re-reads it every 30 s, web-app-user-data.ts), resolved as Aurora does: the
 * global writer endpoint leads to the global cluster's writer, a cluster endpoint to that
 * cluster while it writes (a detached and promoted cluster, for one).
 */
function appWriter(pair: RegionPair, role: RegionRole): RegionRole | undefined {
  const endpoint = pair.ssm.value(
    pair.regionId(role),
    writerEndpointParameterName(pair.settings.parameterPath),
  );
  if (endpoint === pair.rds.globalWriterEndpoint) return pair.rds.globalWriter();
  return ROLES.find(
    (candidate) =>
      pair.rds.cluster(candidate).endpoint === endpoint && pair.rds.cluster(candidate).writable,
  );
}

/** The addresses the pair answers for `name`, or undefined for a name it does not know. */
export function simulatedAddresses(pair: RegionPair, name: string): string[] | undefined {
  const wanted = normalize(name);
  const nameServer = (pair.settings.nameServers ?? "").split(",").indexOf(wanted);
  // The zone's name servers (Route 53's, global: they answer whatever region is down).
  if (nameServer >= 0) return [`205.251.192.${nameServer + 1}`];
  if (wanted === normalize(pair.settings.recordName)) {
    const role = pair.route53.answeringRegion();
    return role === null ? [] : [...LOAD_BALANCER_ADDRESSES[role]];
  }
  const role = ROLES.find(
    (candidate) => normalize(pair.settings.regions[candidate].loadBalancer.dnsName) === wanted,
  );
  return role === undefined ? undefined : [...LOAD_BALANCER_ADDRESSES[role]];
}

/**
 * Answers DNS and HTTPS for the pair's names until the returned function is called. Time spent
 * waiting for an unreachable endpoint is simulated time (the request's own timeout).
 */
export function installSimulatedDataPlane(pair: RegionPair): () => void {
  const resolverPrototype = dns.promises.Resolver.prototype;
  const originalResolve4 = resolverPrototype.resolve4;
  const httpsModule = nodeRequire("node:https") as { request: typeof https.request };
  const originalRequest = httpsModule.request;

  resolverPrototype.resolve4 = function resolve4(
    this: dns.promises.Resolver,
    hostname: string,
    ...rest: unknown[]
  ) {
    const answer = simulatedAddresses(pair, hostname);
    if (answer === undefined) {
      return (originalResolve4 as (...args: unknown[]) => Promise<string[]>).call(
        this,
        hostname,
        ...rest,
      );
    }
    if (answer.length === 0) {
      return Promise.reject(
        Object.assign(new Error(`queryA ENODATA ${hostname}`), { code: "ENODATA" }),
      );
    }
    return Promise.resolve(answer);
  } as typeof resolverPrototype.resolve4;

  const simulatedRequest = ((...args: unknown[]) => {
    const options = (
      typeof args[0] === "object" && args[0] !== null ? args[0] : {}
    ) as https.RequestOptions;
    const host = normalize(String(options.host ?? options.hostname ?? ""));
    const role = ROLES.find(
      (candidate) => normalize(pair.settings.regions[candidate].loadBalancer.dnsName) === host,
    );
    if (role === undefined) return (originalRequest as (...a: unknown[]) => unknown)(...args);
    const callback = args.find((arg) => typeof arg === "function") as
      | ((response: unknown) => void)
      | undefined;
    return simulatedHttpsRequest(pair, role, options, callback);
  }) as typeof https.request;
  // The CommonJS module object is what bundles and ESM importers both read `request` from once
  // syncBuiltinESMExports() has copied it to the ESM namespace.
  httpsModule.request = simulatedRequest;
  syncBuiltinESMExports();

  return () => {
    resolverPrototype.resolve4 = originalResolve4;
    httpsModule.request = originalRequest;
    syncBuiltinESMExports();
  };
}

/** A ClientRequest stand-in with what endpoint-probe.ts uses: on, end, destroy. */
function simulatedHttpsRequest(
  pair: RegionPair,
  role: RegionRole,
  options: https.RequestOptions,
  callback: ((response: unknown) => void) | undefined,
): EventEmitter & { end(): void; destroy(error?: Error): void } {
  const request = Object.assign(new EventEmitter(), {
    destroyed: false,
    end() {
      void answer();
    },
    destroy(error?: Error) {
      if (request.destroyed) return;
      request.destroyed = true;
      if (error) queueMicrotask(() => request.emit("error", error));
    },
  });
  const answer = async () => {
    await pair.clock.sleep(0, `https ${options.host}`);
    const health = simulatedHealthAnswer(pair, role);
    if (health === undefined) {
      await pair.clock.sleep(Number(options.timeout ?? 120_000), `https ${options.host} times out`);
      if (!request.destroyed) request.emit("timeout");
      return;
    }
    if (request.destroyed) return;
    const response = Object.assign(new PassThrough(), { statusCode: health.statusCode });
    callback?.(response);
    response.end(health.body ? JSON.stringify(health.body) : "");
  };
  return request;
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/\.$/, "");
}
