import type { TerraformStack } from "cdktf";
import type { RuleViolation } from "../errors";
import { GUARDRAILS } from "./pack";
import { fixFor, type Rule } from "./rule";
import { type Suppression, suppressionFor, suppressionsUnder } from "./suppressions";
import { type GuardrailOptions, StackModel, type TerraformJson } from "./terraform-model";

/** A finding a suppression excused, with the suppression that did. */
export interface SuppressedFinding extends RuleViolation {
  readonly suppression: Suppression;
}

/** What the rules found in one stack. */
export interface GuardrailReport {
  readonly stackName: string;
  /** How many rules ran. */
  readonly rulesChecked: number;
  /** Unsuppressed findings of error-level rules: these stop synth. */
  readonly violations: readonly RuleViolation[];
  /** Unsuppressed findings of warning-level rules: listed, synth goes on. */
  readonly warnings: readonly RuleViolation[];
  /** Findings excused by a suppression. */
  readonly suppressed: readonly SuppressedFinding[];
  /** Every suppression declared in the stack, whether or not it excused anything. */
  readonly suppressions: readonly Suppression[];
}

/**
 * Runs the rules over one stack's synthesized Terraform JSON. `toTerraform()` returns the JSON
 * already resolved: `"//".metadata.path` holds each construct path and references read
 * `${type.name.attribute}`. Costs one resolve of the stack (tens of milliseconds).
 */
export function checkStack(
  stack: TerraformStack,
  options: GuardrailOptions = {},
  rules: readonly Rule[] = GUARDRAILS,
): GuardrailReport {
  return evaluate(
    stack.node.id,
    stack.toTerraform() as TerraformJson,
    suppressionsUnder(stack),
    options,
    rules,
  );
}

/** Runs `rules` over Terraform JSON with the given suppressions: the pure core of the check. */
export function evaluate(
  stackName: string,
  json: TerraformJson,
  suppressions: readonly Suppression[],
  options: GuardrailOptions = {},
  rules: readonly Rule[] = GUARDRAILS,
): GuardrailReport {
  const model = new StackModel(json, options);
  const envFile =
    options.envFile ?? (model.environment ? `envs/${model.environment}.json` : undefined);
  const violations: RuleViolation[] = [];
  const warnings: RuleViolation[] = [];
  const suppressed: SuppressedFinding[] = [];
  for (const rule of rules) {
    for (const found of rule.check(model)) {
      const { element, problem } = found;
      const fix = fixFor(rule, found, envFile);
      const violation = { ruleId: rule.id, constructPath: element.path, problem, fix };
      const suppression = suppressionFor(suppressions, rule.id, element.path);
      if (suppression) suppressed.push({ ...violation, suppression });
      else if (rule.level === "error") violations.push(violation);
      else warnings.push(violation);
    }
  }
  return {
    stackName,
    rulesChecked: rules.length,
    violations,
    warnings,
    suppressed,
    suppressions,
  };
}
