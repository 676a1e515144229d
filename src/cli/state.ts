import { spawn, spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, readFileSync, statSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { delimiter, isAbsolute, join, relative, resolve } from "node:path";
import { invalidSetting, UserInputError } from "../errors";
import type { StateLocation } from "../stacks/environment-stack";
import { MINIMUM_TERRAFORM_VERSION, TERRAFORM_VERSION } from "../terraform-version";
import { type LoadedEnvironment, loadEnvironment } from "./environment-selection";

/**
 * `npm run state -- <env> <terraform args...>`: plain Terraform on an environment's synthesized
 * stack directory, for `state list`, `output`, `state show` and the like.
 *
 * It validates the env file (`<env>` is a name, looked up in `$SHOPSMART_ENVS_DIR` or `envs/`, or
 * the path of an env file: see environment-selection.ts), synthesizes (always: about 2 s, and the directory then matches
 * the checked-out code, the env file and SHOPSMART_STATE_LOCATION, which a timestamp check would
 * miss), checks that the directory was initialized against the backend it now has, and runs
 * `terraform -chdir=<stack dir> <args>` with the terminal attached, exiting with Terraform's code.
 * Its own messages go to stderr, so `npm run -s state -- prod output -json` prints clean JSON.
 *
 * Exit codes: Terraform's own; 2 for a usage error, an unknown environment or an invalid env file;
 * 1 when synth fails or the directory needs `init`; 127 when terraform is not installed.
 */

const ROOT = resolve(__dirname, "../..");

export { listEnvironments, unknownEnvironmentMessage } from "./environment-selection";
export { TERRAFORM_VERSION };

export const USAGE = [
  "usage: npm run state -- <env> <terraform args...>",
  "  npm run state -- prod init          once per stack directory (init -reconfigure after",
  "                                      switching SHOPSMART_STATE_LOCATION)",
  "  npm run state -- prod state list",
  "  npm run state -- prod output",
  "<env> is a name (envs/<env>.json, or in $SHOPSMART_ENVS_DIR) or the path of an env file.",
  "Synthesizes, then runs terraform -chdir=cdktf.out/stacks/<project>-<env> <args>.",
].join("\n");

export type StateArgs =
  | { readonly kind: "run"; readonly env: string; readonly terraformArgs: readonly string[] }
  | { readonly kind: "help" }
  | { readonly kind: "error"; readonly message: string };

/** Splits `<env> <terraform args...>`; everything after the environment goes to Terraform. */
export function parseStateArgs(argv: readonly string[]): StateArgs {
  const [env, ...terraformArgs] = argv;
  if (env === undefined) return { kind: "error", message: "missing the environment name" };
  if (env === "-h" || env === "--help" || env === "help") return { kind: "help" };
  if (env.startsWith("-")) {
    return {
      kind: "error",
      message: `the first argument is the environment name (e.g. prod); got "${env}"`,
    };
  }
  if (terraformArgs.length === 0) {
    return { kind: "error", message: `missing the terraform command to run in ${env}` };
  }
  const chdir = terraformArgs.find((arg) => /^--?chdir(=|$)/.test(arg));
  if (chdir !== undefined) {
    return {
      kind: "error",
      message: `"${chdir}": npm run state sets -chdir to the stack directory itself; remove it`,
    };
  }
  return { kind: "run", env, terraformArgs };
}

/** The first executable file called `name` in the directories of `pathValue` (a PATH string). */
export function findExecutable(name: string, pathValue: string | undefined): string | undefined {
  const names = process.platform === "win32" ? [`${name}.exe`, name] : [name];
  for (const dir of (pathValue ?? "").split(delimiter)) {
    if (dir === "") continue; // an empty entry would mean the current directory; never search it
    for (const candidate of names) {
      const path = join(dir, candidate);
      try {
        accessSync(path, constants.X_OK);
        if (statSync(path).isFile()) return path;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

export function terraformNotInstalledMessage(stackDir: string): string {
  const v = TERRAFORM_VERSION;
  return [
    `terraform is not installed (not found on PATH), so npm run state cannot run it in ${stackDir}.`,
    `Install Terraform ${MINIMUM_TERRAFORM_VERSION} or newer (CI pins ${v}), then run the command again:`,
    "  Debian/Ubuntu, from HashiCorp's apt repository:",
    "    wget -O- https://apt.releases.hashicorp.com/gpg | sudo gpg --dearmor -o /usr/share/keyrings/hashicorp-archive-keyring.gpg",
    '    echo "deb [signed-by=/usr/share/keyrings/hashicorp-archive-keyring.gpg] https://apt.releases.hashicorp.com $(lsb_release -cs) main" | sudo tee /etc/apt/sources.list.d/hashicorp.list',
    `    sudo apt-get update && sudo apt-get install terraform=${v}-1`,
    "  any OS, with tfenv (https://github.com/tfutils/tfenv):",
    `    tfenv install ${v} && tfenv use ${v}`,
    "  or unzip a binary from https://developer.hashicorp.com/terraform/install onto your PATH.",
  ].join("\n");
}

/** Arguments for the terraform binary: `-chdir` first (a global option), then the user's. */
export function terraformArguments(stackDir: string, args: readonly string[]): string[] {
  return [`-chdir=${stackDir}`, ...args];
}

/**
 * The S3 backend settings that decide which copy of the state Terraform reads. Locking settings
 * (`use_lockfile`, `dynamodb_table`) are not among them: the lock table has the same name in both
 * regions, and after a change of `stateBackend.locking` Terraform's own "Backend configuration
 * changed" error asks for `init -reconfigure`.
 */
export interface BackendIdentity {
  readonly bucket: string;
  readonly key: string;
  readonly region: string;
}

const IDENTITY_FIELDS = ["bucket", "key", "region"] as const;

function identityOf(config: unknown): BackendIdentity | undefined {
  if (typeof config !== "object" || config === null) return undefined;
  const fields = config as Record<string, unknown>;
  if (typeof fields.bucket !== "string" || typeof fields.region !== "string") return undefined;
  return {
    bucket: fields.bucket,
    key: String(fields.key ?? ""),
    region: fields.region,
  };
}

/** The backend in a synthesized `cdk.tf.json`. */
export function synthesizedBackend(tfJson: unknown): BackendIdentity | undefined {
  const terraform = (tfJson as { terraform?: { backend?: { s3?: unknown } } } | null)?.terraform;
  return identityOf(terraform?.backend?.s3);
}

/**
 * The backend `terraform init` recorded in `<data dir>/terraform.tfstate` (not a state file: the
 * working directory's backend settings), or undefined when the directory was never initialized.
 */
export function initializedBackend(fileContent: string | undefined): BackendIdentity | undefined {
  if (fileContent === undefined) return undefined;
  try {
    const parsed = JSON.parse(fileContent) as { backend?: { type?: string; config?: unknown } };
    return parsed.backend?.type === "s3" ? identityOf(parsed.backend.config) : undefined;
  } catch {
    return undefined;
  }
}

/** Terraform commands that work without an initialized backend (or are `init` itself). */
const NO_BACKEND_COMMANDS = new Set([
  "init",
  "version",
  "fmt",
  "help",
  "-help",
  "--help",
  "-h",
  "-version",
  "--version",
  "-v",
]);

export interface BackendCheck {
  readonly env: string;
  readonly stackDir: string;
  readonly location: StateLocation;
  readonly terraformArgs: readonly string[];
  readonly initialized: BackendIdentity | undefined;
  readonly synthesized: BackendIdentity | undefined;
}

/**
 * Why Terraform should not run yet, or undefined when it can. A directory initialized against the
 * other copy of the state (SHOPSMART_STATE_LOCATION changed since `init`) needs
 * `init -reconfigure`; Terraform's own error would also offer `-migrate-state`, which copies state
 * between the buckets and is never what is wanted here.
 */
export function backendProblem(check: BackendCheck): string | undefined {
  const command = check.terraformArgs[0] ?? "";
  if (NO_BACKEND_COMMANDS.has(command) || check.synthesized === undefined) return undefined;
  const prefix = check.location === "replica" ? "SHOPSMART_STATE_LOCATION=replica " : "";
  if (check.initialized === undefined) {
    return [
      `${check.stackDir} is not initialized yet. Run once:`,
      `  ${prefix}npm run state -- ${check.env} init`,
      "then run your command again.",
    ].join("\n");
  }
  const initialized = check.initialized;
  const synthesized = check.synthesized;
  if (IDENTITY_FIELDS.every((field) => initialized[field] === synthesized[field])) return undefined;
  const describe = (b: BackendIdentity) => `s3://${b.bucket}/${b.key} (${b.region})`;
  const which =
    check.location === "replica"
      ? "the replica state bucket (SHOPSMART_STATE_LOCATION=replica)"
      : "the primary state bucket (SHOPSMART_STATE_LOCATION unset)";
  return [
    `${check.stackDir} was initialized with the state in ${describe(initialized)},`,
    `but its backend is now ${which}: ${describe(synthesized)}.`,
    "Re-initialize against it, then run your command again:",
    `  ${prefix}npm run state -- ${check.env} init -reconfigure`,
    "(-reconfigure only switches to the other copy of the same state; do not use -migrate-state,",
    "which copies state from one bucket over the other.)",
  ].join("\n");
}

function parseStateLocation(value: string | undefined): StateLocation {
  if (value === undefined || value === "" || value === "primary") return "primary";
  if (value === "replica") return "replica";
  throw invalidSetting(
    "SHOPSMART_STATE_LOCATION",
    value,
    '"primary" or "replica" (unset means primary)',
  );
}

/** How a path is shown and passed to Terraform: relative to the project when inside it. */
function displayPath(path: string): string {
  const rel = relative(ROOT, path);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}

function readIfExists(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, "utf8") : undefined;
}

/** Runs the app (main.ts) as `npm run synth` does; output only matters when it fails. */
function synthesize(env: NodeJS.ProcessEnv): { ok: boolean; output: string } {
  const result = spawnSync(process.execPath, [require.resolve("tsx/cli"), join(ROOT, "main.ts")], {
    cwd: ROOT,
    env: { ...env, CHECKPOINT_DISABLE: "1" },
    encoding: "utf8",
  });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}${result.error?.message ?? ""}`;
  return { ok: result.status === 0, output };
}

/** Runs terraform with the terminal attached; resolves with its exit code (128 + n on signal n). */
function runTerraform(command: string, args: readonly string[]): Promise<number> {
  return new Promise((resolveExit) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: "inherit" });
    // Ctrl-C reaches terraform directly (same process group); it then stops cleanly and releases
    // the state lock. Wait for it instead of dying first. A SIGTERM sent to us is passed on.
    const ignore = () => {};
    const forward = () => child.kill("SIGTERM");
    process.on("SIGINT", ignore);
    process.on("SIGTERM", forward);
    const done = (code: number) => {
      process.off("SIGINT", ignore);
      process.off("SIGTERM", forward);
      resolveExit(code);
    };
    child.on("error", (error) => {
      console.error(`cannot run ${command}: ${error.message}`);
      done(126);
    });
    child.on("exit", (code, signal) => {
      done(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0));
    });
  });
}

/** The whole command; returns the process exit code. Messages go to stderr. */
export async function runStateCli(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const args = parseStateArgs(argv);
  if (args.kind === "help") {
    console.log(USAGE);
    return 0;
  }
  if (args.kind === "error") {
    console.error(`${args.message}\n${USAGE}`);
    return 2;
  }

  let location: StateLocation;
  try {
    location = parseStateLocation(env.SHOPSMART_STATE_LOCATION);
  } catch (error) {
    if (!(error instanceof UserInputError)) throw error;
    console.error(error.message);
    return 2;
  }

  let selected: LoadedEnvironment;
  try {
    selected = loadEnvironment(args.env, { root: ROOT, environment: env });
  } catch (error) {
    if (!(error instanceof UserInputError)) throw error;
    console.error(error.message);
    return 2;
  }
  const outdir = env.CDKTF_OUTDIR ? resolve(env.CDKTF_OUTDIR) : join(ROOT, "cdktf.out");
  const stackPath = join(outdir, "stacks", selected.stackName);
  const stackDir = displayPath(stackPath);

  const terraform = findExecutable("terraform", env.PATH);
  if (terraform === undefined) {
    console.error(terraformNotInstalledMessage(stackDir));
    return 127;
  }

  const synth = synthesize({
    ...env,
    SHOPSMART_ENVS_DIR: selected.selection.envsDir,
    CDKTF_OUTDIR: outdir,
  });
  if (!synth.ok) {
    console.error(`${synth.output.trimEnd()}\nSynth failed; terraform was not run.`);
    return 1;
  }
  const tfJson = readIfExists(join(stackPath, "cdk.tf.json"));
  if (tfJson === undefined) {
    console.error(`Synth wrote no ${stackDir}/cdk.tf.json; terraform was not run.`);
    return 1;
  }
  const dataDir = resolve(stackPath, env.TF_DATA_DIR ?? ".terraform");
  const problem = backendProblem({
    env: args.env,
    stackDir,
    location,
    terraformArgs: args.terraformArgs,
    initialized: initializedBackend(readIfExists(join(dataDir, "terraform.tfstate"))),
    synthesized: synthesizedBackend(JSON.parse(tfJson)),
  });
  if (problem !== undefined) {
    console.error(problem);
    return 1;
  }
  return runTerraform(terraform, terraformArguments(stackDir, args.terraformArgs));
}

if (require.main === module) {
  runStateCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
