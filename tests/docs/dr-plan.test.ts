import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { DRILL_PHASES } from "../../functions/orchestration/drill";
import { loadEnvConfigs } from "../../src/config/load";
import { GAME_DAY_FAULTS } from "../../src/simulation/game-day";
import { EnvironmentStack } from "../../src/stacks/environment-stack";
import { synth } from "../support/synth";
import {
  environments,
  flagsOf,
  headings,
  npmCommands,
  ROOT,
  read,
  scripts,
  unlistedFlags,
} from "./markdown";

/**
 * docs/dr-plan.md is what on-call engineers copy from during an outage; this keeps it true to the
 * code: it opens with the three commands of a failover, every npm script exists, every flag is one
 * the CLI accepts, every environment variable is read by the code, and every prod resource name it
 * mentions is synthesized. (tests/docs/pages.test.ts checks the same of every page, and its links.)
 */

const markdown = read("docs/dr-plan.md");
const commands = npmCommands(markdown);

/** The "Fail over now" box: the blockquote right under the heading of that name. */
const box = (/## Fail over now\n\n((?:>.*\n)+)/.exec(markdown)?.[1] ?? "")
  .split("\n")
  .map((line) => line.replace(/^> ?/, ""))
  .join("\n");

describe("docs/dr-plan.md", () => {
  it("opens with the Fail over now box: prerequisites, then status, dry run, failover", () => {
    expect(
      headings(markdown)
        .slice(0, 2)
        .map((h) => h.text),
    ).toEqual(["DR plan (runbook)", "Fail over now"]);
    for (const prerequisite of [
      "npm ci",
      "AWS_REGION",
      "SHOPSMART_DR_API_URL",
      "execute-api:Invoke",
    ]) {
      expect(box, prerequisite).toContain(prerequisite);
    }
    const steps = npmCommands(box);
    expect(steps.map((step) => step.script)).toEqual(["status", "failover", "failover"]);
    expect(flagsOf(steps[1]?.args ?? "")).toEqual(["--env", "--mode", "--reason", "--dry-run"]);
    expect(flagsOf(steps[2]?.args ?? "")).toEqual(["--env", "--mode", "--reason", "--watch"]);
    expect(steps[1]?.args.replace(" --dry-run", "")).toBe(steps[2]?.args.replace(" --watch", ""));
  });

  it("mentions npm scripts", () => {
    expect(commands.length).toBeGreaterThan(10);
  });

  it("names only npm scripts that package.json defines", () => {
    const unknown = commands.filter((command) => scripts[command.script] === undefined);
    expect(unknown.map((command) => command.text)).toEqual([]);
  });

  it("uses only flags each CLI's usage lists", () => {
    expect(unlistedFlags(commands)).toEqual([]);
  });

  it("passes --env and npm run state only environments that envs/ holds", () => {
    const named = commands.flatMap((command) => {
      const env =
        command.script === "state"
          ? /^\s*([a-z0-9-]+)/.exec(command.args)?.[1]
          : /--env ([a-z0-9-]+)/.exec(command.args)?.[1];
      return env === undefined ? [] : [env];
    });
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((env) => !environments.includes(env))).toEqual([]);
  });

  it("names only game-day faults the simulation has", () => {
    const faults = [...markdown.matchAll(/--fault ([a-z0-9-]+)/g)].map((match) => match[1]);
    const section = /### Game-day faults\n([\s\S]*?)\n###/.exec(markdown)?.[1] ?? "";
    const inTable = [...section.matchAll(/^\| `([a-z][a-z0-9-]*)` \|/gm)].map((match) => match[1]);
    expect(faults.length).toBeGreaterThan(0);
    expect(
      faults.filter((fault) => !(GAME_DAY_FAULTS as readonly string[]).includes(fault ?? "")),
    ).toEqual([]);
    expect(inTable.sort()).toEqual([...GAME_DAY_FAULTS].sort());
  });

  it("names only SHOPSMART_* variables the code reads", () => {
    const sources = [
      "src/cli/operations-api-endpoint.ts",
      "src/cli/state.ts",
      "src/stacks/environment-stack.ts",
      "main.ts",
    ]
      .map((file) => readFileSync(resolve(ROOT, file), "utf8"))
      .join("\n");
    const variables = [...new Set(markdown.match(/SHOPSMART_[A-Z_]+/g) ?? [])];
    expect(variables.length).toBeGreaterThan(0);
    expect(variables.filter((name) => !sources.includes(name))).toEqual([]);
  });

  it("shows a drill report with the phases in the driver's order", () => {
    const excerpt = /### DR drill [\s\S]*?```/.exec(markdown)?.[0] ?? "";
    const phases = [...excerpt.matchAll(/^\| ([a-z-]+) \| (?:succeeded|failed|skipped) \|/gm)].map(
      (match) => match[1],
    );
    expect(phases).toEqual([...DRILL_PHASES]);
    const renderer = readFileSync(resolve(ROOT, "functions/orchestration/drill-report.ts"), "utf8");
    for (const header of [
      "| measure | measured | target | result |",
      "| phase | status | duration | detail |",
    ]) {
      expect(excerpt).toContain(header);
      expect(renderer).toContain(header);
    }
  });

  it("names only prod resources and outputs the prod stack synthesizes", () => {
    const prod = loadEnvConfigs(resolve(ROOT, "envs")).find(
      (config) => config.environment === "prod",
    );
    if (!prod) throw new Error("envs/prod.json is missing");
    const json = synth(new EnvironmentStack(Testing.app(), { config: prod }));
    const synthesized = JSON.stringify(json);
    const names = [...new Set(markdown.match(/shopsmart-prod-[a-z0-9-]*[a-z0-9]/g) ?? [])];
    expect(names.length).toBeGreaterThan(10);
    expect(names.filter((name) => !synthesized.includes(name))).toEqual([]);

    const outputs = [
      ...new Set(markdown.match(/\b[a-z]+(?:_[a-z]+)*_(?:url|arn|bucket)\b/g) ?? []),
    ];
    expect(outputs.length).toBeGreaterThan(0);
    expect(outputs.filter((name) => json.output?.[name] === undefined)).toEqual([]);
  });
});
