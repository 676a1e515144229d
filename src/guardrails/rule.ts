import type { StackModel, TerraformElement } from "./terraform-model";

/** What a finding does to synth: an error stops it, a warning is listed in the summary. */
export type RuleLevel = "error" | "warning";

/** One thing a rule found wrong with one resource (or data source). */
export interface Finding {
  /** The resource the finding is about; its construct path is where a suppression applies. */
  readonly element: TerraformElement;
  /** What is wrong, as a sentence without the final period. */
  readonly problem: string;
}

/** A rule body: a small pure function of the indexed stack. */
export type RuleCheck = (stack: StackModel) => Finding[];

/** A registered rule: the pack owns its id, wording and level; `check` owns the logic. */
export interface Rule {
  /** Stable id used in messages and suppressions, e.g. `SS-S3-1`. Never reused. */
  readonly id: string;
  /** One line: what the rule requires. */
  readonly title: string;
  /** Why the rule exists: the risk it prevents. */
  readonly explanation: string;
  /**
   * What to change to comply, phrased as an instruction. Where the env file can make the change,
   * the fix names its field first and the Terraform attribute after, for context; {@link ENV_FILE}
   * and {@link TERRAFORM_ADDRESS} in it are replaced by the stack's env file and the finding's
   * address when the finding is reported (see {@link fixFor}).
   */
  readonly fix: string;
  readonly level: RuleLevel;
  readonly check: RuleCheck;
}

/** Shorthand for a finding. */
export function finding(element: TerraformElement, problem: string): Finding {
  return { element, problem };
}

/** Stands for the stack's env file in a rule's fix, e.g. `envs/prod.json` once reported. */
export const ENV_FILE = "envs/<environment>.json";

/** Stands for the finding's Terraform address in a rule's fix, e.g. `aws_lb.compute-primary_load-balancer_4A1C2D3E`. */
export const TERRAFORM_ADDRESS = "<terraform address>";

/**
 * The rule's fix for one finding: {@link ENV_FILE} becomes `envFile` (when one is known) and
 * {@link TERRAFORM_ADDRESS} the address of the finding's element.
 */
export function fixFor(rule: Rule, found: Finding, envFile: string | undefined): string {
  return rule.fix
    .replaceAll(ENV_FILE, envFile ?? ENV_FILE)
    .replaceAll(TERRAFORM_ADDRESS, found.element.address);
}
