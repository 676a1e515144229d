import { parseArgs } from "node:util";
import { BUDGET_TITLES, computeBudgets, type DrBudgets, renderBudget } from "../budget/dr-budget";
import { UserInputError } from "../errors";
import { type LoadedEnvironment, loadEnvironment } from "./environment-selection";

const USAGE = "usage: npm run budget -- --env <name> [--envs-dir envs]";

export interface BudgetCliDependencies {
  /** The project root (envs/). @default the repository root */
  root?: string;
  /** The process environment, for SHOPSMART_ENVS_DIR. @default process.env */
  environment?: NodeJS.ProcessEnv;
}

/**
 * `npm run budget -- --env prod`: prints the RTO/RPO breakdown of one environment and exits 1 when
 * a target is missed (the same check that stops synth). `--env` takes a name, looked up in
 * `--envs-dir`, else SHOPSMART_ENVS_DIR, else envs/; or the path of an env file.
 */
export function runBudgetCli(
  argv: string[],
  dependencies: BudgetCliDependencies = {},
): { output: string; exitCode: number } {
  let values: { env?: string; "envs-dir"?: string };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { env: { type: "string" }, "envs-dir": { type: "string" } },
      strict: true,
    }));
  } catch (error) {
    return { output: `${(error as Error).message}\n${USAGE}`, exitCode: 2 };
  }
  if (!values.env) return { output: `--env is required\n${USAGE}`, exitCode: 2 };

  let selected: LoadedEnvironment;
  let budgets: DrBudgets;
  try {
    selected = loadEnvironment(values.env, {
      ...dependencies,
      ...(values["envs-dir"] ? { envsDir: values["envs-dir"] } : {}),
    });
    budgets = computeBudgets(selected.config);
  } catch (error) {
    if (error instanceof UserInputError) return { output: error.message, exitCode: 2 };
    throw error;
  }
  const keys = Object.keys(BUDGET_TITLES) as (keyof DrBudgets)[];
  const sections = keys.map((key) => renderBudget(BUDGET_TITLES[key], budgets[key]));
  const met = keys.every((key) => budgets[key].met);
  const output = [`## DR budget of ${selected.selection.name}`, "", sections.join("\n\n")].join(
    "\n",
  );
  return { output, exitCode: met ? 0 : 1 };
}

if (require.main === module) {
  const { output, exitCode } = runBudgetCli(process.argv.slice(2));
  (exitCode === 0 ? console.log : console.error)(output);
  process.exitCode = exitCode;
}
