import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { BUDGET_TITLES, computeBudgets, type DrBudgets, renderBudget } from "../budget/dr-budget";
import { loadEnvConfig } from "../config/load";
import { UserInputError } from "../errors";

const USAGE = "usage: npm run budget -- --env <name> [--envs-dir envs]";

/**
 * `npm run budget -- --env prod`: prints the RTO/RPO breakdown of one environment and exits 1 when
 * a target is missed (the same check that stops synth).
 */
export function runBudgetCli(argv: string[]): { output: string; exitCode: number } {
  let values: { env?: string; "envs-dir"?: string };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { env: { type: "string" }, "envs-dir": { type: "string", default: "envs" } },
      strict: true,
    }));
  } catch (error) {
    return { output: `${(error as Error).message}\n${USAGE}`, exitCode: 2 };
  }
  if (!values.env) return { output: `--env is required\n${USAGE}`, exitCode: 2 };

  const file = resolve(values["envs-dir"] ?? "envs", `${values.env}.json`);
  let budgets: DrBudgets;
  try {
    budgets = computeBudgets(loadEnvConfig(file));
  } catch (error) {
    if (error instanceof UserInputError) return { output: error.message, exitCode: 2 };
    throw error;
  }
  const keys = Object.keys(BUDGET_TITLES) as (keyof DrBudgets)[];
  const sections = keys.map((key) => renderBudget(BUDGET_TITLES[key], budgets[key]));
  const met = keys.every((key) => budgets[key].met);
  const output = [`## DR budget of ${values.env}`, "", sections.join("\n\n")].join("\n");
  return { output, exitCode: met ? 0 : 1 };
}

if (require.main === module) {
  const { output, exitCode } = runBudgetCli(process.argv.slice(2));
  (exitCode === 0 ? console.log : console.error)(output);
  process.exitCode = exitCode;
}
