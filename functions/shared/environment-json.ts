/**
 * Configuration the automation construct writes into an environment variable as JSON: the one
 * parser of such a variable, so each fails alike, with one error naming the first bad field, e.g.
 * `SHOPSMART_DR_SETTINGS: regions.primary.clusterArn: expected an ARN (arn:...)`.
 */
import type * as z from "zod/mini";

/** A variable holding JSON, and how its failures are worded and thrown. */
export interface EnvironmentJsonVariable {
  /** e.g. `SHOPSMART_DR_SETTINGS`: the start of every message. */
  readonly name: string;
  /** The error thrown, given its message. */
  readonly error: (message: string) => Error;
  /** The message when the variable is unset or blank; without it, that is a value not JSON. */
  readonly notSet?: string;
  /** The message when JSON.parse rejects the value (`reason` is its message). */
  readonly notJson: (json: string | undefined, reason: string) => string;
  /** The message of an absent field; without it, zod's own ("expected string, received undefined"). */
  readonly missingField?: string;
}

/** Parses the value of `variable` as JSON and validates it with `schema`. */
export function parseEnvironmentJson<Value>(
  json: string | undefined,
  schema: z.ZodMiniType<Value>,
  variable: EnvironmentJsonVariable,
): Value {
  const { name, error, notSet, missingField } = variable;
  if (notSet !== undefined && !json?.trim()) throw error(notSet);
  let value: unknown;
  try {
    value = JSON.parse(json ?? "");
  } catch (reason) {
    throw error(variable.notJson(json, reason instanceof Error ? reason.message : String(reason)));
  }
  // An error map that returns undefined leaves the message to zod.
  const result = schema.safeParse(value, {
    error: (issue) => (issue.input === undefined ? missingField : undefined),
  });
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.length ? issue.path.join(".") : "(root)";
  throw error(`${name}: ${field}: ${issue?.message ?? "invalid"}`);
}
