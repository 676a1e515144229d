import type { IConstruct } from "constructs";
import { ProblemCollector } from "../errors";
import { GUARDRAILS } from "./pack";

/** A rule deliberately switched off for one construct and everything under it. */
export interface Suppression {
  readonly ruleId: string;
  /** Construct path the suppression was added to. */
  readonly constructPath: string;
  /** Why the rule does not apply there, as written in the code. */
  readonly reason: string;
}

/** Metadata type under which suppressions are stored on a construct node. */
export const SUPPRESSION_METADATA = "shopsmart/guardrails/suppression";

/** Shortest reason accepted: long enough to say why, not just "ok" or "n/a". */
export const MINIMUM_REASON_LENGTH = 10;

/** Suppressions of guardrail rules, in code, next to the resources they excuse. */
export const Guardrails = {
  /**
   * Switches rule `ruleId` off for `construct` and every resource under it, with the reason a
   * reviewer reads in the synth summary. Suppress on the narrowest construct that needs it.
   *
   * @throws InvalidPropsError naming the construct and rule when the rule id is unknown or the
   * reason is shorter than {@link MINIMUM_REASON_LENGTH} characters.
   */
  suppress(construct: IConstruct, ruleId: string, reason: string): void {
    const problems = new ProblemCollector();
    const field = `Guardrails.suppress(${JSON.stringify(ruleId)})`;
    if (!GUARDRAILS.some((rule) => rule.id === ruleId)) {
      problems.add(
        `${field}.ruleId`,
        ruleId,
        `the id of a rule in src/guardrails/pack.ts (${GUARDRAILS.map((r) => r.id).join(", ")})`,
      );
    }
    if (typeof reason !== "string" || reason.trim().length < MINIMUM_REASON_LENGTH) {
      problems.add(
        `${field}.reason`,
        reason,
        `at least ${MINIMUM_REASON_LENGTH} characters saying why the rule does not apply here; a suppression without a reason cannot be reviewed`,
      );
    }
    problems.throwIfAnyFor(construct.node.path);
    construct.node.addMetadata(SUPPRESSION_METADATA, { ruleId, reason: reason.trim() });
  },
};

/** Every suppression added to `scope` or a construct under it, in tree order. */
export function suppressionsUnder(scope: IConstruct): Suppression[] {
  const found: Suppression[] = [];
  for (const construct of scope.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== SUPPRESSION_METADATA) continue;
      const { ruleId, reason } = entry.data as { ruleId: string; reason: string };
      found.push({ ruleId, reason, constructPath: construct.node.path });
    }
  }
  return found;
}

/** The suppression that covers a finding of `ruleId` at `path`, if any. */
export function suppressionFor(
  suppressions: readonly Suppression[],
  ruleId: string,
  path: string,
): Suppression | undefined {
  return suppressions.find(
    (s) =>
      s.ruleId === ruleId && (path === s.constructPath || path.startsWith(`${s.constructPath}/`)),
  );
}
