import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { OperationsApiError, type StatusResponse } from "../../functions/shared/operations-api";
import { createOperationsApiClient } from "../../functions/shared/operations-api-client";
import type { RegionRole } from "../../functions/shared/region-roles";
import { UserInputError } from "../errors";
import { loadEnvironment } from "./environment-selection";
import {
  countStateResources,
  resolveOperationsEndpoint,
  StackNotDeployedError,
} from "./operations-api-endpoint";

/**
 * `npm run deploy-guard -- --env <env>`: refuses a deploy that would fight the live topology.
 *
 * `activeRegion` in the env file decides where Terraform puts the PRIMARY DNS record, the active
 * capacity and the backup plan. After a failover the database writes in the secondary region; a
 * deploy with `activeRegion: primary` would then point traffic and capacity back at the region
 * that failed. deploy.yml runs this after `cdktf diff` (which initializes the stack directory, so
 * the API URL comes from the stack's outputs) and before `cdktf deploy`.
 *
 * It fails closed. Exit codes: 0 go (the topology matches, or this is a first deploy: the stack's
 * state holds no resources, so there is nothing to compare); 1 stop (the writer is elsewhere; an
 * operation is running; or the guard could not check: the outputs or the state could not be
 * read, the state holds resources but no `status_api_url` output, GET /status failed or was
 * refused, or the writer region is unknown); 2 usage error.
 *
 * `--allow-unchecked` turns "could not check" into a warning and lets the deploy go, for an
 * operator who knows the topology (e.g. the secondary region, where the API runs, is itself in
 * trouble). It never overrides a known mismatch, a running operation, or a refused call (403:
 * the deploy role lacks execute-api:Invoke on GET /status, so the guard would never check
 * anything). In deploy.yml it is the `allow-unchecked-deploy` input of a manual run.
 */

const USAGE =
  "usage: npm run deploy-guard -- --env <name|file.json> [--api-url <url>] [--allow-unchecked]\n" +
  "  --env takes a name (envs/<name>.json, or in SHOPSMART_ENVS_DIR) or the path of an env file\n" +
  "  --allow-unchecked  go on (with a warning) when the topology cannot be checked";

/** The flag that lets a deploy go when the guard cannot check the topology. */
export const ALLOW_UNCHECKED_FLAG = "--allow-unchecked";

/**
 * `unchecked`: the guard could not tell whether the deploy fights the topology; a stop that
 * `--allow-unchecked` turns into a warning.
 */
export type GuardVerdict =
  | { go: true; message: string }
  | { go: false; unchecked?: true; message: string };

/** The decision, from the env file's activeRegion and what GET /status answered. */
export function deployGuardVerdict(
  file: string,
  activeRegion: RegionRole,
  status: StatusResponse,
): GuardVerdict {
  const running = status.latestOperation?.status === "running" ? status.latestOperation : null;
  if (running) {
    return {
      go: false,
      message:
        `${running.kind} ${running.operationId} is running in ${status.environment}: deploy ` +
        "after it ended and activeRegion is set to where the database writes " +
        `(npm run status -- --env ${status.environment})`,
    };
  }
  const writer = status.database.writerRegion;
  if (writer === "unknown") {
    return {
      go: false,
      unchecked: true,
      message:
        `the database writer region of ${status.environment} is unknown ` +
        `(${status.unreachable.map((region) => region.region).join(", ") || "no reading"}), so ` +
        `a deploy with activeRegion ${activeRegion} cannot be checked`,
    };
  }
  if (writer !== activeRegion) {
    const other = status.regions[activeRegion];
    return {
      go: false,
      message:
        `the database writes in ${writer} (${status.regions[writer]}), but ${file} says ` +
        `activeRegion "${activeRegion}": this deploy would move the PRIMARY DNS record, the ` +
        `active capacity and the backup plan to ${other}. After a failover set ` +
        `"activeRegion": "${writer}" in ${file}; to go back, fail back first ` +
        `(npm run failback -- --env ${status.environment} --reason "..." --watch)`,
    };
  }
  return {
    go: true,
    message: `topology matches: the database writes in ${writer} (${status.regions[writer]}), as activeRegion says`,
  };
}

export interface DeployGuardDependencies {
  root?: string;
  environment?: NodeJS.ProcessEnv;
  readOutputs?: (env: string) => Promise<Record<string, string>>;
  /** Counts the resources in the stack's state. @default `terraform state pull` (countStateResources) */
  countStateResources?: (env: string) => Promise<number>;
}

