import { GUARDRAILS } from "../../src/guardrails";
import { ENV_FILE, fixFor } from "../../src/guardrails/rule";
import type { TerraformElement } from "../../src/guardrails/terraform-model";

/**
 * The line a violation of `ruleId` at `path` renders to, with the rule's fix as reported for the
 * element at `address`: rules whose fix names the env file and the Terraform address (see
 * `ENV_FILE` in src/guardrails/rule.ts) differ per finding. Test stacks carry no environment tag,
 * so `envFile` stays `envs/<environment>.json` unless given.
 */
export function violationAt(
  ruleId: string,
  path: string,
  problem: string,
  address: string,
  envFile: string = ENV_FILE,
): string {
  const rule = GUARDRAILS.find((r) => r.id === ruleId);
  if (!rule) throw new Error(`no rule ${ruleId} in the pack`);
  const element = { address, path } as TerraformElement;
  return `[${ruleId}] ${path}: ${problem}. Fix: ${fixFor(rule, { element, problem }, envFile)}.`;
}
