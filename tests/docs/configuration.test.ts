import { describe, expect, it } from "vitest";
import { envConfigSchema } from "../../src/config/schema";
import { GUARDRAILS } from "../../src/guardrails/pack";
import { read } from "./markdown";

/**
 * docs/configuration.md is the env-file reference: its field table names every top-level field
 * the schema has (and no other), its guardrail table every rule of the pack, and its variable
 * table every SHOPSMART_* variable the app (main.ts) reads.
 */

const markdown = read("docs/configuration.md");

/** The body of a `## <heading>` section, up to the next `## `. */
function section(heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`docs/configuration.md has no section "${heading}"`);
  const end = markdown.indexOf("\n## ", start + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
}

/** The first cell of each table row in `text` (header and separator rows left out). */
function firstCells(text: string): string[] {
  return text
    .split("\n")
    .filter((line) => line.startsWith("| ") && !line.startsWith("| ---"))
    .slice(1)
    .map((line) => line.slice(2, line.indexOf(" |")));
}

describe("docs/configuration.md", () => {
  it("names every top-level env-file field in its field table, and no other", () => {
    const named = firstCells(section("Configure an environment")).flatMap((cell) =>
      [...cell.matchAll(/`([a-zA-Z]+)[^`]*`/g)].map((match) => match[1] ?? ""),
    );
    expect([...new Set(named)].sort()).toEqual(Object.keys(envConfigSchema.shape).sort());
  });

  it("lists every guardrail rule of the pack", () => {
    const listed = firstCells(section("Guardrails")).flatMap((cell) => {
      const match = /^(SS-[A-Z0-9]+)-([\d /]+)$/.exec(cell);
      if (!match) return [];
      return (match[2] ?? "").split("/").map((n) => `${match[1]}-${n.trim()}`);
    });
    expect(listed.sort()).toEqual(GUARDRAILS.map((rule) => rule.id).sort());
  });

  it("lists every SHOPSMART_* variable the app reads", () => {
    const table = section("Environment variables and environment selection");
    const readByApp = [...new Set(read("main.ts").match(/SHOPSMART_[A-Z_]+/g) ?? [])];
    expect(readByApp.length).toBeGreaterThan(0);
    expect(readByApp.filter((name) => !table.includes(`| \`${name}\` |`))).toEqual([]);
  });
});
