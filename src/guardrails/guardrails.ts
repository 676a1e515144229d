import type { TerraformStack } from "cdktf";
import { GuardrailViolationsError, type RuleViolation, renderStackViolations } from "../errors";
import { checkStack, type GuardrailReport } from "./check";
import type { GuardrailOptions } from "./terraform-model";

/** Options each stack was attached with; stacks not attached are checked with the defaults. */
const attachedOptions = new WeakMap<TerraformStack, GuardrailOptions>();

/**
 * The last report per stack and the size of the construct tree it saw. The pre-synth check,
 * the stack validation and the summary share one check per stack (resolving a stack is the
 * expensive part); a tree that grew since (a late construct or aspect) is checked again.
 */
const reports = new WeakMap<TerraformStack, { nodes: number; report: GuardrailReport }>();

/** The stack's report, from the cache while its construct tree is unchanged in size. */
export function reportFor(stack: TerraformStack): GuardrailReport {
  const nodes = stack.node.findAll().length;
  const cached = reports.get(stack);
  if (cached && cached.nodes === nodes) return cached.report;
  const report = checkStack(stack, attachedOptions.get(stack));
  reports.set(stack, { nodes, report });
  return report;
}

/**
 * Checks the stack against the guardrails on every synth: adds a validation that fails with one
 * message listing every violation as `[SS-XX-n] <construct path>: <what is wrong>. Fix: <fix>`.
 * Validations run per stack while the app writes stacks, so call {@link assertGuardrails} before
 * `app.synth()` to stop before any stack is written.
 */
export function attachGuardrails(stack: TerraformStack, options: GuardrailOptions = {}): void {
  attachedOptions.set(stack, options);
  stack.node.addValidation({
    validate: () => {
      const { violations } = reportFor(stack);
      return violations.length === 0 ? [] : [renderStackViolations(stack.node.id, violations)];
    },
  });
}

/**
 * Checks every stack before anything is written: throws a {@link GuardrailViolationsError}
 * listing the violations of all stacks, so a violation in one environment leaves no other
 * environment half-written in cdktf.out.
 */
export function assertGuardrails(stacks: readonly TerraformStack[]): void {
  const failing = new Map<string, readonly RuleViolation[]>();
  for (const stack of stacks) {
    const { violations } = reportFor(stack);
    if (violations.length > 0) failing.set(stack.node.id, violations);
  }
  if (failing.size > 0) throw new GuardrailViolationsError(failing);
}

/**
 * Lines for the synth summary: the rules checked and the totals, every violation and warning,
 * and every suppression with its rule id, construct path, reason and how many findings it
 * excused. A suppression that every environment declares alike (same rule, path below the
 * stack and reason) is listed once with the stacks it appears in.
 */
export function guardrailSummary(stacks: readonly TerraformStack[]): string[] {
  const stackReports = stacks.map(reportFor);
  const lines = [headline(stackReports)];
  for (const report of stackReports) {
    for (const v of report.violations) {
      lines.push(`  violation [${v.ruleId}] ${v.constructPath}: ${v.problem}`);
    }
    for (const v of report.warnings) {
      lines.push(`  warning [${v.ruleId}] ${v.constructPath}: ${v.problem}`);
    }
  }
  for (const group of groupSuppressions(stackReports)) {
    lines.push(
      `  suppressed [${group.ruleId}] ${group.relativePath} in ${where(group)}: ${group.reason}`,
    );
  }
  return lines;
}

/** `Guardrails: 31 rules checked on 3 stacks: 0 violations, 0 warnings, 6 suppressions.` */
function headline(stackReports: readonly GuardrailReport[]): string {
  const total = (pick: (r: GuardrailReport) => readonly unknown[]) =>
    stackReports.reduce((sum, r) => sum + pick(r).length, 0);
  const rules = plural(stackReports[0]?.rulesChecked ?? 0, "rule");
  const stacks = plural(stackReports.length, "stack");
  const violations = plural(
    total((r) => r.violations),
    "violation",
  );
  const warnings = plural(
    total((r) => r.warnings),
    "warning",
  );
  const suppressions = plural(
    total((r) => r.suppressions),
    "suppression",
  );
  return `Guardrails: ${rules} checked on ${stacks}: ${violations}, ${warnings}, ${suppressions}.`;
}

/** `a, b (1 finding each)`, or `a (1 finding), b (0 findings)` when the counts differ. */
function where(group: SuppressionGroup): string {
  const names = group.stacks.map((s) => s.stackName).join(", ");
  const [first, ...others] = group.stacks.map((s) => s.excused);
  if (others.every((count) => count === first)) {
    return `${names} (${plural(first ?? 0, "finding")}${others.length > 0 ? " each" : ""})`;
  }
  return group.stacks.map((s) => `${s.stackName} (${plural(s.excused, "finding")})`).join(", ");
}

interface SuppressionGroup {
  readonly ruleId: string;
  /** Construct path below the stack, e.g. `backup/primary-plan`. */
  readonly relativePath: string;
  readonly reason: string;
  readonly stacks: { stackName: string; excused: number }[];
}

function groupSuppressions(stackReports: readonly GuardrailReport[]): SuppressionGroup[] {
  const groups = new Map<string, SuppressionGroup>();
  for (const report of stackReports) {
    for (const suppression of report.suppressions) {
      const relativePath = suppression.constructPath.slice(report.stackName.length + 1) || ".";
      const key = JSON.stringify([suppression.ruleId, relativePath, suppression.reason]);
      const group = groups.get(key) ?? {
        ruleId: suppression.ruleId,
        relativePath,
        reason: suppression.reason,
        stacks: [],
      };
      const excused = report.suppressed.filter((f) => f.suppression === suppression).length;
      group.stacks.push({ stackName: report.stackName, excused });
      groups.set(key, group);
    }
  }
  return [...groups.values()];
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
