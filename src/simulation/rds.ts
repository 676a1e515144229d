/**
 * Aurora global database of the simulated region pair: the global cluster and its two regional
 * clusters, with the switchover, failover and detach lifecycles of the RDS API.
 *
 * Sources (RDS API Reference): SwitchoverGlobalCluster ("demotes the current primary cluster to a
 * secondary (read-only) cluster, maintaining the original replication topology", for "controlled
 * environments"); FailoverGlobalCluster ("Failing over - Specify the AllowDataLoss parameter and
 * don't specify the Switchover parameter"; can't be specified together); RemoveFromGlobalCluster
 * ("The cluster becomes a standalone cluster with read-write capability"); FailoverState
 * (`pending`, `failing-over`, `cancelling`, `switching-over`; "empty unless a switchover or
 * failover operation is scheduled or is in progress"); GlobalClusterMember SynchronizationStatus
 * (`connected`, `pending-resync`); the errors each operation lists (GlobalClusterNotFoundFault,
 * DBClusterNotFoundFault 404; InvalidGlobalClusterStateFault, InvalidDBClusterStateFault 400).
 *
 * Modelling choices where the documentation is silent (kept deliberately strict, so code that
 * relies on them fails here rather than in a real outage):
 * - a switchover needs every member's region up; otherwise InvalidGlobalClusterStateFault at
 *   once (AWS validates the members during `pending`); a member region going down before it
 *   completes cancels it;
 * - a second switchover/failover while one runs, or a switchover to the current writer, is
 *   InvalidGlobalClusterStateFault;
 * - after a failover the old primary stays a member with SynchronizationStatus `pending-resync`
 *   while its region is down and becomes a `connected` secondary when the region recovers (AWS:
 *   "As soon as that old primary Region is healthy and available again, Aurora automatically adds
 *   it back to the global cluster as a secondary Region", aurora-global-database-disaster-recovery.html;
 *   the storage rebuild before that, "a few minutes to several hours", is not modelled);
 * - RemoveFromGlobalCluster of a cluster that is not a member is DBClusterNotFoundFault; the
 *   detached cluster is `promoting` (not yet writable) for `detachMs`, then `available` writer;
 * - regional clusters stay `available` during a switchover or failover;
 * - SwitchoverGlobalCluster is answered only in the current writer's region and
 *   FailoverGlobalCluster (AllowDataLoss) only in the target's, as the User Guide's procedures
 *   direct (`--region`: "the AWS Region where the primary DB cluster ... is running" /
 *   "where the secondary DB cluster that you want to be the new primary ... is running",
 *   aurora-global-database-disaster-recovery.html); elsewhere InvalidGlobalClusterStateFault;
 * - a switchover takes `switchoverMs` plus `switchoverMsPerLagMs` for each ms of replication lag
 *   at the call: the lag "is directly proportional to the time it takes for Aurora to complete
 *   the switchover" (same page).
 */
import type {
  DBCluster,
  DescribeDBClustersMessage,
  DescribeGlobalClustersMessage,
  FailoverGlobalClusterMessage,
  GlobalCluster,
  RemoveFromGlobalClusterMessage,
  SwitchoverGlobalClusterMessage,
} from "@aws-sdk/client-rds";
import { REGION_ROLES, type RegionRole } from "../../functions/shared/region-roles";
import type { SimulatedClock } from "./clock";
import { SimulatorUnsupportedError, serviceError } from "./errors";

export interface RdsTimings {
  /** Switchover from the call until the target is the writer. */
  readonly switchoverMs: number;
  /** Failover (AllowDataLoss) from the call until the target is the writer. */
  readonly failoverMs: number;
  /** RemoveFromGlobalCluster until the detached cluster accepts writes. */
  readonly detachMs: number;
  /** How long FailoverState.Status stays `pending` before `switching-over` / `failing-over`. */
  readonly pendingMs: number;
  /** Extra switchover time per ms of replication lag (the catch-up before the switch). */
  readonly switchoverMsPerLagMs: number;
}

export interface RdsClusterSpec {
  readonly role: RegionRole;
  readonly region: string;
  readonly identifier: string;
  readonly arn: string;
}

export interface RdsSpec {
  readonly accountId: string;
  readonly globalClusterIdentifier: string;
  readonly clusters: Readonly<Record<RegionRole, RdsClusterSpec>>;
  /** The cluster that is the writer at the start. */
  readonly initialWriter: RegionRole;
  readonly engineVersion: string;
  readonly timings: RdsTimings;
}

