import { describe, expect, it } from "vitest";
import { GUARDRAILS } from "../../src/guardrails/pack";
import { headings, links, markdownPages, read, scripts } from "./markdown";

/**
 * README.md is the first screen a newcomer sees: short, the sections of a first hour in order,
 * a link to every task's page, and a plain word on cdktf being archived. The reference lives in
 * docs/ (tests/docs/pages.test.ts checks that every link resolves).
 */

const README = read("README.md");
const MAX_LINES = 180;

/** The first-screen sections, in this order, before anything else. */
const FIRST_SECTIONS = [
  "Set up",
  "See it fail over",
  "Synthesize",
  "Deploy in five steps",
  "Where to read on",
];

/** Each user task, and the page (and heading) the README's first screen sends it to. */
const TASKS: Record<string, string> = {
  synthesize: "#synthesize",
  deploy: "docs/deploy.md",
  "inspect state": "docs/operate.md#inspect-state-with-plain-terraform",
  "fail over": "docs/operate.md#fail-over-and-fail-back",
  "fail back": "docs/operate.md#fail-back",
  drill: "docs/drill.md",
  troubleshoot: "docs/troubleshooting.md",
};

/** What is above the first section: the intro a first screen shows. */
const firstScreen = README.slice(0, README.indexOf("\n## "));

describe("README.md", () => {
  it(`is under ${MAX_LINES} lines`, () => {
    expect(README.split("\n").length).toBeLessThan(MAX_LINES);
  });

  it("starts with the first-screen sections, in order", () => {
    const sections = headings(README)
      .filter((heading) => heading.level === 2)
      .map((heading) => heading.text);
    expect(sections.slice(0, FIRST_SECTIONS.length)).toEqual(FIRST_SECTIONS);
  });

  it("links every user task from its first screen, and the on-call engineer to Fail over now", () => {
    const onScreen = links("README.md").filter((link) => firstScreen.includes(`(${link.target})`));
    for (const [task, target] of Object.entries(TASKS)) {
      expect(
        onScreen.some((link) => link.text === task && link.target === target),
        task,
      ).toBe(true);
    }
    expect(onScreen.map((link) => link.target)).toContain("docs/dr-plan.md#fail-over-now");
  });

  it("links every page of docs/", () => {
    const targets = links("README.md").map((link) => link.target.split("#")[0]);
    const pages = markdownPages().filter((page) => page !== "README.md");
    expect(pages.filter((page) => !targets.includes(page))).toEqual([]);
  });

  it("shows the two set-up commands and the local drill", () => {
    const setUp = /## Set up\n([\s\S]*?)\n## /.exec(README)?.[1] ?? "";
    expect(setUp).toMatch(/^npm ci\b/m);
    expect(setUp).toMatch(/^npm test\b/m);
    expect(scripts.test).toBeDefined();
    expect(README).toMatch(/^npm run drill -- --local$/m);
  });

  it("quotes synth's guardrail summary with the pack's rule count, here and in the reference", () => {
    for (const page of ["README.md", "docs/configuration.md"]) {
      const counts = [...read(page).matchAll(/Guardrails: (\d+) rules checked/g)].map((m) => m[1]);
      expect(counts, page).toEqual([String(GUARDRAILS.length)]);
    }
  });

  it("says plainly that cdktf is archived and what the move to its fork renames", () => {
    const section = /## cdktf is archived[^\n]*\n([\s\S]*)$/.exec(README)?.[1] ?? "";
    expect(firstScreen).toMatch(/cdktf is archived/i);
    const dependencies = Object.keys({
      ...(JSON.parse(read("package.json")) as { dependencies: object }).dependencies,
      ...(JSON.parse(read("package.json")) as { devDependencies: object }).devDependencies,
    }).filter((name) => /cdktf/.test(name));
    expect(dependencies.length).toBeGreaterThan(0);
    for (const name of [
      ...dependencies,
      "cdktn",
      "cdktn-cli",
      "@cdktn/provider-aws",
      "cdktf.json",
    ]) {
      expect(section, name).toContain(`\`${name}\``);
    }
    const sources = links("README.md").filter(
      (link) => section.includes(`(${link.target})`) && link.target.startsWith("https://"),
    );
    expect(sources.length).toBeGreaterThanOrEqual(2);
  });
});
