import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { LocalBackend, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { EnvConfig } from "../src/config/schema";
import { RegionalKey } from "../src/constructs/encryption";
import { StateManagement } from "../src/constructs/state-management";

export interface StateBackendStackProps {
  /** The backend settings shared by one or more environments. */
  readonly backend: EnvConfig["stateBackend"];
  readonly project: string;
  /** Tags on every resource besides `project` and `purpose`. @default {} */
  readonly tags?: Record<string, string>;
}

/** Stack name for a backend: one stack per distinct state bucket. */
export function stateBackendStackName(backend: EnvConfig["stateBackend"]): string {
  return `tfstate-${backend.bucket}`;
}

/**
 * The state bucket, its replica and the lock table, in a stack with local state: it must exist
 * before any environment stack can use the S3 backend, so it cannot keep its own state there.
 */
export class StateBackendStack extends TerraformStack {
  constructor(scope: Construct, props: StateBackendStackProps) {
    const name = stateBackendStackName(props.backend);
    super(scope, name);
    const { backend } = props;

    // Terraform runs in cdktf.out/stacks/<name>; keep the state file next to this app, where it
    // survives a re-synth, with a relative path so synth output does not depend on the machine.
    new LocalBackend(this, { path: `../../../${name}.tfstate` });

    const tags = { ...props.tags, project: props.project, purpose: "terraform-state" };
    const regions = { primary: backend.region, replica: backend.replicaRegion } as const;
    const state = {} as Record<
      keyof typeof regions,
      { provider: AwsProvider; key: RegionalKey; accountId: string }
    >;
    for (const [role, region] of Object.entries(regions) as [keyof typeof regions, string][]) {
      const provider = new AwsProvider(this, `aws-${role}`, {
        alias: role,
        region,
        defaultTags: [{ tags }],
      });
      const accountId = new DataAwsCallerIdentity(this, `account-${role}`, { provider }).accountId;
      const key = new RegionalKey(this, `key-${role}`, {
        provider,
        region,
        accountId,
        aliasName: `${props.project}-tfstate-${role}`,
      });
      state[role] = { provider, key, accountId };
    }

    const backendResources = new StateManagement(this, "state", {
      namePrefix: `${props.project}-tfstate`,
      lockTableName: backend.lockTable,
      accountId: state.primary.accountId,
      primary: {
        provider: state.primary.provider,
        region: backend.region,
        kmsKeyArn: state.primary.key.keyArn,
        bucketName: backend.bucket,
      },
      replica: {
        provider: state.replica.provider,
        region: backend.replicaRegion,
        kmsKeyArn: state.replica.key.keyArn,
        bucketName: backend.replicaBucket,
      },
    });

    new TerraformOutput(this, "state_bucket", { value: backendResources.bucket.bucketName });
    new TerraformOutput(this, "replica_state_bucket", {
      value: backendResources.replicaBucket.bucketName,
    });
    new TerraformOutput(this, "lock_table", { value: backendResources.lockTable.name });
  }
}