export async function runDeployGuardCli(
  argv: readonly string[],
  io: { out(line: string): void; err(line: string): void },
  dependencies: DeployGuardDependencies = {},
): Promise<number> {
  let values: { env?: string; "api-url"?: string; timeout?: string; "allow-unchecked"?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        env: { type: "string" },
        "api-url": { type: "string" },
        timeout: { type: "string" },
        "allow-unchecked": { type: "boolean" },
      },
      strict: true,
    }));
  } catch (error) {
    io.err(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!values.env) {
    io.err(`--env is required\n${USAGE}`);
    return 2;
  }
  const allowUnchecked = values["allow-unchecked"] === true;
  /** The guard could not check: stop, unless the operator said to go on anyway. */
  const unchecked = (why: string): number => {
    if (allowUnchecked) {
      io.out(`deploy guard: warning: ${why}; deploying unchecked (${ALLOW_UNCHECKED_FLAG})`);
      return 0;
    }
    io.err(
      `deploy guard: ${why}. Stopped, because an unchecked deploy could move traffic back to ` +
        `a region the database left. Fix the lookup, or if you know the topology matches ` +
        `activeRegion, run again with ${ALLOW_UNCHECKED_FLAG} (deploy.yml: run it by hand with ` +
        "allow-unchecked-deploy)",
    );
    return 1;
  };
  const root = dependencies.root ?? resolve(__dirname, "../..");
  let file: string;
  let activeRegion: RegionRole;
  try {
    const selected = loadEnvironment(values.env, {
      root,
      ...(dependencies.environment ? { environment: dependencies.environment } : {}),
    });
    file = selected.selection.displayFile;
    activeRegion = selected.config.activeRegion;
  } catch (error) {
    if (error instanceof UserInputError) {
      io.err(error.message);
      return 2;
    }
    throw error;
  }

  let apiBaseUrl: string;
  try {
    ({ apiBaseUrl } = await resolveOperationsEndpoint({
      env: values.env,
      ...(values["api-url"] ? { apiUrl: values["api-url"] } : {}),
      root,
      ...(dependencies.environment ? { environment: dependencies.environment } : {}),
      ...(dependencies.readOutputs ? { readOutputs: dependencies.readOutputs } : {}),
    }));
  } catch (error) {
    if (error instanceof StackNotDeployedError) {
      // Read from the replica, no outputs means a replica that is empty or not the stack's, not a
      // first deploy: first deploys go to the primary state location.
      if ((dependencies.environment ?? process.env).SHOPSMART_STATE_LOCATION === "replica") {
        return unchecked(
          `the replica state has no status_api_url output (SHOPSMART_STATE_LOCATION=replica): ` +
            "an empty or wrong replica, not a first deploy",
        );
      }
      // No output is a first deploy only if nothing was built: a state that holds resources
      // (an apply cut off before the API, an output removed by hand) may hold a database that
      // failed over, and the guard cannot ask where it writes.
      const countResources =
        dependencies.countStateResources ??
        ((env: string) =>
          countStateResources({
            env,
            root,
            ...(dependencies.environment ? { environment: dependencies.environment } : {}),
          }));
      let resources: number;
      try {
        resources = await countResources(values.env);
      } catch (stateError) {
        if (!(stateError instanceof UserInputError)) throw stateError;
        return unchecked(
          "the stack has no status_api_url output, and its state could not be read to tell " +
            `whether this is a first deploy (${stateError.message})`,
        );
      }
      if (resources > 0) {
        return unchecked(
          `the stack's state holds ${resources} resource${resources === 1 ? "" : "s"} but no ` +
            "status_api_url output: a deploy that stopped before the operations API, or an " +
            "output removed, not a first deploy",
        );
      }
      // A first deploy has no API yet, hence nothing that could disagree with activeRegion.
      io.out(`deploy guard: first deploy, nothing to compare (${error.message})`);
      return 0;
    }
    if (!(error instanceof UserInputError)) throw error;
    return unchecked(`cannot find the operations API to ask (${error.message})`);
  }

  const timeoutSeconds = Number(values.timeout ?? 30);
  const api = createOperationsApiClient({
    apiBaseUrl,
    requestTimeoutMs:
      (Number.isFinite(timeoutSeconds) && timeoutSeconds > 0 ? timeoutSeconds : 30) * 1000,
  });
  let status: StatusResponse;
  try {
    status = await api.status();
  } catch (error) {
    if (!(error instanceof OperationsApiError)) throw error;
    if (error.kind === "forbidden" || error.kind === "credentials") {
      // Not overridable: the role would never be able to check anything.
      io.err(`deploy guard: ${error.message}`);
      return 1;
    }
    // The API lives in the secondary region; if that region is in trouble the deploy may be
    // exactly what is needed, but only an operator can say so.
    return unchecked(`GET /status failed (${error.message})`);
  }
  const verdict = deployGuardVerdict(file, activeRegion, status);
  if (!verdict.go && verdict.unchecked) return unchecked(verdict.message);
  (verdict.go ? io.out : io.err)(`deploy guard: ${verdict.message}`);
  return verdict.go ? 0 : 1;
}

if (require.main === module) {
  runDeployGuardCli(process.argv.slice(2), {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
