import { resolve } from "node:path";
import { App } from "cdktf";
import {
  ENVIRONMENT_SELECTION_VARIABLE,
  parseEnvironmentSelection,
} from "../src/config/environment-files";
import { loadEnvironmentSet } from "../src/config/load";
import type { EnvConfig } from "../src/config/schema";
import { UserInputError } from "../src/errors";
import { StateBackendStack } from "./state-backend-stack";

const ROOT = resolve(__dirname, "..");

/**
 * Bootstrap app: creates the S3 state bucket (+ replica) and DynamoDB lock table named in the
 * environment files, one stack per distinct state bucket. Run once per account, before the first
 * `cdktf deploy` of an environment.
 */
function main(): void {
  const { backends, warnings } = backendsToBootstrap(process.env);
  for (const warning of warnings) console.error(warning);
  const app = new App();
  for (const { backend, project } of backends) {
    new StateBackendStack(app, { backend, project });
  }
  app.synth();
}

/**
 * The state backends of the environments the app's variables pick, as main.ts picks them:
 * `SHOPSMART_ENVS_DIR` (default `envs`, relative to the repository) and `SHOPSMART_ENVS`, so
 * `SHOPSMART_ENVS=prod npm run bootstrap -- deploy ...` needs only prod.json to be valid and
 * another broken file is a warning.
 */
export function backendsToBootstrap(
  environment: NodeJS.ProcessEnv,
  root: string = ROOT,
): { backends: ReturnType<typeof distinctBackends>; warnings: string[] } {
  const envsDir = resolve(root, environment.SHOPSMART_ENVS_DIR ?? "envs");
  const selected = parseEnvironmentSelection(environment[ENVIRONMENT_SELECTION_VARIABLE]);
  const { configs, warnings } = loadEnvironmentSet(envsDir, {
    displayRoot: root,
    ...(selected ? { selected } : {}),
  });
  return { backends: distinctBackends(configs), warnings };
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
