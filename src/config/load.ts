import { readFileSync } from "node:fs";
import { basename, join, relative } from "node:path";
import type { z } from "zod";
import {
  describeValue,
  EnvConfigError,
  EnvConfigErrors,
  type Problem,
  UserInputError,
} from "../errors";
import {
  ENVIRONMENT_SELECTION_VARIABLE,
  envCollisions,
  type LoadedEnvFile,
  listEnvironments,
  reusedVpcRangeWarnings,
  unknownEnvironmentMessage,
} from "./environment-files";
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
      { path: "", value: undefined, expected: jsonSyntaxMessage(text, (error as Error).message) },
    ]);
  }
  return parseEnvConfig(raw, file);
}

/** V8's position suffix: " in JSON at position 13", on Node 22 followed by " (line 3 column 3)". */
const JSON_POSITION = /(?: in JSON)? at position \d+(?: \(line \d+ column \d+\))?$/;

/**
 * A JSON syntax error as a person reads it: where (line and column, both from 1), what JSON.parse
 * said, and the line itself. JSON.parse gives a position for some errors only ("Unexpected token
 * 'd', ... is not valid JSON" has none), so the position comes from {@link jsonErrorOffset}.
 */
export function jsonSyntaxMessage(text: string, parseMessage: string): string {
  const offset = jsonErrorOffset(text);
  // "Unexpected token 'd', ..."ronment": dev\n}" is not valid JSON": the quoted excerpt spans
  // lines; the line shown below says the same.
  const reason = parseMessage
    .replace(JSON_POSITION, "")
    .replace(/^(Unexpected token '[^']*'), [\s\S]* is not valid JSON$/, "$1");
  const before = text.slice(0, offset).split("\n");
  const line = before.length;
  const column = (before.at(-1) ?? "").length + 1;
  const lineText = (text.split("\n")[line - 1] ?? "").replace(/\r$/, "").trim();
  const shown = lineText.length > 60 ? `${lineText.slice(0, 57)}...` : lineText;
  return (
    `not valid JSON: line ${line}, column ${column}: ${reason}` +
    (shown === "" ? "" : ` (line ${line}: ${shown})`)
  );
}

/**
 * The offset of the first character that breaks the JSON grammar (RFC 8259) in `text`: where
 * JSON.parse stops too. `text.length` when the text ends early.
 */
export function jsonErrorOffset(text: string): number {
  let at = 0;
  const fail = (): never => {
    throw at;
  };
  const space = () => {
    while (at < text.length && " \t\n\r".includes(text[at] as string)) at++;
  };
  const literal = (word: string) => {
    for (const char of word) {
      if (text[at] !== char) fail();
      at++;
    }
  };
  const digits = () => {
    if (!/[0-9]/.test(text[at] ?? "")) fail();
    while (/[0-9]/.test(text[at] ?? "")) at++;
  };
  const number = () => {
    if (text[at] === "-") at++;
    if (text[at] === "0") at++;
    else digits();
    if (text[at] === ".") {
      at++;
      digits();
    }
    if (text[at] === "e" || text[at] === "E") {
      at++;
      if (text[at] === "+" || text[at] === "-") at++;
      digits();
    }
  };
  const string = () => {
    literal('"');
    for (;;) {
      const char = text[at];
      if (char === undefined || char < " ") fail();
      at++;
      if (char === '"') return;
      if (char === "\\") {
        if (text[at] === "u") {
          at++;
          for (let i = 0; i < 4; i++) {
            if (!/[0-9a-fA-F]/.test(text[at] ?? "")) fail();
            at++;
          }
        } else if ('"\\/bfnrt'.includes(text[at] ?? "x")) at++;
        else fail();
      }
    }
  };
  const value = (): void => {
    space();
    const char = text[at];
    if (char === "{") {
      at++;
      space();
      if (text[at] === "}") {
        at++;
        return;
      }
      for (;;) {
        space();
        string();
        space();
        literal(":");
        value();
        space();
        if (text[at] === "}") {
          at++;
          return;
        }
        literal(",");
      }
    }
    if (char === "[") {
      at++;
      space();
      if (text[at] === "]") {
        at++;
        return;
      }
      for (;;) {
        value();
        space();
        if (text[at] === "]") {
          at++;
          return;
        }
        literal(",");
      }
    }
    if (char === '"') string();
    else if (char === "t") literal("true");
    else if (char === "f") literal("false");
    else if (char === "n") literal("null");
    else if (char === "-" || /[0-9]/.test(char ?? "")) number();
    else fail();
  };
  try {
    value();
    space();
    if (at < text.length) fail();
  } catch (offset) {
    if (typeof offset !== "number") throw offset;
    return Math.min(offset, text.length);
  }
  return text.length;
}

/**
 * Reads every `*.json` in `directory`, sorted by file name so synth order is stable, and checks
 * what must differ between them (see {@link envCollisions}). Throws {@link EnvConfigErrors}
 * listing all invalid files, or if the directory has no environment; warnings are dropped (use
 * {@link loadEnvironmentSet} to show them).
 */
export function loadEnvConfigs(directory: string, displayRoot = process.cwd()): EnvConfig[] {
  return loadEnvironmentSet(directory, { displayRoot }).configs;
}

export interface EnvironmentSetOptions {
  /** Messages show files relative to this directory. @default process.cwd() */
  readonly displayRoot?: string;
  /**
   * The environments to return (`SHOPSMART_ENVS`). Only their files must be valid; any other
   * file that is invalid or collides with a selected one becomes a warning. @default - every
   * env file, all of which must be valid
   */
  readonly selected?: readonly string[];
}

export interface EnvironmentSet {
  /** The selected environments (every one by default), sorted by file name. */
  readonly configs: EnvConfig[];
  /** For stderr, one entry each, starting "warning: ". */
  readonly warnings: string[];
}

/**
 * Reads the env files of `directory`: every one must be valid and none may share a domain name or
 * a resource name prefix with another (errors), and VPC ranges shared between files are
 * warnings. With `selected`, only the selected files must be valid: so `SHOPSMART_ENVS=prod`
 * deploys prod while dev.json is broken, and says so loudly. Throws a UserInputError for a
 * selected environment that has no file, and {@link EnvConfigErrors} for every error at once.
 */
export function loadEnvironmentSet(
  directory: string,
  options: EnvironmentSetOptions = {},
): EnvironmentSet {
  const displayRoot = options.displayRoot ?? process.cwd();
  const shownDirectory = relative(displayRoot, directory) || directory;
  const names = listEnvironments(directory);
  if (names.length === 0) {
    throw new EnvConfigErrors([
      new EnvConfigError(shownDirectory, [
        {
          path: "",
          value: undefined,
          expected: "no environment files; add one <env>.json per environment, e.g. envs/dev.json",
        },
      ]),
    ]);
  }
  const selected = options.selected;
  for (const name of selected ?? []) {
    if (!names.includes(name)) {
      throw new UserInputError(
        `${ENVIRONMENT_SELECTION_VARIABLE}: ${unknownEnvironmentMessage(name, names, shownDirectory)}`,
      );
    }
  }
  const isSelected = (name: string) => selected === undefined || selected.includes(name);

  const loaded: (LoadedEnvFile & { readonly name: string })[] = [];
  const errors: EnvConfigError[] = [];
  const warnings: string[] = [];
  for (const name of names) {
    try {
      const config = loadEnvConfig(join(directory, `${name}.json`), displayRoot);
      loaded.push({ name, config, file: relative(displayRoot, join(directory, `${name}.json`)) });
    } catch (error) {
      if (!(error instanceof EnvConfigError)) throw error;
      if (isSelected(name)) errors.push(error);
      else warnings.push(skippedFileWarning(error, selected ?? []));
    }
  }

  const nameOf = new Map(loaded.map((entry) => [entry.file, entry.name]));
  const collisions = new Map<string, Problem[]>();
  for (const collision of envCollisions(loaded)) {
    const problem = { path: collision.path, value: collision.value, expected: collision.expected };
    const involved = [collision.file, collision.otherFile].map((file) => nameOf.get(file) ?? "");
    // An error as soon as a selected environment is involved: selecting the copy that still has
    // the original's domain or prefix must not get it deployed (its apply would build VPCs and
    // databases, then fail on the records or names the original owns).
    if (involved.some(isSelected)) {
      collisions.set(collision.file, [...(collisions.get(collision.file) ?? []), problem]);
    } else {
      warnings.push(
        `warning: a synth of every environment refuses ${collision.file}: ${collision.path}: ` +
          `got ${describeValue(collision.value)}; expected ${collision.expected}`,
      );
    }
  }
  for (const [file, problems] of collisions) errors.push(new EnvConfigError(file, problems));
  warnings.push(...reusedVpcRangeWarnings(loaded));
  if (errors.length > 0) {
    errors.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    throw new EnvConfigErrors(errors);
  }
  return {
    configs: loaded.filter((entry) => isSelected(entry.name)).map((entry) => entry.config),
    warnings,
  };
}

/** An invalid env file that a selection left out: its problems, and why synth went on. */
function skippedFileWarning(error: EnvConfigError, selected: readonly string[]): string {
  // EnvConfigError's last line says nothing was synthesized; here the selection still is.
  const problems = error.message.split("\n").slice(0, -1).join("\n");
  return (
    `warning: ${error.file} is invalid and was skipped: ${ENVIRONMENT_SELECTION_VARIABLE}=` +
    `${selected.join(",")} selects only ${selected.join(", ")}. Fix it before the next synth of ` +
    `every environment, which refuses it:\n${problems}`
  );
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
