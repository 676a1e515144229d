import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(__dirname, "..");

function typescriptFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "cdktf.out" ? [] : typescriptFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

describe("imports", () => {
  const files = [
    join(ROOT, "main.ts"),
    ...["src", "bootstrap"].flatMap((d) => typescriptFiles(join(ROOT, d))),
  ];

  it("never import the @cdktf/provider-aws barrel, which costs ~7 s and ~700 MB per synth", () => {
    const offenders = files.filter((file) =>
      /from\s+["']@cdktf\/provider-aws["']/.test(readFileSync(file, "utf8")),
    );
    expect(offenders.map((f) => relative(ROOT, f))).toEqual([]);
  });

  it("never import a CLI entry module: each runs when it is its bundle's entry, so an imported one would run inside another CLI", () => {
    // An entry runs `if (require.main === module)`; in a bundle (src/app-bundle/run.cjs) every
    // module shares the bundle's `module`, so that holds in each entry bundled.
    const entries = new Set(
      files.filter((file) => readFileSync(file, "utf8").includes("require.main === module")),
    );
    expect(entries.size).toBeGreaterThan(0);
    const offenders = files.flatMap((file) =>
      [...readFileSync(file, "utf8").matchAll(/from\s+["'](\.{1,2}\/[^"']+)["']/g)]
        .map((match) => resolve(dirname(file), `${match[1]}.ts`))
        .filter((imported) => entries.has(imported))
        .map((imported) => `${relative(ROOT, file)} imports ${relative(ROOT, imported)}`),
    );
    expect(offenders).toEqual([]);
  });
});
