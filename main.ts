// cdktf captures a full stack trace for every token it creates (not in the prebuilt bundle, see
// src/app-bundle/run.cjs); with the source maps tsx turns on when main.ts runs from source,
// formatting those traces costs ~0.5 s per synth. Synth errors are reported as messages, so the
// maps buy nothing here.
process.setSourceMapsEnabled(false);

import { setFlagsFromString } from "node:v8";

// Resolving tokens allocates millions of short-lived objects. When V8 decides at a scavenge that
// an allocation site's objects survive, it pretenures them into old space; whether it does
// depends on GC timing, and about half of the runs then took 4 s and 410 MB instead of 2.8 s and
// 195 MB (bench/results.md). Turning pretenuring off makes every run the fast one.
setFlagsFromString("--no-allocation-site-pretenuring");

import { relative, resolve } from "node:path";
import { App } from "cdktf";
import { budgetProblems } from "./src/budget/dr-budget";
import {
  ENVIRONMENT_SELECTION_VARIABLE,
  parseEnvironmentSelection,
  SELECT_ONE_ENVIRONMENT_HINT,
} from "./src/config/environment-files";
import { type EnvironmentSet, loadEnvironmentSet } from "./src/config/load";
import type { EnvConfig } from "./src/config/schema";
import { EnvConfigErrors, invalidSetting, missedDrBudgets, UserInputError } from "./src/errors";
import { assertGuardrails, guardrailSummary } from "./src/guardrails";
import { EnvironmentStack, type StateLocation } from "./src/stacks/environment-stack";

/**
 * The app: one stack per environment file. Every file is validated before any stack is built, so
 * a bad file stops synth before anything is written to cdktf.out; so do two files sharing a
 * domain name or resource name prefix (src/config/environment-files.ts).
 *
 * Environments whose settings cannot meet their own RTO/RPO targets stop synth too (see
 * src/budget/dr-budget.ts).
 *
 * Environment variables:
 * - SHOPSMART_ENVS_DIR: directory of environment files (default `envs`).
 * - SHOPSMART_ENVS: the environments to synthesize, comma-separated (default every env file).
 *   Only their files must be valid; another broken file is a warning on stderr. cdktf passes
 *   nothing about the stack it deploys to the app, so one environment's command sets this:
 *   `SHOPSMART_ENVS=prod npx cdktf deploy shopsmart-prod` (docs/environments.md).
 * - SHOPSMART_STATE_LOCATION: `primary` (default) or `replica`, to point every backend at the
 *   replicated state bucket while the state region is down.
 */
function main(): void {
  const envsDir = resolve(process.env.SHOPSMART_ENVS_DIR ?? "envs");
  const stateLocation = parseStateLocation(process.env.SHOPSMART_STATE_LOCATION);
  const selected = parseEnvironmentSelection(process.env[ENVIRONMENT_SELECTION_VARIABLE]);
  const { configs, warnings } = loadEnvironments(envsDir, selected);
  for (const warning of warnings) console.error(warning);
  const envFileOf = (config: EnvConfig) =>
    relative(process.cwd(), resolve(envsDir, `${config.environment}.json`));
  for (const config of configs) {
    const problems = budgetProblems(config);
    if (problems.length > 0) throw missedDrBudgets(envFileOf(config), config.environment, problems);
  }
  const app = new App();
  const stacks = configs.map(
    (config) => new EnvironmentStack(app, { config, stateLocation, envFile: envFileOf(config) }),
  );
  // Checked for every stack before any is written, so a violation leaves nothing half-synthesized.
  assertGuardrails(stacks);
  app.synth();
  for (const line of guardrailSummary(stacks)) console.log(line);
}

/** {@link loadEnvironmentSet}; a strict synth's env file errors end with how to select one env. */
function loadEnvironments(envsDir: string, selected: string[] | undefined): EnvironmentSet {
  try {
    return loadEnvironmentSet(envsDir, selected ? { selected } : {});
  } catch (error) {
    if (selected !== undefined || !(error instanceof EnvConfigErrors)) throw error;
    throw new UserInputError(`${error.message}\n${SELECT_ONE_ENVIRONMENT_HINT}`);
  }
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

try {
  main();
} catch (error) {
  // Input errors are for people: the message says what to fix; a stack trace would bury it.
  console.error(error instanceof UserInputError ? error.message : error);
  if (!(error instanceof UserInputError) && process.env.SHOPSMART_APP_BUNDLE) {
    // src/app-bundle/run.cjs ran the bundle, whose stack frames are not the sources' lines.
    console.error(
      `(stack trace from the prebuilt bundle ${process.env.SHOPSMART_APP_BUNDLE}; run with SHOPSMART_SYNTH_FROM_SOURCE=1 for frames in the TypeScript sources)`,
    );
  }
  process.exitCode = 1;
}