/** What the RDS model needs from the region pair. */
export interface RdsEnvironment {
  readonly clock: SimulatedClock;
  isRegionUp(region: string): boolean;
  /** Extra time every promotion takes (slowPromotion fault). */
  extraPromotionMs(): number;
  /** Current replication lag of the secondary, ms (the data a failover would lose). */
  replicationLagMs(): number;
}

/** One regional cluster as the model holds it. */
export interface SimulatedCluster {
  readonly role: RegionRole;
  readonly region: string;
  readonly identifier: string;
  readonly arn: string;
  readonly resourceId: string;
  readonly endpoint: string;
  readonly readerEndpoint: string;
  readonly instanceIdentifiers: readonly string[];
  status: string;
  /** Undefined once detached. */
  globalClusterIdentifier: string | undefined;
  /** Accepts writes: the global writer, or a detached cluster whose promotion finished. */
  writable: boolean;
}

interface GlobalOperation {
  readonly kind: "switchover" | "failover";
  readonly fromArn: string;
  readonly toArn: string;
  readonly startedAt: number;
}

/** A finished promotion, for assertions and the drill report. */
export interface PromotionRecord {
  readonly kind: "switchover" | "failover" | "detach";
  readonly cluster: RegionRole;
  readonly startedAt: number;
  readonly finishedAt: number;
  /** Failover: replication lag when it started (writes possibly lost); else 0. */
  readonly dataLossMs: number;
  readonly outcome: "completed" | "cancelled";
}

const ENGINE = "aurora-postgresql";
const ENDPOINT_SUFFIX = "c1x2y3z4w5v6";

export class RdsSimulation {
  readonly globalClusterIdentifier: string;
  readonly globalClusterArn: string;
  readonly globalWriterEndpoint: string;
  readonly promotions: PromotionRecord[] = [];
  private readonly clusters: SimulatedCluster[];
  private members: string[];
  private writerArn: string;
  private readonly synchronization = new Map<string, "connected" | "pending-resync">();
  private operation: GlobalOperation | undefined;
  private readonly spec: RdsSpec;
  private readonly env: RdsEnvironment;

  constructor(spec: RdsSpec, env: RdsEnvironment) {
    this.spec = spec;
    this.env = env;
    this.globalClusterIdentifier = spec.globalClusterIdentifier;
    this.globalClusterArn = `arn:aws:rds::${spec.accountId}:global-cluster:${spec.globalClusterIdentifier}`;
    this.globalWriterEndpoint = `${spec.globalClusterIdentifier}.global-${ENDPOINT_SUFFIX}.global.rds.amazonaws.com`;
    this.clusters = REGION_ROLES.map((role) => {
      const { region, identifier, arn } = spec.clusters[role];
      return {
        role,
        region,
        identifier,
        arn,
        resourceId: `cluster-${role.toUpperCase()}${ENDPOINT_SUFFIX.toUpperCase()}`,
        endpoint: `${identifier}.cluster-${ENDPOINT_SUFFIX}.${region}.rds.amazonaws.com`,
        readerEndpoint: `${identifier}.cluster-ro-${ENDPOINT_SUFFIX}.${region}.rds.amazonaws.com`,
        instanceIdentifiers: [`${identifier}-1`, `${identifier}-2`],
        status: "available",
        globalClusterIdentifier: spec.globalClusterIdentifier,
        writable: role === spec.initialWriter,
      };
    });
    this.members = this.clusters.map((cluster) => cluster.arn);
    this.writerArn = spec.clusters[spec.initialWriter].arn;
    for (const cluster of this.clusters) {
      if (cluster.arn !== this.writerArn) this.synchronization.set(cluster.arn, "connected");
    }
  }

  /** The cluster of a region role. */
  cluster(role: RegionRole): SimulatedCluster {
    return this.clusters.find((cluster) => cluster.role === role) as SimulatedCluster;
  }

  /** The role whose cluster is the global writer. */
  globalWriter(): RegionRole {
    return this.clusterByArn(this.writerArn)?.role as RegionRole;
  }

  /** Whether a cluster is still a member of the global cluster. */
  isMember(role: RegionRole): boolean {
    return this.members.includes(this.cluster(role).arn);
  }

  /** Global cluster Status: `available`, `switching-over` or `failing-over`. */
  globalStatus(): string {
    if (!this.operation) return "available";
    return this.operation.kind === "switchover" ? "switching-over" : "failing-over";
  }

