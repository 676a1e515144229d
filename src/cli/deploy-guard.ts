import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { RegionRole } from "../../functions/shared/operation";
import { OperationsApiError, type StatusResponse } from "../../functions/shared/operations-api";
import { createOperationsApiClient } from "../../functions/shared/operations-api-client";
import { UserInputError } from "../errors";
import { loadEnvironment } from "./environment-selection";
import { resolveOperationsEndpoint } from "./operations-api-endpoint";

/**
 * `npm run deploy-guard -- --env <env>`: refuses a deploy that would fight the live topology.
 *
 * `activeRegion` in the env file decides where Terraform puts the PRIMARY DNS record, the active
 * capacity and the backup plan. After a failover the database writes in the secondary region; a
 * deploy with `activeRegion: primary` would then point traffic and capacity back at the region
 * that failed. deploy.yml runs this after `cdktf diff` (which initializes the stack directory, so
 * the API URL comes from the stack's outputs) and before `cdktf deploy`.
 *
 * Exit codes: 0 go (topology matches; or nothing to compare: not deployed yet, or the API did not
 * answer, which is warned about); 1 stop (the writer is elsewhere, or an operation is running, or
 * the API refused the call: 403 means the deploy role lacks execute-api:Invoke on GET /status and
 * the guard would otherwise never check anything); 2 usage error.
 */

const USAGE =
  "usage: npm run deploy-guard -- --env <name|file.json> [--api-url <url>]\n" +
  "  --env takes a name (envs/<name>.json, or in SHOPSMART_ENVS_DIR) or the path of an env file";

export type GuardVerdict = { go: true; message: string } | { go: false; message: string };

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
      go: true,
      message:
        `warning: the database writer region of ${status.environment} is unknown ` +
        `(${status.unreachable.map((region) => region.region).join(", ") || "no reading"}); ` +
        `deploying with activeRegion ${activeRegion}`,
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
}

export async function runDeployGuardCli(
  argv: readonly string[],
  io: { out(line: string): void; err(line: string): void },
  dependencies: DeployGuardDependencies = {},
): Promise<number> {
  let values: { env?: string; "api-url"?: string; timeout?: string };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        env: { type: "string" },
        "api-url": { type: "string" },
        timeout: { type: "string" },
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
    if (!(error instanceof UserInputError)) throw error;
    // A first deploy has no API yet, hence nothing that could disagree with activeRegion.
    io.out(
      `deploy guard: no deployed operations API to ask (${error.message}); nothing to compare`,
    );
    return 0;
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
      io.err(`deploy guard: ${error.message}`);
      return 1;
    }
    // The API lives in the secondary region; if that region is in trouble the deploy may be
    // exactly what is needed, so an unanswered question does not block it.
    io.out(`deploy guard: warning: GET /status failed (${error.message}); deploying unchecked`);
    return 0;
  }
  const verdict = deployGuardVerdict(file, activeRegion, status);
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
