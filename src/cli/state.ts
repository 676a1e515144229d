import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { isAbsolute, join, relative, resolve } from "node:path";
import { invalidSetting, UserInputError } from "../errors";
import type { StateLocation } from "../stacks/environment-stack";
import { TERRAFORM_VERSION } from "../terraform-version";
import {
  type LoadedEnvironment,
  loadEnvironment,
  synthVariablesFor,
} from "./environment-selection";
import {
  type BackendIdentity,
  findExecutable,
  IDENTITY_FIELDS,
  initializedBackend,
  synthesizedBackend,
  terraformNotInstalledMessage,
} from "./terraform";

/**
 * `npm run state -- <env> <terraform args...>`: plain Terraform on an environment's synthesized
 * stack directory, for `state list`, `output`, `state show` and the like.
 *
 * It validates the env file (`<env>` is a name, looked up in `$SHOPSMART_ENVS_DIR` or `envs/`, or
 * the path of an env file: see environment-selection.ts), synthesizes (always: about 1.5 s, and the directory then matches
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
export {
  type BackendIdentity,
  findExecutable,
  initializedBackend,
  synthesizedBackend,
  terraformNotInstalledMessage,
} from "./terraform";
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

/** Arguments for the terraform binary: `-chdir` first (a global option), then the user's. */
export function terraformArguments(stackDir: string, args: readonly string[]): string[] {
  return [`-chdir=${stackDir}`, ...args];
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

/**
 * Runs the app (main.ts) as `npm run synth` does. Its output matters when it fails; on success
 * its stderr holds only warnings (e.g. another env file is broken), which `warnings` passes on.
 */
function synthesize(env: NodeJS.ProcessEnv): { ok: boolean; output: string; warnings: string } {
  const launcher = join(ROOT, "src", "app-bundle", "run.cjs");
  const result = spawnSync(process.execPath, [launcher], {
    cwd: ROOT,
    env: { ...env, CHECKPOINT_DISABLE: "1" },
    encoding: "utf8",
  });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}${result.error?.message ?? ""}`;
  return { ok: result.status === 0, output, warnings: (result.stderr ?? "").trimEnd() };
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
    ...synthVariablesFor(selected.selection),
    CDKTF_OUTDIR: outdir,
  });
  if (!synth.ok) {
    console.error(`${synth.output.trimEnd()}\nSynth failed; terraform was not run.`);
    return 1;
  }
  if (synth.warnings !== "") console.error(synth.warnings);
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
