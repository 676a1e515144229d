import type { TerraformStack } from "cdktf";
import { checkStack, GUARDRAILS, type GuardrailOptions } from "../../src/guardrails";

/** Account id used in hand-built test resources. */
export const ACCOUNT = "111111111111";

/** A KMS key ARN of the test account in a region. */
export function keyArn(region: string): string {
  return `arn:aws:kms:${region}:${ACCOUNT}:key/00000000-0000-0000-0000-000000000000`;
}

function ruleById(ruleId: string) {
  const rule = GUARDRAILS.find((r) => r.id === ruleId);
  if (!rule) throw new Error(`no rule ${ruleId} in the pack`);
  return rule;
}

/**
 * Runs one rule over a stack and returns its violations as the user reads them:
 * `[SS-XX-n] <construct path>: <problem>. Fix: <fix>.`
 */
export function violationsOf(
  ruleId: string,
  stack: TerraformStack,
  options: GuardrailOptions = {},
): string[] {
  return checkStack(stack, options, [ruleById(ruleId)]).violations.map(
    (v) => `[${v.ruleId}] ${v.constructPath}: ${v.problem}. Fix: ${v.fix}.`,
  );
}

/** The line a violation of `ruleId` at `path` renders to, with the rule's fix from the pack. */
export function violation(ruleId: string, path: string, problem: string): string {
  return `[${ruleId}] ${path}: ${problem}. Fix: ${ruleById(ruleId).fix}.`;
}

/**
 * Rows of `it.each`/`describe.each` as `[name, row]`, for a title `"... %s ..."` that reads the
 * name as written (vitest quotes and shortens a string interpolated with `$name`).
 */
export function named<T extends { readonly name: string }>(rows: readonly T[]): [string, T][] {
  return rows.map((row) => [row.name, row]);
}
