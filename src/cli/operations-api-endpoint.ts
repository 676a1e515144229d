import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { invalidSetting, UserInputError } from "../errors";
import { MINIMUM_TERRAFORM_VERSION, TERRAFORM_VERSION } from "../terraform-version";
import { loadEnvironment } from "./environment-selection";
import { findExecutable, initializedBackend } from "./terraform";

/**
 * Where the operations API of an environment is, for the CLIs that call it (status, failover,
 * failback, drill). In order: `--api-url`, SHOPSMART_DR_API_URL, then the deployed stack's
 * Terraform outputs (`status_api_url` minus `/status`, `app_url`), read with
 * `terraform -chdir=cdktf.out/stacks/<project>-<env> output -json` from the stack's state.
 * The flag and the variable need no Terraform and no state access: that is what to use in an
 * outage of the primary region, when the state bucket there may not answer.
 */

export const API_URL_VARIABLE = "SHOPSMART_DR_API_URL";
export const APP_URL_VARIABLE = "SHOPSMART_DR_APP_URL";

export interface OperationsEndpoint {
  /** `https://<api-id>.execute-api.<region>.amazonaws.com`, without a trailing slash. */
  apiBaseUrl: string;
  /** The app's public URL (`app_url`), when known. */
  appUrl?: string;
  /** The app's health path from the env file (`dns.healthCheck.path`). */
  healthPath?: string;
  /** Where `apiBaseUrl` came from, for messages: `--api-url`, the variable, or the stack dir. */
  source: string;
}

export interface ResolveEndpointOptions {
  /** `--env`: an environment name or the path of an env file (see environment-selection.ts). */
  env: string;
  /** `--api-url`. */
  apiUrl?: string;
  /** `--app-url`. */
  appUrl?: string;
  /** The project root (envs/, cdktf.out/). @default the repository root */
  root?: string;
  /** The process environment. @default process.env */
  environment?: NodeJS.ProcessEnv;
  /** Reads the stack's outputs. @default `terraform output -json` in the stack directory */
  readOutputs?: (env: string) => Promise<Record<string, string>>;
}

/**
 * The stack's state has no `status_api_url` output: it was never deployed (or not this far). The
 * one lookup failure the deploy guard reads as "first deploy, nothing to compare".
 */
export class StackNotDeployedError extends UserInputError {
  override name = "StackNotDeployedError";
}

const ROOT = resolve(__dirname, "../..");
const ROUTE_SUFFIX = /\/(status|failover|failback)$/;
const EXAMPLE_URL = "https://<api-id>.execute-api.<region>.amazonaws.com";
const PASS_THE_URL = `or pass --api-url ${EXAMPLE_URL} (or set ${API_URL_VARIABLE})`;

export async function resolveOperationsEndpoint(
  options: ResolveEndpointOptions,
): Promise<OperationsEndpoint> {
  const root = options.root ?? ROOT;
  const environment = options.environment ?? process.env;
  const selected = loadEnvironment(options.env, { root, environment });
  const healthPath = selected.config.dns.healthCheck.path;
  const appUrl = nonEmpty(options.appUrl) ?? nonEmpty(environment[APP_URL_VARIABLE]) ?? undefined;
  // Which of the two the app URL came from, for an error message about it.
  const appUrlName = nonEmpty(options.appUrl) !== undefined ? "--app-url" : APP_URL_VARIABLE;
  const appUrlFrom = (name: string, value: string | undefined) =>
    value === undefined ? {} : { appUrl: checkedUrl(name, value, "the app's public URL") };

  const flag = nonEmpty(options.apiUrl);
  if (flag !== undefined) {
    return {
      apiBaseUrl: apiBaseUrlOf("--api-url", flag),
      ...appUrlFrom(appUrlName, appUrl),
      healthPath,
      source: "--api-url",
    };
  }
  const variable = nonEmpty(environment[API_URL_VARIABLE]);
  if (variable !== undefined) {
    return {
      apiBaseUrl: apiBaseUrlOf(API_URL_VARIABLE, variable),
      ...appUrlFrom(appUrlName, appUrl),
      healthPath,
      source: API_URL_VARIABLE,
    };
  }

  const stack = selected.stackName;
  const stackDir = stackDirectory(stack, root, environment);
  const readOutputs =
    options.readOutputs ?? ((env: string) => terraformOutputs(env, stackDir, root, environment));
  const outputs = await readOutputs(options.env);
  const statusUrl = nonEmpty(outputs.status_api_url);
  if (statusUrl === undefined) {
    throw new StackNotDeployedError(
      `The ${stack} stack has no status_api_url output (read from ${displayPath(stackDir, root)}): ` +
        `it is not deployed yet. Deploy it first (\`cdktf deploy ${stack}\`), ${PASS_THE_URL}.`,
    );
  }
  const outputAppUrl = appUrl ?? nonEmpty(outputs.app_url);
  return {
    apiBaseUrl: apiBaseUrlOf("the status_api_url output", statusUrl),
    ...appUrlFrom(appUrl === undefined ? "the app_url output" : appUrlName, outputAppUrl),
    healthPath,
    source: `terraform output in ${displayPath(stackDir, root)}`,
  };
}