  /** Called by the region pair when a region comes back: a demoted old primary resyncs. */
  regionRecovered(region: string): void {
    for (const cluster of this.clusters) {
      if (cluster.region === region && this.synchronization.get(cluster.arn) === "pending-resync") {
        this.synchronization.set(cluster.arn, "connected");
      }
    }
  }

  handle(operation: string, input: Record<string, unknown>, region: string): unknown {
    switch (operation) {
      case "DescribeGlobalClusters":
        return this.describeGlobalClusters(input as unknown as DescribeGlobalClustersMessage);
      case "DescribeDBClusters":
        return this.describeDbClusters(input as unknown as DescribeDBClustersMessage, region);
      case "SwitchoverGlobalCluster":
        return this.switchover(input as unknown as SwitchoverGlobalClusterMessage, region);
      case "FailoverGlobalCluster":
        return this.failover(input as unknown as FailoverGlobalClusterMessage, region);
      case "RemoveFromGlobalCluster":
        return this.removeFromGlobalCluster(
          input as unknown as RemoveFromGlobalClusterMessage,
          region,
        );
      default:
        throw new SimulatorUnsupportedError(`RDS ${operation} is not modelled`);
    }
  }

  private describeGlobalClusters(input: DescribeGlobalClustersMessage) {
    if (input.Filters?.length) {
      throw new SimulatorUnsupportedError("DescribeGlobalClusters Filters are not modelled");
    }
    if (input.GlobalClusterIdentifier !== undefined)
      this.requireGlobal(input.GlobalClusterIdentifier);
    return { GlobalClusters: [this.describeGlobal()] };
  }

  private describeDbClusters(input: DescribeDBClustersMessage, region: string) {
    if (input.Filters?.length) {
      throw new SimulatorUnsupportedError("DescribeDBClusters Filters are not modelled");
    }
    if (input.DBClusterIdentifier === undefined) {
      return {
        DBClusters: this.clusters
          .filter((cluster) => cluster.region === region)
          .map((cluster) => this.describeCluster(cluster)),
      };
    }
    const cluster = this.requireCluster(input.DBClusterIdentifier, region, "regional");
    return { DBClusters: [this.describeCluster(cluster)] };
  }

  private switchover(input: SwitchoverGlobalClusterMessage, region: string) {
    this.requireGlobal(input.GlobalClusterIdentifier);
    const target = this.requireCluster(input.TargetDbClusterIdentifier, region);
    this.requireCalledIn(region, this.clusterByArn(this.writerArn), "the current primary cluster");
    this.startPromotion("switchover", target);
    return { GlobalCluster: this.describeGlobal() };
  }

  /** Models the User Guide's `--region` rule for the two global operations (see the module comment). */
  private requireCalledIn(
    region: string,
    cluster: SimulatedCluster | undefined,
    what: string,
  ): void {
    if (cluster === undefined || cluster.region === region) return;
    throw this.invalidGlobalState(
      `Call this operation in ${cluster.region}, the AWS Region of ${what} (${cluster.arn}); it was called in ${region}.`,
    );
  }

  private failover(input: FailoverGlobalClusterMessage, region: string) {
    this.requireGlobal(input.GlobalClusterIdentifier);
    if (input.AllowDataLoss && input.Switchover) {
      throw serviceError(
        "rds",
        "InvalidParameterCombination",
        "Cannot specify both AllowDataLoss and Switchover.",
      );
    }
    const target = this.requireCluster(input.TargetDbClusterIdentifier, region);
    if (input.AllowDataLoss) this.requireCalledIn(region, target, "the cluster to promote");
    else
      this.requireCalledIn(
        region,
        this.clusterByArn(this.writerArn),
        "the current primary cluster",
      );
    this.startPromotion(input.AllowDataLoss ? "failover" : "switchover", target);
    return { GlobalCluster: this.describeGlobal() };
  }

