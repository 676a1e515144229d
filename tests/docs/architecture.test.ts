import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { loadEnvConfigs } from "../../src/config/load";
import { EnvironmentStack } from "../../src/stacks/environment-stack";
import { synth } from "../support/synth";

/**
 * docs/architecture.md draws the prod stack; this keeps the drawing true: every Terraform type
 * named inside a region's box must be synthesized with that box's provider.
 */

const ROOT = resolve(__dirname, "../..");
const markdown = readFileSync(resolve(ROOT, "docs/architecture.md"), "utf8");
const mermaid = /```mermaid\n([\s\S]*?)```/.exec(markdown)?.[1] ?? "";

/** Terraform types named inside `subgraph <id>[...] ... end`. */
function typesIn(subgraph: string): string[] {
  const body = new RegExp(`subgraph ${subgraph}\\[[^\\n]*\\n([\\s\\S]*?)\\n\\s*end\\n`).exec(
    mermaid,
  )?.[1];
  if (body === undefined) throw new Error(`docs/architecture.md has no subgraph ${subgraph}`);
  return [...new Set(body.match(/aws_[a-z0-9_]+/g) ?? [])].sort();
}

const prod = loadEnvConfigs(resolve(ROOT, "envs")).find((c) => c.environment === "prod");
if (!prod) throw new Error("envs/prod.json is missing");
const json = synth(new EnvironmentStack(Testing.app(), { config: prod }));

function providersOfType(type: string): string[] {
  return Object.values(json.resource[type] ?? {}).map((r) => r.provider as string);
}

describe("docs/architecture.md", () => {
  it("has a Mermaid diagram", () => {
    expect(mermaid).toContain("flowchart");
  });

  it.each([
    ["global", "aws.primary"],
    ["primary", "aws.primary"],
    ["secondary", "aws.secondary"],
    ["health", "aws.health-metrics"],
  ])("draws in the %s box only resources the stack creates with %s", (subgraph, provider) => {
    const types = typesIn(subgraph);
    expect(types.length).toBeGreaterThan(0);
    const missing = types.filter((type) => !providersOfType(type).includes(provider));
    expect(missing).toEqual([]);
  });
});
