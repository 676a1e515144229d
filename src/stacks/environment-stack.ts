import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { S3Backend, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { type EnvConfig, REGION_ROLES, type RegionRole } from "../config/schema";
import { RegionalKey } from "../constructs/encryption";
import { Networking } from "../constructs/networking";
import { Storage } from "../constructs/storage";

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
}

/** The stack name of an environment: `<project>-<environment>`. */
export function stackName(config: EnvConfig): string {
  return `${config.project}-${config.environment}`;
}

/**
 * One environment: both regions of the warm-standby pair in one Terraform state. The stack wires
 * providers, backend and tags, and instantiates each regional construct once per region with
 * that region's role; all resource logic lives in the constructs.
 */
export class EnvironmentStack extends TerraformStack {
  readonly config: EnvConfig;
  readonly providers: Readonly<Record<RegionRole, AwsProvider>>;

  constructor(scope: Construct, props: EnvironmentStackProps) {
    const { config } = props;
    super(scope, stackName(config));
    this.config = config;
    const namePrefix = stackName(config);

    new S3Backend(this, backendSettings(config, props.stateLocation ?? "primary"));

    const providers = {} as Record<RegionRole, AwsProvider>;
    for (const role of REGION_ROLES) {
      providers[role] = new AwsProvider(this, `aws-${role}`, {
        alias: role,
        region: config.regions[role],
        defaultTags: [
          {
            tags: {
              ...config.tags,
              project: config.project,
              environment: config.environment,
              "dr-role": role,
            },
          },
        ],
      });
    }
    this.providers = providers;

    const regional = {} as Record<
      RegionRole,
      { accountId: string; key: RegionalKey; region: string }
    >;
    for (const role of REGION_ROLES) {
      const provider = providers[role];
      const region = config.regions[role];
      const accountId = new DataAwsCallerIdentity(this, `account-${role}`, { provider }).accountId;
      const key = new RegionalKey(this, `key-${role}`, {
        provider,
        region,
        accountId,
        aliasName: `${namePrefix}-${role}`,
      });
      regional[role] = { accountId, key, region };

      new Networking(this, `networking-${role}`, {
        provider,
        region,
        accountId,
        namePrefix: `${namePrefix}-${role}`,
        vpcCidr: config.network.vpcCidr[role],
        azCount: config.network.azCount,
        natGateways: config.network.natGateways,
        kmsKeyArn: key.keyArn,
        flowLogRetentionDays: config.network.flowLogRetentionDays,
      });
    }

    const storageRegion = (role: RegionRole) => ({
      provider: providers[role],
      region: regional[role].region,
      kmsKeyArn: regional[role].key.keyArn,
    });
    new Storage(this, "storage", {
      namePrefix,
      accountId: regional.primary.accountId,
      primary: storageRegion("primary"),
      secondary: storageRegion("secondary"),
      noncurrentVersionRetentionDays: config.storage.noncurrentVersionRetentionDays,
      accessLogRetentionDays: config.storage.accessLogRetentionDays,
    });
  }
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
    dynamodbTable: state.lockTable,
  };
}
