import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
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
});
