import { resolve } from "node:path";
import { App } from "cdktf";
import { loadEnvConfigs } from "../src/config/load";
import type { EnvConfig } from "../src/config/schema";
import { UserInputError } from "../src/errors";
import { StateBackendStack } from "./state-backend-stack";

/**
 * Bootstrap app: creates the S3 state bucket (+ replica) and DynamoDB lock table named in the
 * environment files, one stack per distinct state bucket. Run once per account, before the first
 * `cdktf deploy` of an environment.
 */
function main(): void {
  const envsDir = resolve(__dirname, "..", process.env.SHOPSMART_ENVS_DIR ?? "envs");
  const configs = loadEnvConfigs(envsDir, resolve(__dirname, ".."));
  const app = new App();
  for (const { backend, project } of distinctBackends(configs)) {
    new StateBackendStack(app, { backend, project });
  }
  app.synth();
}

/**
 * Environments may share a state bucket (each has its own key). Environments naming the same
 * bucket must agree on every other backend setting, or one of them would point at a table or
 * region that bootstrap never created.
 */
export function distinctBackends(configs: readonly EnvConfig[]) {
  const byBucket = new Map<
    string,
    { backend: EnvConfig["stateBackend"]; project: string; env: string }
  >();
  for (const config of configs) {
    const seen = byBucket.get(config.stateBackend.bucket);
    if (!seen) {
      byBucket.set(config.stateBackend.bucket, {
        backend: config.stateBackend,
        project: config.project,
        env: config.environment,
      });
      continue;
    }
    if (JSON.stringify(seen.backend) !== JSON.stringify(config.stateBackend)) {
      throw new UserInputError(
        `envs/${config.environment}.json: stateBackend differs from envs/${seen.env}.json although both use bucket "${seen.backend.bucket}"; ` +
          "give every environment that shares a bucket the same region, lockTable, replicaBucket and replicaRegion",
      );
    }
  }
  return [...byBucket.values()];
}

if (require.main === module) {
  try {
    main();
  } catch (error) {
    console.error(error instanceof UserInputError ? error.message : error);
    process.exitCode = 1;
  }
}
