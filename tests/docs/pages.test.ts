import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import {
  brokenLink,
  environments,
  links,
  markdownPages,
  npmCommands,
  prose,
  ROOT,
  read,
  scripts,
  unlistedFlags,
} from "./markdown";

/**
 * Every page a newcomer or an on-call engineer reads (README.md and docs/*.md): its links lead
 * somewhere, its commands run (npm scripts that exist, flags the CLI accepts, environments that
 * envs/ holds, variables the code reads), and it names no document or issue the repository does
 * not have.
 */

const pages = markdownPages();

/** Every file of the code the SHOPSMART_* variables may be read in. */
function codeFiles(dir: string): string[] {
  return readdirSync(resolve(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(resolve(ROOT, path)).isDirectory()) return codeFiles(path);
    return /\.(ts|cjs|js|ya?ml)$/.test(name) ? [path] : [];
  });
}
const code = ["main.ts", ...codeFiles("src"), ...codeFiles("functions"), ...codeFiles(".github")]
  .map((file) => readFileSync(resolve(ROOT, file), "utf8"))
  .join("\n");

describe("docs pages", () => {
  it("are README.md and the pages of docs/", () => {
    expect(pages).toEqual(
      expect.arrayContaining([
        "README.md",
        "docs/architecture.md",
        "docs/configuration.md",
        "docs/deploy.md",
        "docs/develop.md",
        "docs/dr-plan.md",
        "docs/drill.md",
        "docs/operate.md",
        "docs/troubleshooting.md",
      ]),
    );
  });

  it("link only to files and headings that exist", () => {
    const all = pages.flatMap((page) => links(page));
    expect(all.length).toBeGreaterThan(100);
    expect(all.map(brokenLink).filter((problem) => problem !== undefined)).toEqual([]);
  });

  it.each(pages)("%s names only npm scripts that package.json defines", (page) => {
    const unknown = npmCommands(read(page)).filter((command) => !scripts[command.script]);
    expect(unknown.map((command) => command.text)).toEqual([]);
  });

  it.each(pages)("%s uses only flags each CLI's usage lists", (page) => {
    expect(unlistedFlags(npmCommands(read(page)))).toEqual([]);
  });

  it.each(pages)(
    "%s passes --env, npm run state and cdktf only environments envs/ holds",
    (page) => {
      const markdown = read(page);
      const named = [
        ...npmCommands(markdown).flatMap((command) => {
          const env =
            command.script === "state"
              ? /^\s*([a-z0-9-]+)/.exec(command.args)?.[1]
              : /--env ([a-z0-9-]+)(?![a-z0-9./-])/.exec(command.args)?.[1];
          return env === undefined ? [] : [env];
        }),
        ...[
          ...markdown.matchAll(/cdktf (?:-- )?(?:diff|deploy|destroy) shopsmart-([a-z0-9-]+)/g),
        ].map((match) => match[1] ?? ""),
      ];
      expect(named.filter((env) => !environments.includes(env) && env !== "<env>")).toEqual([]);
    },
  );

  it.each(pages)("%s names only SHOPSMART_* variables the code reads", (page) => {
    const variables = [...new Set(read(page).match(/SHOPSMART_[A-Z_]+/g) ?? [])];
    expect(variables.filter((name) => !code.includes(name))).toEqual([]);
  });

  it.each(pages)("%s cites no issue numbers or documents the repository does not hold", (page) => {
    const text = prose(read(page)).replace(/\]\([^)]*\)/g, "]()");
    const found = [
      ...(text.match(/\bissues?[ -]#?\d+/gi) ?? []),
      ...(text.match(/(?<![\w/.-])#\d+\b/g) ?? []),
      ...(text.match(/\bSPEC\b/g) ?? []),
    ];
    expect(found).toEqual([]);
  });
});
