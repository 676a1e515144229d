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
  /** What to change to comply, phrased as an instruction. */
  readonly fix: string;
  readonly level: RuleLevel;
  readonly check: RuleCheck;
}

/** Shorthand for a finding. */
export function finding(element: TerraformElement, problem: string): Finding {
  return { element, problem };
}
