import { join, resolve } from "node:path";
import { listEnvironments } from "../../src/config/environment-files";

/**
 * What tests expect of "the environments": whatever envs/ holds, never a list typed by hand, so
 * adding envs/<name>.json breaks no test (tests/cli/add-environment.test.ts proves it). Shared
 * by the CLI, workflow and drill tests.
 */

export const ROOT = resolve(__dirname, "../..");
export const SHIPPED_ENVS_DIR = join(ROOT, "envs");

/** The env files in envs/, by name, sorted as every CLI lists them. */
export const SHIPPED_ENVIRONMENTS: readonly string[] = listEnvironments(SHIPPED_ENVS_DIR);

/**
 * A name no one will give an environment, for the "unknown environment" tests (they used "qa",
 * which is exactly what someone adds next).
 */
export const UNKNOWN_ENVIRONMENT = "no-such-env-zz9";

/** "Available environments: dev, prod, staging." for the shipped ones. */
export const AVAILABLE_LINE = `Available environments: ${SHIPPED_ENVIRONMENTS.join(", ")}.`;