  private removeFromGlobalCluster(input: RemoveFromGlobalClusterMessage, region: string) {
    this.requireGlobal(input.GlobalClusterIdentifier);
    const cluster = this.requireCluster(input.DbClusterIdentifier, region);
    if (!this.members.includes(cluster.arn)) {
      throw serviceError(
        "rds",
        "DBClusterNotFoundFault",
        `The DB cluster ${cluster.arn} isn't a member of global cluster ${this.globalClusterIdentifier}.`,
        { httpStatusCode: 404 },
      );
    }
    if (this.operation) {
      throw this.invalidGlobalState(
        `Global cluster ${this.globalClusterIdentifier} is ${this.globalStatus()}; wait until it is available.`,
      );
    }
    if (cluster.arn === this.writerArn && this.members.length > 1) {
      throw this.invalidGlobalState(
        `The primary cluster of global cluster ${this.globalClusterIdentifier} can't be removed while it has secondary clusters.`,
      );
    }
    const wasWriter = cluster.arn === this.writerArn;
    this.members = this.members.filter((arn) => arn !== cluster.arn);
    this.synchronization.delete(cluster.arn);
    cluster.globalClusterIdentifier = undefined;
    if (!wasWriter) {
      const startedAt = this.env.clock.now();
      const promote = () => {
        cluster.status = "available";
        cluster.writable = true;
        this.promotions.push({
          kind: "detach",
          cluster: cluster.role,
          startedAt,
          finishedAt: this.env.clock.now(),
          dataLossMs: this.env.replicationLagMs(),
          outcome: "completed",
        });
      };
      const delay = this.spec.timings.detachMs + this.env.extraPromotionMs();
      if (delay <= 0) promote();
      else {
        cluster.status = "promoting";
        this.env.clock.schedule(delay, promote, `rds: ${cluster.identifier} detach completes`);
      }
    }
    return { GlobalCluster: this.describeGlobal() };
  }

  private startPromotion(kind: GlobalOperation["kind"], target: SimulatedCluster): void {
    if (!this.members.includes(target.arn)) {
      throw serviceError(
        "rds",
        "InvalidDBClusterStateFault",
        `The DB cluster ${target.arn} isn't a secondary cluster of global cluster ${this.globalClusterIdentifier}.`,
      );
    }
    if (this.operation) {
      throw this.invalidGlobalState(
        `Global cluster ${this.globalClusterIdentifier} is ${this.globalStatus()}; another switchover or failover is in progress.`,
      );
    }
    if (target.arn === this.writerArn) {
      throw this.invalidGlobalState(
        `The DB cluster ${target.arn} is already the primary cluster of global cluster ${this.globalClusterIdentifier}.`,
      );
    }
    if (!this.env.isRegionUp(target.region)) {
      throw serviceError(
        "rds",
        "InvalidDBClusterStateFault",
        `The DB cluster ${target.arn} is unavailable.`,
      );
    }
    if (kind === "switchover") {
      const unavailable = this.members
        .map((arn) => this.clusterByArn(arn) as SimulatedCluster)
        .filter((cluster) => !this.env.isRegionUp(cluster.region));
      if (unavailable.length > 0) {
        throw this.invalidGlobalState(
          `Global cluster ${this.globalClusterIdentifier} can't be switched over because member ${unavailable[0]?.arn} is unavailable. Use FailoverGlobalCluster with AllowDataLoss to recover from an outage.`,
        );
      }
    }
    const operation: GlobalOperation = {
      kind,
      fromArn: this.writerArn,
      toArn: target.arn,
      startedAt: this.env.clock.now(),
    };
    this.operation = operation;
    const dataLossMs = kind === "failover" ? this.env.replicationLagMs() : 0;
    const duration =
      (kind === "switchover"
        ? this.spec.timings.switchoverMs +
          this.spec.timings.switchoverMsPerLagMs * this.env.replicationLagMs()
        : this.spec.timings.failoverMs) + this.env.extraPromotionMs();
    this.env.clock.schedule(
      duration,
      () => this.finishPromotion(operation, dataLossMs),
      `rds: ${kind} to ${target.identifier} completes`,
    );
  }

  private finishPromotion(operation: GlobalOperation, dataLossMs: number): void {
    this.operation = undefined;
    const from = this.clusterByArn(operation.fromArn) as SimulatedCluster;
    const to = this.clusterByArn(operation.toArn) as SimulatedCluster;
    const record = {
      kind: operation.kind,
      cluster: to.role,
      startedAt: operation.startedAt,
      finishedAt: this.env.clock.now(),
      dataLossMs,
    };
    const sourceDown = !this.env.isRegionUp(from.region);
    if (!this.env.isRegionUp(to.region) || (operation.kind === "switchover" && sourceDown)) {
      this.promotions.push({ ...record, outcome: "cancelled" });
      return;
    }
    this.writerArn = to.arn;
    to.writable = true;
    from.writable = false;
    this.synchronization.delete(to.arn);
    this.synchronization.set(from.arn, sourceDown ? "pending-resync" : "connected");
    this.promotions.push({ ...record, outcome: "completed" });
  }