/**
 * The API's base URL from what a user may paste: the endpoint, or one of the route URLs the stack
 * outputs (`.../status`, `.../failover`, `.../failback`), with or without a trailing slash.
 */
export function apiBaseUrlOf(name: string, value: string): string {
  const url = checkedUrl(name, value, `the operations API's URL, e.g. ${EXAMPLE_URL}`);
  return url.replace(/\/+$/, "").replace(ROUTE_SUFFIX, "");
}

function checkedUrl(name: string, value: string, expected: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidSetting(name, value, expected);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw invalidSetting(name, value, expected);
  }
  if (url.search !== "" || url.hash !== "") {
    throw invalidSetting(name, value, `${expected}, without a query or fragment`);
  }
  return url.href;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

function stackDirectory(stack: string, root: string, environment: NodeJS.ProcessEnv): string {
  const outdir = environment.CDKTF_OUTDIR
    ? resolve(environment.CDKTF_OUTDIR)
    : join(root, "cdktf.out");
  return join(outdir, "stacks", stack);
}

function displayPath(path: string, root: string): string {
  const rel = relative(root, path);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}

/** Every output of the stack as a string (non-string outputs are left out). */
export function parseTerraformOutputs(json: string): Record<string, string> {
  const parsed = JSON.parse(json) as Record<string, { value?: unknown }> | null;
  const outputs: Record<string, string> = {};
  for (const [name, output] of Object.entries(parsed ?? {})) {
    if (typeof output?.value === "string") outputs[name] = output.value;
  }
  return outputs;
}

/** `terraform output -json` in the stack directory, with a message that says what to do for each way it can fail. */
async function terraformOutputs(
  env: string,
  stackDir: string,
  root: string,
  environment: NodeJS.ProcessEnv,
): Promise<Record<string, string>> {
  const shown = displayPath(stackDir, root);
  const terraform = findExecutable("terraform", environment.PATH);
  if (terraform === undefined) {
    throw new UserInputError(
      `terraform is not installed (not found on PATH), so the operations API URL cannot be read ` +
        `from the ${env} stack's outputs. Install Terraform ${MINIMUM_TERRAFORM_VERSION} or newer (CI pins ` +
        `${TERRAFORM_VERSION}; https://developer.hashicorp.com/terraform/install), ${PASS_THE_URL}.`,
    );
  }
  if (!existsSync(join(stackDir, "cdk.tf.json"))) {
    throw new UserInputError(
      `${shown} does not exist, so the operations API URL cannot be read from the ${env} ` +
        `stack's outputs. Run \`npm run synth\` and \`npm run state -- ${env} init\`, ${PASS_THE_URL}.`,
    );
  }
  const dataDir = resolve(stackDir, environment.TF_DATA_DIR ?? ".terraform");
  const recorded = join(dataDir, "terraform.tfstate");
  if (
    initializedBackend(existsSync(recorded) ? readFileSync(recorded, "utf8") : undefined) ===
    undefined
  ) {
    throw new UserInputError(
      `${shown} is not initialized, so Terraform cannot read the ${env} stack's outputs. Run ` +
        `\`npm run state -- ${env} init\` once, ${PASS_THE_URL}.`,
    );
  }
  const { code, stdout, stderr } = await run(
    terraform,
    [`-chdir=${stackDir}`, "output", "-json", "-no-color"],
    environment,
  );
  if (code !== 0) {
    const tail = stderrTail(stderr);
    throw new UserInputError(
      `\`terraform output -json\` failed in ${shown} (exit ${code}):\n${tail}\n` +
        "Terraform reads the outputs from the state bucket: check the AWS credentials it uses; " +
        "if the primary region is down, switch to the replica state bucket with " +
        `\`SHOPSMART_STATE_LOCATION=replica npm run state -- ${env} init -reconfigure\`; ${PASS_THE_URL}.`,
    );
  }
  try {
    return parseTerraformOutputs(stdout);
  } catch {
    throw new UserInputError(
      `\`terraform output -json\` in ${shown} printed something that is not JSON ` +
        `(${stdout.slice(0, 200)}): check the terraform on PATH, ${PASS_THE_URL}.`,
    );
  }
}

