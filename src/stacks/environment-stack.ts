import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { S3Backend, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import {
  capacityRoleOf,
  otherRole,
  perRole,
  REGION_ROLES,
  type RegionRole,
} from "../../functions/shared/region-roles";
import {
  DATABASE_NAME_PARAMETER,
  namePrefixOf,
  parameterPathOf,
  READER_ENDPOINT_PARAMETER,
  REGION_ROLE_PARAMETER,
  regionNamePrefix,
  WRITER_ENDPOINT_PARAMETER,
} from "../../functions/shared/resource-names";
import type { EnvConfig } from "../config/schema";
import { AppConfig } from "../constructs/app-config";
import { Automation } from "../constructs/automation";
import { Backup } from "../constructs/backup";
import { Compute } from "../constructs/compute";
import { Database } from "../constructs/database";
import { Dns } from "../constructs/dns";
import { RegionalKey } from "../constructs/encryption";
import { Monitoring } from "../constructs/monitoring";
import { Networking } from "../constructs/networking";
import type { RegionContext } from "../constructs/region-context";
import { Storage } from "../constructs/storage";
import { attachGuardrails } from "../guardrails";
import { MINIMUM_TERRAFORM_VERSION } from "../terraform-version";

/** Which copy of the state an operator points the backend at. */
export type StateLocation = "primary" | "replica";

export interface EnvironmentStackProps {
  readonly config: EnvConfig;
  /**
   * `replica` points the backend at the replicated state bucket and lock table in
   * `stateBackend.replicaRegion`: for operating while the state region is down.
   * @default "primary"
   */
  readonly stateLocation?: StateLocation;
  /**
   * The env file the config came from, as a guardrail fix names it (`set database.x in <file>`).
   * @default `envs/<environment>.json`
   */
  readonly envFile?: string;
}

/**
 * Route 53 publishes health-check metrics only here, so their alarms must live here too. They
 * notify and feed the dashboard only: nothing of the recovery path depends on this region.
 */
const HEALTH_METRICS_REGION = "us-east-1";

/** The stack name of an environment: `<project>-<environment>`. */
export function stackName(config: EnvConfig): string {
  return namePrefixOf(config.project, config.environment);
}

/** What the stack knows about one region once its foundation is built. */
interface RegionFoundation {
  /** What most regional constructs need of the region: provider, name and key. */
  readonly context: RegionContext;
  readonly accountId: string;
  readonly networking: Networking;
}

/**
 * One environment: both regions of the warm-standby pair in one Terraform state. The stack wires
 * providers, backend and tags, and instantiates each regional construct once per region with
 * that region's role; all resource logic lives in the constructs.
 */
export class EnvironmentStack extends TerraformStack {
  readonly config: EnvConfig;
  readonly providers: Readonly<Record<RegionRole, AwsProvider>>;
  /** The last {@link toTerraform} result and the size of the construct tree it saw. */
  private resolved?: { readonly nodes: number; readonly json: Record<string, unknown> };

  constructor(scope: Construct, props: EnvironmentStackProps) {
    const { config } = props;
    super(scope, stackName(config));
    this.config = config;
    attachGuardrails(this, {
      production: config.environment === "prod",
      ...(props.envFile === undefined ? {} : { envFile: props.envFile }),
    });
    const namePrefix = stackName(config);
    const parameterPath = parameterPathOf(config.project, config.environment);

    const backend = new S3Backend(this, backendSettings(config, props.stateLocation ?? "primary"));
    // cdktf 0.21's S3Backend predates S3-native locking, so `use_lockfile` is an override.
    if (usesLockfile(config)) backend.addOverride("use_lockfile", true);
    // Write-only arguments (the database password) need Terraform 1.11
    // (https://developer.hashicorp.com/terraform/language/manage-sensitive-data/write-only).
    this.addOverride("terraform.required_version", `>= ${MINIMUM_TERRAFORM_VERSION}`);

    const regions = perRole((role): RegionFoundation => {
      const region = config.regions[role];
      const provider = this.awsProvider(`aws-${role}`, role, region, role);
      const accountId = new DataAwsCallerIdentity(this, `account-${role}`, { provider }).accountId;
      const key = new RegionalKey(this, `key-${role}`, {
        provider,
        region,
        accountId,
        aliasName: regionNamePrefix(namePrefix, role),
      });
      const networking = new Networking(this, `networking-${role}`, {
        provider,
        region,
        accountId,
        namePrefix: regionNamePrefix(namePrefix, role),
        vpcCidr: config.network.vpcCidr[role],
        azCount: config.network.azCount,
        natGateways: config.network.natGateways,
        kmsKeyArn: key.keyArn,
        flowLogRetentionDays: config.network.flowLogRetentionDays,
      });
      return { context: { provider, region, kmsKeyArn: key.keyArn }, accountId, networking };
    });
    const contexts = perRole((role) => regions[role].context);
    const providers = perRole((role) => contexts[role].provider);
    this.providers = providers;

    const storage = new Storage(this, "storage", {
      namePrefix,
      accountId: regions.primary.accountId,
      primary: contexts.primary,
      secondary: contexts.secondary,
      noncurrentVersionRetentionDays: config.storage.noncurrentVersionRetentionDays,
      accessLogRetentionDays: config.storage.accessLogRetentionDays,
    });

    const dns = new Dns(this, "dns", {
      provider: providers.primary,
      regionalProviders: providers,
      namePrefix,
      domainName: config.dns.domainName,
      hostedZone: config.dns.hostedZone,
      healthCheck: config.dns.healthCheck,
      activeRegion: config.activeRegion,
      // The traffic lever lives with the automation, in the secondary region.
      trafficFence: { provider: providers.secondary, region: contexts.secondary.region },
    });

    // Database places the capacity per activeRegion itself (capacityRoleOf, as compute below).
    const databaseRegion = (role: RegionRole) => ({
      ...contexts[role],
      vpcId: regions[role].networking.vpcId,
      subnetIds: regions[role].networking.databaseSubnetIds,
      instanceClass: config.database[role].instanceClass,
      instances: config.database[role].instances,
    });
    const database = new Database(this, "database", {
      namePrefix,
      ...perRole(databaseRegion),
      engineVersion: config.database.engineVersion,
      backupRetentionDays: config.database.backupRetentionDays,
      deletionProtection: config.database.deletionProtection,
      masterPasswordVersion: config.database.masterPasswordVersion,
      activeRegion: config.activeRegion,
    });

    const compute = perRole((role) => {
      const { context, networking } = regions[role];
      const { provider, region, kmsKeyArn } = context;
      const regionCompute = new Compute(this, `compute-${role}`, {
        provider,
        region,
        role,
        accountId: regions[role].accountId,
        namePrefix: regionNamePrefix(namePrefix, role),
        vpcId: networking.vpcId,
        publicSubnetIds: networking.publicSubnetIds,
        privateSubnetIds: networking.privateSubnetIds,
        certificateArn: dns.certificateArns[role],
        instanceType: config.compute[role].instanceType,
        // Already placed for activeRegion, by the rule Database applies to its capacity.
        capacity: sizesOf(config.compute[capacityRoleOf(role, config.activeRegion)]),
        parameterPath,
        databaseSecretArn: database.credentialsSecretArns[role],
        kmsKeyArn,
        healthCheckPath: config.dns.healthCheck.path,
        targetCpuPercent: config.compute.targetCpuPercent,
        ssh: config.compute.ssh,
        deletionProtection: config.compute.loadBalancerDeletionProtection,
        accessLogs: storage.loadBalancerAccessLogs[role],
      });
      database.allowFrom(role, regionCompute.appSecurityGroupId);
      return regionCompute;
    });
    dns.addFailoverRecords(
      perRole((role) => ({
        dnsName: compute[role].loadBalancerDnsName,
        zoneId: compute[role].loadBalancerZoneId,
      })),
    );

    const monitoredRegion = (role: RegionRole) => ({
      ...contexts[role],
      loadBalancerArnSuffix: compute[role].loadBalancerArnSuffix,
      targetGroupArnSuffix: compute[role].targetGroupArnSuffix,
      autoScalingGroupName: compute[role].autoScalingGroupName,
      databaseClusterIdentifier: database.clusters[role].identifier,
      assetsBucketName: storage.assets[role].bucketName,
      replicaBucketName: storage.assets[otherRole(role)].bucketName,
    });
    const healthMetrics = this.healthMetricsRegion(namePrefix, contexts, regions.primary.accountId);
    const monitoring = new Monitoring(this, "monitoring", {
      namePrefix,
      alertEmail: config.alerts.email,
      regions: perRole(monitoredRegion),
      healthCheckMetrics: { provider: healthMetrics.provider, kmsKeyArn: healthMetrics.kmsKeyArn },
      healthCheckIds: dns.healthCheckIds,
      replicationLagAlarmSeconds: config.dr.replicationLagAlarmSeconds,
      rpoSeconds: config.dr.rpoSeconds,
      healthAlarmMinutes: config.automaticFailover.alarmMinutes,
    });

    const active = config.activeRegion;
    new Backup(this, "backup", {
      namePrefix,
      activeRegion: active,
      accountId: regions.primary.accountId,
      regions: contexts,
      // The plan runs where the writer is; the copy goes to the other region's vault.
      resourceArns: [database.clusters[active].arn, storage.assets[active].bucketArn],
      schedule: config.backup.schedule,
      retentionDays: config.backup.retentionDays,
      copyRetentionDays: config.backup.copyRetentionDays,
      vaultLock: config.backup.vaultLock,
    });

    const appParameters = (role: RegionRole) => ({
      provider: providers[role],
      parameters: {
        [WRITER_ENDPOINT_PARAMETER]: database.writerEndpoint,
        [READER_ENDPOINT_PARAMETER]: database.clusters[role].readerEndpoint,
        "db/secret-arn": database.credentialsSecretArns[role],
        [DATABASE_NAME_PARAMETER]: database.databaseName,
        "assets/bucket": storage.assets[role].bucketName,
        [REGION_ROLE_PARAMETER]: role,
      },
    });
    new AppConfig(this, "app-config", {
      parameterPath,
      regions: perRole(appParameters),
      // The failover automation rewrites the writer endpoint after a detach-and-promote
      // (functions/orchestration/promote.ts); a re-apply must not put the old one back.
      automationOwnedKeys: [WRITER_ENDPOINT_PARAMETER],
    });

    const automationRegion = (role: RegionRole) => ({
      region: contexts[role].region,
      clusterIdentifier: database.clusters[role].identifier,
      clusterArn: database.clusters[role].arn,
      autoScalingGroupName: compute[role].autoScalingGroupName,
      loadBalancer: {
        dnsName: compute[role].loadBalancerDnsName,
        zoneId: compute[role].loadBalancerZoneId,
      },
      healthCheckId: dns.healthCheckIds[role],
      activeCapacity: sizesOf(config.compute.primary),
      standbyCapacity: sizesOf(config.compute.secondary),
    });
    // The automation lives in the secondary region: it must work when the primary is gone.
    const automation = new Automation(this, "automation", {
      namePrefix,
      environment: config.environment,
      provider: providers.secondary,
      accountId: regions.secondary.accountId,
      kmsKeyArn: contexts.secondary.kmsKeyArn,
      regions: perRole(automationRegion),
      globalClusterIdentifier: database.globalClusterIdentifier,
      hostedZoneId: dns.zoneId,
      nameServers: dns.nameServers,
      recordName: config.dns.domainName,
      parameterPath,
      alertTopic: { arn: monitoring.topicArns.secondary, kmsKeyArn: contexts.secondary.kmsKeyArn },
      rpoSeconds: config.dr.rpoSeconds,
      rtoSeconds: config.dr.rtoSeconds,
      databasePromotionSeconds: config.dr.estimates.databasePromotionSeconds,
      automaticFailover: {
        enabled: config.automaticFailover.enabled,
        alarmMinutes: config.automaticFailover.alarmMinutes,
        quorum: config.automaticFailover.quorum,
        minimumIntervalMinutes: config.automaticFailover.minimumIntervalMinutes,
      },
      activeRegion: config.activeRegion,
      drill: {
        enabled: config.drill.enabled,
        schedule: config.drill.schedule,
        holdMinutes: config.drill.holdMinutes,
        healthPath: config.dns.healthCheck.path,
      },
      deletionProtection: config.database.deletionProtection,
      reservedConcurrency: config.automation?.reservedConcurrency,
    });

    new TerraformOutput(this, "dashboard_url", { value: monitoring.dashboardUrl });
    new TerraformOutput(this, "failover_api_url", { value: automation.failoverApiUrl });
    new TerraformOutput(this, "failback_api_url", { value: automation.failbackApiUrl });
    new TerraformOutput(this, "status_api_url", { value: automation.statusApiUrl });
    new TerraformOutput(this, "app_url", { value: `https://${config.dns.domainName}/` });
    new TerraformOutput(this, "database_writer_endpoint", { value: database.writerEndpoint });
    new TerraformOutput(this, "drill_state_machine_arn", {
      value: automation.drillStateMachineArn,
    });
    new TerraformOutput(this, "drill_report_bucket", { value: automation.drillReportBucketName });
  }

  /**
   * The stack's Terraform JSON, resolved once while the construct tree keeps its size.
   *
   * Resolving every token of the stack is the largest part of a synth (about 200 ms per
   * environment), and one synth needs the result twice: the guardrails check it before anything
   * is written, then the synthesizer writes it. A construct added since resolves it again. Like
   * the guardrail report, this assumes a stack's constructs are not changed in place after its
   * first synth.
   */
  override toTerraform(): Record<string, unknown> {
    const nodes = this.node.findAll().length;
    if (this.resolved?.nodes !== nodes) {
      this.resolved = { nodes, json: super.toTerraform() };
    }
    return this.resolved.json;
  }

  /**
   * Before writing, cdktf resolves every element once more in a "preparing" pass whose only use
   * is finding references to another stack's resources, for which it adds outputs and remote
   * state (`Reference.resolve` in cdktf's tfExpression.js). An environment stack is a whole
   * Terraform state of its own and never references another stack, so the pass is skipped:
   * a fifth of a synth. The backend check it also makes stays.
   */
  override prepareStack(): void {
    this.ensureBackendExists();
  }

  /**
   * Provider and KMS key in us-east-1 for the Route 53 health-check alarms: one of the pair's own
   * regions when it is us-east-1, otherwise a third provider used for nothing else.
   */
  private healthMetricsRegion(
    namePrefix: string,
    contexts: Readonly<Record<RegionRole, RegionContext>>,
    accountId: string,
  ): RegionContext {
    const local = REGION_ROLES.find((role) => contexts[role].region === HEALTH_METRICS_REGION);
    if (local) return contexts[local];
    const provider = this.awsProvider(
      "aws-health-metrics",
      "health-metrics",
      HEALTH_METRICS_REGION,
      "health-metrics",
    );
    const key = new RegionalKey(this, "key-health-metrics", {
      provider,
      region: HEALTH_METRICS_REGION,
      accountId,
      aliasName: `${namePrefix}-health-metrics`,
    });
    return { provider, region: HEALTH_METRICS_REGION, kmsKeyArn: key.keyArn };
  }

  private awsProvider(id: string, alias: string, region: string, drRole: string): AwsProvider {
    const { config } = this;
    return new AwsProvider(this, id, {
      alias,
      region,
      defaultTags: [
        {
          tags: {
            ...config.tags,
            project: config.project,
            environment: config.environment,
            "dr-role": drRole,
          },
        },
      ],
    });
  }
}

function sizesOf(sizes: EnvConfig["compute"]["primary"]) {
  return { minSize: sizes.minSize, desiredCapacity: sizes.desiredCapacity, maxSize: sizes.maxSize };
}

/** S3 backend settings for an environment, from the primary or the replica copy of the state. */
export function backendSettings(config: EnvConfig, location: StateLocation) {
  const state = config.stateBackend;
  return {
    bucket: location === "primary" ? state.bucket : state.replicaBucket,
    region: location === "primary" ? state.region : state.replicaRegion,
    key: `${config.project}/${config.environment}/terraform.tfstate`,
    encrypt: true,
    // The lock table is a global table; its replica in the replica region has the same name.
    ...(state.locking === "lockfile" ? {} : { dynamodbTable: state.lockTable }),
  };
}

/**
 * Whether the backend sets `use_lockfile`: S3-native locking writes `<key>.tflock` beside the
 * state (https://developer.hashicorp.com/terraform/language/backend/s3#state-locking).
 */
function usesLockfile(config: EnvConfig): boolean {
  return config.stateBackend.locking !== "table";
}
