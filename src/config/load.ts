import { readdirSync, readFileSync } from "node:fs";
import { basename, join, relative } from "node:path";
import type { z } from "zod";
import { EnvConfigError, EnvConfigErrors, type Problem } from "../errors";
import { type EnvConfig, envConfigSchema } from "./schema";

/**
 * Reads and validates environment files. Every problem in every file is reported in one error, so
 * a user fixes them in one pass; nothing is returned unless every file is valid.
 */

/** Validates an already-parsed environment object; `file` is used in messages and for the name check. */
export function parseEnvConfig(raw: unknown, file: string): EnvConfig {
  const result = envConfigSchema.safeParse(raw, { reportInput: true });
  const problems = result.success ? [] : result.error.issues.flatMap(toProblems);
  // Checked on the raw value too, so a misnamed file is reported with the other problems.
  const expectedName = basename(file, ".json");
  const environment =
    typeof raw === "object" && raw !== null
      ? (raw as Record<string, unknown>).environment
      : undefined;
  if (typeof environment === "string" && environment !== expectedName) {
    problems.push({
      path: "environment",
      value: environment,
      expected: `"${expectedName}", the name of the file it is in (or rename the file)`,
    });
  }
  if (problems.length > 0 || !result.success) throw new EnvConfigError(file, problems);
  return result.data;
}

/** Reads one environment file. */
export function loadEnvConfig(path: string, displayRoot = process.cwd()): EnvConfig {
  const file = relative(displayRoot, path) || path;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new EnvConfigError(file, [
      { path: "", value: undefined, expected: `cannot read the file: ${(error as Error).message}` },
    ]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new EnvConfigError(file, [
      { path: "", value: undefined, expected: `not valid JSON: ${(error as Error).message}` },
    ]);
  }
  return parseEnvConfig(raw, file);
}

/**
 * Reads every `*.json` in `directory`, sorted by file name so synth order is stable. Throws
 * {@link EnvConfigErrors} listing all invalid files, or if the directory has no environment.
 */
export function loadEnvConfigs(directory: string, displayRoot = process.cwd()): EnvConfig[] {
  const files = readdirSync(directory)
    .filter((f) => f.endsWith(".json"))
    .sort();
  if (files.length === 0) {
    throw new EnvConfigErrors([
      new EnvConfigError(relative(displayRoot, directory) || directory, [
        {
          path: "",
          value: undefined,
          expected: "no environment files; add one <env>.json per environment, e.g. envs/dev.json",
        },
      ]),
    ]);
  }
  const configs: EnvConfig[] = [];
  const errors: EnvConfigError[] = [];
  for (const file of files) {
    try {
      configs.push(loadEnvConfig(join(directory, file), displayRoot));
    } catch (error) {
      if (!(error instanceof EnvConfigError)) throw error;
      errors.push(error);
    }
  }
  if (errors.length > 0) throw new EnvConfigErrors(errors);
  return configs;
}

function toProblems(issue: z.core.$ZodIssue): Problem[] {
  const path = issue.path.map(String).join(".");
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => ({
        path: path ? `${path}.${key}` : key,
        value: issue.input?.[key],
        expected: "no such field; remove it or fix its spelling",
      }));
    case "invalid_type":
      if (issue.input === undefined) {
        return [{ path, value: undefined, expected: `this required field (${issue.expected})` }];
      }
      // A number that is not whole: the schema's own message says what it counts
      // (`z.int(message)`); zod's default one ("Invalid input: ...") is not for people.
      if (issue.expected === "int" && typeof issue.input === "number") {
        const custom = !issue.message.startsWith("Invalid input");
        return [{ path, value: issue.input, expected: custom ? issue.message : "a whole number" }];
      }
      return [{ path, value: issue.input, expected: `a ${issue.expected}` }];
    default:
      return [{ path, value: issue.input, expected: issue.message }];
  }
}