/**
 * How many managed resources the state of an environment's stack holds: what tells a first
 * deploy (no state, or an empty one) from a deployed stack whose state lacks the
 * `status_api_url` output. `terraform state pull` prints the raw state, fetched from wherever
 * the backend keeps it (https://developer.hashicorp.com/terraform/cli/commands/state/pull), and
 * prints nothing while the backend holds no state, whichever backend it is ("we produce no output
 * if the statefile is nil", internal/command/state_pull.go in hashicorp/terraform). Run
 * after {@link resolveOperationsEndpoint} has read the outputs in the same stack directory, so
 * Terraform is on PATH and the directory is initialized.
 */
export async function countStateResources(options: {
  env: string;
  root?: string;
  environment?: NodeJS.ProcessEnv;
}): Promise<number> {
  const root = options.root ?? ROOT;
  const environment = options.environment ?? process.env;
  const { stackName } = loadEnvironment(options.env, { root, environment });
  const stackDir = stackDirectory(stackName, root, environment);
  const shown = displayPath(stackDir, root);
  const terraform = findExecutable("terraform", environment.PATH);
  if (terraform === undefined) {
    throw new UserInputError(
      `terraform is not installed (not found on PATH), so the ${options.env} stack's state cannot be read`,
    );
  }
  const { code, stdout, stderr } = await run(
    terraform,
    [`-chdir=${stackDir}`, "state", "pull"],
    environment,
  );
  if (code !== 0) {
    const tail = stderrTail(stderr);
    throw new UserInputError(
      `\`terraform state pull\` failed in ${shown} (exit ${code}):\n${tail}`,
    );
  }
  try {
    return parseStateResourceCount(stdout);
  } catch {
    throw new UserInputError(
      `\`terraform state pull\` in ${shown} printed something that is not a state ` +
        `(${stdout.slice(0, 200)}): check the terraform on PATH`,
    );
  }
}

/** Managed resources in a raw state (`terraform state pull`); no output at all is no state. */
export function parseStateResourceCount(raw: string): number {
  if (raw.trim() === "") return 0;
  const state = JSON.parse(raw) as { resources?: unknown };
  if (typeof state !== "object" || state === null || !Array.isArray(state.resources)) {
    throw new Error("not a Terraform state: no resources list");
  }
  // Data sources are read again on every plan; only managed resources mean something was built.
  return state.resources.filter((resource: { mode?: unknown }) => resource?.mode === "managed")
    .length;
}

/** The last lines of a failed terraform command's stderr: where it says what went wrong. */
function stderrTail(stderr: string): string {
  return stderr.trim().split("\n").slice(-8).join("\n");
}

function run(
  command: string,
  args: string[],
  environment: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    execFile(
      command,
      args,
      { env: { ...environment, TF_IN_AUTOMATION: "1" }, timeout: 120_000, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        const why = error !== null && typeof error.code !== "number" ? `${error.message}\n` : "";
        resolveRun({ code, stdout, stderr: `${why}${stderr}` });
      },
    );
  });
}
