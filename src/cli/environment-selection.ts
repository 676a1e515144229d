import { existsSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import {
  ENVIRONMENT_NAME_PATTERN,
  ENVIRONMENT_SELECTION_VARIABLE,
  knownEnvironments,
  listEnvironments,
  unknownEnvironmentMessage,
} from "../config/environment-files";
import { loadEnvConfig } from "../config/load";
import type { EnvConfig } from "../config/schema";
import { UserInputError } from "../errors";

/**
 * Which environment a CLI works on, the same way for every one of them (drill, budget,
 * deploy-guard, state, validate, status/failover/failback) and for synth.
 *
 * `--env <name>` is `<envs dir>/<name>.json`, where the envs dir is `$SHOPSMART_ENVS_DIR`
 * (resolved against the working directory) when set, else `<root>/envs`. `--env` also takes the
 * path of an env file: anything ending in `.json` or containing a `/`, resolved against the
 * working directory. Either way the environment's name is the file's name without `.json` (which
 * the env file's `environment` must equal), and its stack is `<project>-<name>`.
 */

const ROOT = resolve(__dirname, "../..");

export interface EnvironmentSelectionOptions {
  /** The project root: `<root>/envs` holds the environments, and messages show paths relative to it. @default the repository root */
  readonly root?: string;
  /** The process environment, for `SHOPSMART_ENVS_DIR`. @default process.env */
  readonly environment?: NodeJS.ProcessEnv;
  /** A directory given on the command line (`--envs-dir`); wins over `SHOPSMART_ENVS_DIR`. @default - `SHOPSMART_ENVS_DIR`, else `<root>/envs` */
  readonly envsDir?: string;
}

export { listEnvironments, unknownEnvironmentMessage };

export interface EnvironmentSelection {
  /** The environment's name: the env file's name without `.json`. */
  readonly name: string;
  /** The env file, absolute. */
  readonly file: string;
  /** The env file as messages show it: relative to the project root when inside it. */
  readonly displayFile: string;
  /**
   * The directory to synthesize from (`SHOPSMART_ENVS_DIR` of synth): the envs dir for a name, the
   * file's own directory for a path (synth then reads every env file in it).
   */
  readonly envsDir: string;
}

export interface LoadedEnvironment {
  readonly selection: EnvironmentSelection;
  readonly config: EnvConfig;
  /** `<project>-<name>`: the stack's id and its directory under `cdktf.out/stacks/`. */
  readonly stackName: string;
}

/** `$SHOPSMART_ENVS_DIR` (resolved) when set, else `<root>/envs`. */
export function environmentsDirectory(
  root: string = ROOT,
  environment: NodeJS.ProcessEnv = process.env,
): string {
  const fromVariable = environment.SHOPSMART_ENVS_DIR;
  return fromVariable ? resolve(fromVariable) : join(root, "envs");
}

/** Whether `--env` names a file (ends in `.json` or contains a `/`) rather than an environment. */
export function isEnvironmentFile(value: string): boolean {
  return value.endsWith(".json") || value.includes("/");
}

/**
 * What is wrong with an `--env` value, or undefined when it is a name or an env file path. Says
 * what `--env` takes, for the flag parsers of the CLIs.
 */
export function environmentArgumentProblem(value: string): string | undefined {
  const valid = isEnvironmentFile(value)
    ? value.endsWith(".json")
    : ENVIRONMENT_NAME_PATTERN.test(value);
  if (valid) return undefined;
  return `--env takes an environment name, e.g. prod, or the path of an env file ending in .json; got "${value}"`;
}

export function missingEnvironmentFileMessage(
  file: string,
  available: readonly string[],
  envsDir: string,
): string {
  return (
    `There is no environment file ${file}: --env takes the path of an env file (<name>.json) or ` +
    `the name of one in ${envsDir}.\n${knownEnvironments(available, envsDir)}`
  );
}

/**
 * The env file `value` (an `--env` value) selects. Throws a {@link UserInputError} that lists the
 * known environments when there is no such environment or file; the file itself is not read.
 */
export function selectEnvironment(
  value: string,
  options: EnvironmentSelectionOptions = {},
): EnvironmentSelection {
  const root = options.root ?? ROOT;
  const envsDir = options.envsDir
    ? resolve(options.envsDir)
    : environmentsDirectory(root, options.environment);
  const available = listEnvironments(envsDir);
  if (isEnvironmentFile(value)) {
    const file = resolve(value);
    if (!value.endsWith(".json") || !isFile(file)) {
      throw new UserInputError(
        missingEnvironmentFileMessage(
          displayPath(file, root),
          available,
          displayPath(envsDir, root),
        ),
      );
    }
    return {
      name: basename(file, ".json"),
      file,
      displayFile: displayPath(file, root),
      envsDir: dirname(file),
    };
  }
  if (!available.includes(value)) {
    throw new UserInputError(
      unknownEnvironmentMessage(value, available, displayPath(envsDir, root)),
    );
  }
  const file = join(envsDir, `${value}.json`);
  return { name: value, file, displayFile: displayPath(file, root), envsDir };
}

/**
 * {@link selectEnvironment}, then reads and validates the env file. Throws a
 * {@link UserInputError} for an unknown environment or an invalid file.
 */
export function loadEnvironment(
  value: string,
  options: EnvironmentSelectionOptions = {},
): LoadedEnvironment {
  const selection = selectEnvironment(value, options);
  const config = loadEnvConfig(selection.file, options.root ?? ROOT);
  return { selection, config, stackName: `${config.project}-${selection.name}` };
}

/**
 * The variables that make synth build this environment only (`SHOPSMART_ENVS_DIR` and
 * `SHOPSMART_ENVS`), so a command for one environment needs only its own file to be valid: a
 * broken other env file is a warning, not a reason to leave prod unreachable.
 */
export function synthVariablesFor(selection: EnvironmentSelection): Record<string, string> {
  return {
    SHOPSMART_ENVS_DIR: selection.envsDir,
    [ENVIRONMENT_SELECTION_VARIABLE]: selection.name,
  };
}

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

/** Relative to the project root when inside it, else absolute. */
function displayPath(path: string, root: string): string {
  const rel = relative(root, path);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}
