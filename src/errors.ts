import { Token } from "cdktf";
import { type FormatRule, hasFormat } from "./aws-formats";

/**
 * User-facing errors. Every message a user can see at synth time is built here, so wording stays
 * consistent and tests can assert whole messages.
 */

/** One thing wrong with an input: where it is, what it holds, what would be accepted. */
export interface Problem {
  /** Dotted path of the field, e.g. `compute.secondary.desiredCapacity`. */
  readonly path: string;
  /** The offending value, or `undefined` when the field is missing. */
  readonly value: unknown;
  /**
   * What would be accepted, phrased so the user can act on it. For a problem with the input as a
   * whole (empty `path`), the complete sentence to show instead.
   */
  readonly expected: string;
}

/** Renders a value the way the user typed it in JSON (strings quoted, missing spelled out). */
export function describeValue(value: unknown): string {
  if (value === undefined) return "missing";
  const json = JSON.stringify(value);
  if (json === undefined) return String(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

function renderProblems(problems: readonly Problem[]): string {
  return problems
    .map((p) => {
      if (p.path === "") return `  - ${p.expected}`;
      const got = p.value === undefined ? "missing" : `got ${describeValue(p.value)}`;
      return `  - ${p.path}: ${got}; expected ${p.expected}`;
    })
    .join("\n");
}

/**
 * An error caused by what the user supplied (a file, a prop, a setting), not by a bug: the app
 * prints its message alone, without a stack trace.
 */
export class UserInputError extends Error {
  override name = "UserInputError";
}

/** An environment variable the app reads holds a value it cannot use. */
export function invalidSetting(variable: string, value: string, expected: string): UserInputError {
  return new UserInputError(`${variable}: got ${describeValue(value)}; expected ${expected}`);
}

/** An environment file that cannot be used. Synth stops before anything is written. */
export class EnvConfigError extends UserInputError {
  constructor(
    readonly file: string,
    readonly problems: readonly Problem[],
  ) {
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    super(
      `Invalid environment config ${file} (${count}):\n${renderProblems(problems)}\n` +
        "Fix the file and run synth again; nothing was synthesized.",
    );
    this.name = "EnvConfigError";
  }
}

/** Several environment files failed; reported together so one run shows every fix needed. */
export class EnvConfigErrors extends UserInputError {
  constructor(readonly errors: readonly EnvConfigError[]) {
    super(errors.map((e) => e.message).join("\n\n"));
    this.name = "EnvConfigErrors";
  }
}

/** Props handed to a construct that it cannot build from. Names the construct path and each prop. */
export class InvalidPropsError extends UserInputError {
  constructor(
    readonly constructPath: string,
    readonly problems: readonly Problem[],
  ) {
    super(`Invalid props for ${constructPath}:\n${renderProblems(problems)}`);
    this.name = "InvalidPropsError";
  }
}

/** An environment whose settings cannot meet its own RTO/RPO targets. */
export function missedDrBudgets(
  file: string,
  environment: string,
  problems: readonly string[],
): UserInputError {
  return new UserInputError(
    `${file} cannot meet its DR targets:\n${problems.map((p) => `  - ${p}`).join("\n")}\n` +
      `Run \`npm run budget -- --env ${environment}\` for the breakdown; nothing was synthesized.`,
  );
}

/** A construct used out of order or twice (a method called again, an attribute read too early). */
export class ConstructMisuseError extends UserInputError {
  constructor(
    readonly constructPath: string,
    detail: string,
  ) {
    super(`${constructPath}: ${detail}`);
    this.name = "ConstructMisuseError";
  }
}

/**
 * Whether a value can be checked at synth: given, and not a token that only resolves at apply
 * time (AWS checks those itself).
 */
export function isKnown<T>(value: T | undefined): value is T {
  return value !== undefined && !Token.isUnresolved(value);
}

/** How a checked value must be given, and what to say when it is not. */
export interface CheckOptions {
  /**
   * The value is written into a file or JSON at synth, so an unresolved token is a problem
   * too; the rule's expected text then reads "a literal ...".
   */
  readonly literal?: boolean;
  /** Appended to the rule's expected text: an example, or why this caller needs the rule. */
  readonly detail?: string;
}

/**
 * Collects problems during validation so a caller can throw once with all of them. The checks
 * skip unresolved tokens (unless `literal`) and return whether the value is known and valid, so
 * a caller can go on to checks that need it.
 */
export class ProblemCollector {
  private readonly found: Problem[] = [];

  add(path: string, value: unknown, expected: string): void {
    this.found.push({ path, value, expected });
  }

  /** Adds a problem unless `value` has the format `rule` describes. */
  pattern(path: string, value: string, rule: FormatRule, options: CheckOptions = {}): boolean {
    if (!options.literal && Token.isUnresolved(value)) return false;
    if (!Token.isUnresolved(value) && typeof value === "string" && hasFormat(rule, value)) {
      return true;
    }
    const expected = options.literal ? rule.expected.replace(/^an? /, "a literal ") : rule.expected;
    this.add(path, value, `${expected}${options.detail ?? ""}`);
    return false;
  }

  /** Adds a problem unless `value` is a whole number from `range.min` to `range.max`. */
  wholeNumberInRange(
    path: string,
    value: number | undefined,
    range: { readonly min: number; readonly max?: number },
    expected: string,
    options: Pick<CheckOptions, "literal"> = {},
  ): boolean {
    if (!options.literal && Token.isUnresolved(value)) return false;
    const valid =
      value !== undefined &&
      !Token.isUnresolved(value) &&
      Number.isInteger(value) &&
      value >= range.min &&
      value <= (range.max ?? Number.POSITIVE_INFINITY);
    if (!valid) this.add(path, value, expected);
    return valid;
  }

  /** Adds a problem if `value` equals `other`; skipped unless both are known. */
  distinct(path: string, value: string, other: string | undefined, expected: string): void {
    if (isKnown(value) && isKnown(other) && value === other) this.add(path, value, expected);
  }

  /**
   * Adds a problem if the two regions of a warm-standby pair are one (a regional outage would
   * take both). `at` is the path of the object holding `primary` and `secondary`.
   */
  regionPair(
    at: string,
    pair: { readonly [role in "primary" | "secondary"]: { readonly region: string } },
  ): void {
    const prefix = at === "" ? "" : `${at}.`;
    const other = pair.primary.region;
    this.distinct(
      `${prefix}secondary.region`,
      pair.secondary.region,
      other,
      `a region other than ${prefix}primary.region (${other})`,
    );
  }

  /** Adds a problem if `value` differs from `other`; skipped unless both are known. */
  same(path: string, value: string, other: string | undefined, expected: string): void {
    if (isKnown(value) && isKnown(other) && value !== other) this.add(path, value, expected);
  }

  get problems(): readonly Problem[] {
    return this.found;
  }

  /** Throws an {@link InvalidPropsError} for `constructPath` if anything was collected. */
  throwIfAnyFor(constructPath: string): void {
    if (this.found.length > 0) throw new InvalidPropsError(constructPath, this.found);
  }
}

/** One guardrail finding that stops synth, as the user reads it. */
export interface RuleViolation {
  /** Rule id, e.g. `SS-S3-1`. */
  readonly ruleId: string;
  /** Construct path of the offending resource. */
  readonly constructPath: string;
  /** What is wrong, without the final period. */
  readonly problem: string;
  /** What to change, without the final period. */
  readonly fix: string;
}

const SUPPRESSION_HINT =
  "If a finding is deliberate, suppress it where the resource is built, with the reason: " +
  'Guardrails.suppress(construct, "<rule id>", "<why the rule does not apply here>") (docs/configuration.md, Guardrails).';

function renderViolationLines(violations: readonly RuleViolation[]): string {
  return violations
    .map((v) => `  [${v.ruleId}] ${v.constructPath}: ${v.problem}. Fix: ${v.fix}.`)
    .join("\n");
}

function countViolations(count: number): string {
  return count === 1 ? "1 guardrail violation" : `${count} guardrail violations`;
}

/** The violations of one stack as one message (the stack validation reports this). */
export function renderStackViolations(
  stackName: string,
  violations: readonly RuleViolation[],
): string {
  return `${countViolations(violations.length)} in ${stackName}:\n${renderViolationLines(violations)}\n${SUPPRESSION_HINT}`;
}

/** Guardrail violations found before synth: every stack's, so one run shows every fix. */
export class GuardrailViolationsError extends UserInputError {
  constructor(readonly violationsByStack: ReadonlyMap<string, readonly RuleViolation[]>) {
    const total = [...violationsByStack.values()].reduce((sum, list) => sum + list.length, 0);
    const sections = [...violationsByStack].map(
      ([stackName, violations]) => `${stackName}:\n${renderViolationLines(violations)}`,
    );
    super(
      `${countViolations(total)}; nothing was synthesized.\n${sections.join("\n")}\n${SUPPRESSION_HINT}`,
    );
    this.name = "GuardrailViolationsError";
  }
}
