import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { FUNCTION_NAMES } from "../../functions/shared/function-names";
import { loadEnvConfig, loadEnvConfigs } from "../../src/config/load";
import { EnvironmentStack } from "../../src/stacks/environment-stack";
import { listResources, synth } from "../support/synth";

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

// ---- "Calls in the recovery path", checked against the seed's us-east-1 -> us-west-2 stack ----

const DEPENDS_ON = ["secondary", "target", "source", "primary", "global", "us-east-1"] as const;
type DependsOn = (typeof DEPENDS_ON)[number];

interface CallRow {
  readonly phase: string;
  /** IAM actions named in the call cell, e.g. `rds:FailoverGlobalCluster`. */
  readonly actions: string[];
  /** Functions and Terraform types named in the "made by" cell. */
  readonly functions: string[];
  readonly types: string[];
  readonly dependsOn: string;
  readonly path: string;
  readonly text: string;
}

function callRows(): CallRow[] {
  const section = /## Calls in the recovery path\n([\s\S]*?)\n## /.exec(markdown)?.[1] ?? "";
  const lines = section.split("\n").filter((line) => line.startsWith("| "));
  const [header, ...rows] = lines;
  expect(header).toBe("| phase | call | made by | plane | depends on | in the recovery path |");
  return rows
    .filter((line) => !line.startsWith("| ---"))
    .map((line) => {
      const [phase, call, madeBy, , dependsOn, path] = line
        .slice(2, -2)
        .split(" | ")
        .map((cell) => cell.trim());
      const ticked = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? "");
      return {
        phase: phase ?? "",
        actions: ticked(call ?? "").filter((token) => /^[a-z0-9-]+:[A-Za-z]+$/.test(token)),
        functions: ticked(madeBy ?? "").filter((token) => !token.startsWith("aws_")),
        types: ticked(madeBy ?? "").filter((token) => token.startsWith("aws_")),
        dependsOn: dependsOn ?? "",
        path: path ?? "",
        text: line,
      };
    });
}

const seedConfig = loadEnvConfig(resolve(ROOT, "tests/fixtures/envs/seed.json"), ROOT);
const seed = synth(new EnvironmentStack(Testing.app(), { config: seedConfig }));
const seedProviderRegion = (provider: unknown) =>
  seed.provider?.aws.find((p) => `aws.${p.alias}` === provider)?.region;

/** The actions the seed stack grants a function's role. */
function grantedTo(fn: string): string[] {
  const document = Object.values(seed.data?.aws_iam_policy_document ?? {}).find((d) =>
    (d["//"] as { metadata: { path: string } }).metadata.path.endsWith(
      `/automation/function-${fn}/permissions`,
    ),
  );
  return ((document?.statement as { actions: string[] }[]) ?? []).flatMap((s) => s.actions);
}

describe("docs/architecture.md: calls in the recovery path", () => {
  const rows = callRows();

  it("lists every phase of an automatic failover, from detection to the fence", () => {
    expect([...new Set(rows.map((row) => row.phase))]).toEqual([
      "detection",
      "decision",
      "preflight",
      "promotion",
      "traffic",
      "verify",
      "record",
      "fence",
      "none",
    ]);
    for (const row of rows) expect(DEPENDS_ON, row.text).toContain(row.dependsOn as DependsOn);
  });

  it("names only functions the seed stack deploys, in its secondary region (us-west-2)", () => {
    const named = [...new Set(rows.flatMap((row) => row.functions))].filter((f) => f !== "nobody");
    expect(named.length).toBeGreaterThan(5);
    for (const name of named) {
      expect(FUNCTION_NAMES, name).toContain(name);
      const fn = listResources(seed, "aws_lambda_function").find(
        (candidate) => candidate.function_name === `shopsmart-seed-dr-${name}`,
      );
      expect(fn, name).toBeDefined();
      expect(seedProviderRegion(fn?.provider), name).toBe("us-west-2");
    }
  });

  it("names only actions the function's role is granted, and grants no one the calls it says are not used", () => {
    for (const row of rows) {
      for (const fn of row.functions.filter((f) => f !== "nobody")) {
        const granted = grantedTo(fn);
        for (const action of row.actions) expect(granted, `${fn}: ${row.text}`).toContain(action);
      }
    }
    const unused = rows.filter((row) => row.path.endsWith("not used")).flatMap((r) => r.actions);
    expect(unused).toEqual(["route53:ChangeResourceRecordSets"]);
    for (const fn of FUNCTION_NAMES) {
      for (const action of unused) expect(grantedTo(fn), fn).not.toContain(action);
    }
  });

  it("puts every resource type it names with the region it depends on", () => {
    for (const row of rows) {
      for (const type of row.types) {
        const regions = listResources(seed, type).map((r) => seedProviderRegion(r.provider));
        if (row.dependsOn === "secondary") expect(regions, row.text).toContain("us-west-2");
        else expect(regions.length, row.text).toBeGreaterThan(0);
      }
    }
  });

  it("needs nothing from us-east-1 or the primary to recover from their loss", () => {
    for (const row of rows) {
      if (row.dependsOn === "us-east-1") expect(row.path, row.text).toMatch(/^no\b/);
      if (row.dependsOn === "primary" || row.dependsOn === "source") {
        expect(["detection", "promotion", "fence"], row.text).toContain(row.phase);
        expect(row.path, row.text).toMatch(/votes down|^no\b/);
      }
    }
  });

  it("matches the seed stack: its trigger path (schedule, alarm, rule, functions) has nothing in us-east-1", () => {
    const drRules = listResources(seed, "aws_cloudwatch_event_rule");
    const drAlarms = listResources(seed, "aws_cloudwatch_metric_alarm").filter((alarm) =>
      String(alarm.alarm_name).includes("-dr-"),
    );
    expect(drRules.map((rule) => rule.name)).toEqual(
      expect.arrayContaining([
        "shopsmart-seed-dr-probe-primary",
        "shopsmart-seed-dr-auto-failover",
      ]),
    );
    expect(drAlarms.map((alarm) => alarm.alarm_name)).toEqual(
      expect.arrayContaining(["shopsmart-seed-dr-primary-down"]),
    );
    for (const resource of [
      ...drRules,
      ...drAlarms,
      ...listResources(seed, "aws_lambda_function"),
    ]) {
      expect(seedProviderRegion(resource.provider)).toBe("us-west-2");
    }
  });
});