  private describeGlobal(): GlobalCluster {
    const operation = this.operation;
    const members = this.members.map((arn) => {
      const isWriter = arn === this.writerArn;
      return {
        DBClusterArn: arn,
        Readers: isWriter ? this.members.filter((other) => other !== arn) : [],
        IsWriter: isWriter,
        GlobalWriteForwardingStatus: "disabled" as const,
        ...(isWriter ? {} : { SynchronizationStatus: this.synchronization.get(arn) }),
      };
    });
    return {
      GlobalClusterIdentifier: this.globalClusterIdentifier,
      GlobalClusterResourceId: `cluster-${ENDPOINT_SUFFIX}global`,
      GlobalClusterArn: this.globalClusterArn,
      Status: this.globalStatus(),
      Engine: ENGINE,
      EngineVersion: this.spec.engineVersion,
      EngineLifecycleSupport: "open-source-rds-extended-support",
      DatabaseName: "shopsmart",
      StorageEncrypted: true,
      DeletionProtection: true,
      GlobalClusterMembers: members,
      Endpoint: this.globalWriterEndpoint,
      ...(operation
        ? {
            FailoverState: {
              Status:
                this.env.clock.now() - operation.startedAt < this.spec.timings.pendingMs
                  ? "pending"
                  : this.globalStatus(),
              FromDbClusterArn: operation.fromArn,
              ToDbClusterArn: operation.toArn,
              IsDataLossAllowed: operation.kind === "failover",
            },
          }
        : {}),
      TagList: [],
    } as GlobalCluster;
  }

  private describeCluster(cluster: SimulatedCluster): DBCluster {
    const member = cluster.globalClusterIdentifier !== undefined;
    const secondaryMember = member && cluster.arn !== this.writerArn;
    return {
      DBClusterIdentifier: cluster.identifier,
      DBClusterArn: cluster.arn,
      DbClusterResourceId: cluster.resourceId,
      Status: cluster.status,
      Engine: ENGINE,
      EngineVersion: this.spec.engineVersion,
      EngineMode: "provisioned",
      Endpoint: cluster.endpoint,
      ReaderEndpoint: cluster.readerEndpoint,
      Port: 5432,
      MultiAZ: true,
      StorageEncrypted: true,
      DeletionProtection: true,
      AvailabilityZones: [`${cluster.region}a`, `${cluster.region}b`, `${cluster.region}c`],
      DBClusterMembers: cluster.instanceIdentifiers.map((identifier, index) => ({
        DBInstanceIdentifier: identifier,
        IsClusterWriter: cluster.writable && index === 0,
        DBClusterParameterGroupStatus: "in-sync",
        PromotionTier: 1,
      })),
      ...(member ? { GlobalClusterIdentifier: cluster.globalClusterIdentifier } : {}),
      ...(secondaryMember ? { ReplicationSourceIdentifier: this.writerArn } : {}),
      GlobalWriteForwardingStatus: member ? "disabled" : undefined,
      ClusterCreateTime: new Date(Date.UTC(2025, 0, 1)),
    };
  }

  private requireGlobal(identifier: string | undefined): void {
    if (identifier === undefined || identifier.toLowerCase() !== this.globalClusterIdentifier) {
      throw serviceError(
        "rds",
        "GlobalClusterNotFoundFault",
        `Global cluster ${identifier ?? "(none)"} not found.`,
        { httpStatusCode: 404 },
      );
    }
  }

  /**
   * An identifier names a cluster of the region called. An ARN names any cluster for the global
   * operations ("Use the ARN ... so that Aurora can locate the cluster in its Region"), but only
   * one of the region called for the regional DescribeDBClusters.
   */
  private requireCluster(
    identifier: string | undefined,
    region: string,
    scope: "regional" | "global" = "global",
  ): SimulatedCluster {
    const cluster = this.clusters.find((candidate) =>
      candidate.arn === identifier
        ? scope === "global" || candidate.region === region
        : candidate.region === region && candidate.identifier === identifier?.toLowerCase(),
    );
    if (!cluster) {
      throw serviceError("rds", "DBClusterNotFoundFault", `DBCluster ${identifier} not found.`, {
        httpStatusCode: 404,
      });
    }
    return cluster;
  }

  private clusterByArn(arn: string): SimulatedCluster | undefined {
    return this.clusters.find((cluster) => cluster.arn === arn);
  }

  private invalidGlobalState(message: string): Error {
    return serviceError("rds", "InvalidGlobalClusterStateFault", message);
  }
}
