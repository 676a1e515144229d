/**
 * `npm run drill`'s report files: every run gets its own drill id, so no run overwrites another's
 * report (the local game day's simulated clock starts at the same instant every run), yet a run
 * whose clock and id source are fixed writes byte-identical reports; a dry run says DRY RUN.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type DrillCliDependencies, runDrillCli } from "../../src/cli/drill";
import { FakeWorld, fakeClock } from "../support/fake-operations-api";

let reportDir: string;

beforeEach(() => {
  reportDir = mkdtempSync(join(tmpdir(), "drill-report-files-"));
});

afterEach(() => {
  rmSync(reportDir, { recursive: true, force: true });
});

async function drill(flags: string[], dependencies: DrillCliDependencies = {}, dir = reportDir) {
  const out: string[] = [];
  const code = await runDrillCli(
    ["--report-dir", dir, ...flags],
    { out: (line) => out.push(line), err: (line) => out.push(line) },
    dependencies,
  );
  return { code, out: out.join("\n") };
}

/** A drill of staging against a scripted API on a clock that starts at 2026-01-05T09:00:00Z. */
function deployed(dependencies: DrillCliDependencies = {}, world = {}) {
  return drill(["--env", "staging", "--hold", "1m"], {
    api: new FakeWorld(world),
    ...fakeClock(),
    ...dependencies,
  });
}

const FIXED_WALL_CLOCK = () => new Date("2026-12-03T12:00:00Z");

describe("drill ids and report files", () => {
  it("gives two drills started in the same second different ids and report files", async () => {
    await deployed();
    await deployed();
    const files = readdirSync(reportDir).sort();
    expect(files).toHaveLength(4);
    for (const file of files) {
      expect(file).toMatch(/^drill-staging-20260105T090000Z-[0-9a-f]{6}\.(json|md)$/);
    }
    expect(new Set(files.map((file) => file.replace(/\.(json|md)$/, ""))).size).toBe(2);
  });

  it("takes the id's last part from the injected source", async () => {
    const { out } = await deployed({ randomIdSuffix: () => "a1b2c3" });
    expect(readdirSync(reportDir).sort()).toEqual([
      "drill-staging-20260105T090000Z-a1b2c3.json",
      "drill-staging-20260105T090000Z-a1b2c3.md",
    ]);
    expect(out).toContain("drill drill-staging-20260105T090000Z-a1b2c3: planned failover");
  });

  it("keeps the local game days of one environment apart: the id has the real start time and a random part", async () => {
    await drill(["--local"], { wallClock: FIXED_WALL_CLOCK });
    await drill(["--local"], { wallClock: FIXED_WALL_CLOCK });
    const reports = readdirSync(reportDir).filter((file) => file.endsWith(".md"));
    expect(reports).toHaveLength(2);
    for (const file of reports)
      expect(file).toMatch(/^drill-staging-20261203T120000Z-[0-9a-f]{6}\.md$/);
    expect(reports[0]).not.toBe(reports[1]);
  });

  it("writes byte-identical reports of a drill whose clock and id source are fixed", async () => {
    const fixed = { randomIdSuffix: () => "000000" };
    const first = mkdtempSync(join(reportDir, "first-"));
    const second = mkdtempSync(join(reportDir, "second-"));
    for (const dir of [first, second]) {
      const out: string[] = [];
      const code = await runDrillCli(
        ["--env", "staging", "--hold", "1m", "--report-dir", dir],
        { out: (line) => out.push(line), err: (line) => out.push(line) },
        { api: new FakeWorld(), ...fakeClock(), ...fixed },
      );
      expect(code).toBe(0);
    }
    const base = "drill-staging-20260105T090000Z-000000";
    for (const extension of [".md", ".json"]) {
      const one = readFileSync(join(first, `${base}${extension}`));
      expect(one.equals(readFileSync(join(second, `${base}${extension}`))), extension).toBe(true);
    }
  });

  it("writes the same local game day report twice when the wall clock and the id source are fixed, but for the operation ids", async () => {
    // The operation ids come from the bundled operations-api handler's crypto.randomBytes, which
    // the game day (src/simulation) does not seed yet; everything the drill CLI adds is fixed.
    const fixed = { wallClock: FIXED_WALL_CLOCK, randomIdSuffix: () => "000000" };
    const first = mkdtempSync(join(reportDir, "first-"));
    const second = mkdtempSync(join(reportDir, "second-"));
    expect((await drill(["--local"], fixed, first)).code).toBe(0);
    expect((await drill(["--local"], fixed, second)).code).toBe(0);
    const base = "drill-staging-20261203T120000Z-000000";
    const withoutOperationIds = (dir: string, extension: string) =>
      readFileSync(join(dir, `${base}${extension}`), "utf8").replace(
        /\bop-(\d{8}T\d{6}Z)-[0-9a-f]{6}\b/g,
        "op-$1-<random>",
      );
    for (const extension of [".md", ".json"]) {
      expect(withoutOperationIds(first, extension), extension).toBe(
        withoutOperationIds(second, extension),
      );
    }
    expect(withoutOperationIds(first, ".md")).toContain(
      "- local game day: AWS simulated; 580 s of simulated time in 0.0 s\n",
    );
  });
});

describe("a dry run's report", () => {
  it("says DRY RUN with no blockers, never PASSED, and exits 0", async () => {
    const { code } = await deployed({ randomIdSuffix: () => "d0d0d0" }, {});
    expect(code).toBe(0);
    const markdown = readFileSync(
      join(reportDir, "drill-staging-20260105T090000Z-d0d0d0.md"),
      "utf8",
    );
    expect(markdown).toContain("### DR drill staging: PASSED");
    const dry = await drill(["--env", "staging", "--dry-run"], {
      api: new FakeWorld(),
      ...fakeClock(),
      randomIdSuffix: () => "d1d1d1",
    });
    expect(dry.code).toBe(0);
    const dryMarkdown = readFileSync(
      join(reportDir, "drill-staging-20260105T090000Z-d1d1d1.md"),
      "utf8",
    );
    expect(dryMarkdown.split("\n")[0]).toBe(
      "### DR drill staging: DRY RUN (plan only, nothing changed): no blockers",
    );
    expect(dryMarkdown).not.toContain("PASSED");
    const report = JSON.parse(
      readFileSync(join(reportDir, "drill-staging-20260105T090000Z-d1d1d1.json"), "utf8"),
    );
    expect(report).toMatchObject({ verdict: "dry-run", dryRun: true, plan: { blockers: [] } });
  });

  it("fails with DRY RUN and its blockers, exiting 1, when the plan has blockers", async () => {
    const { code, out } = await drill(["--env", "staging", "--dry-run"], {
      api: new FakeWorld({ blockers: ["replication lag 400 s is over the 300 s RPO target"] }),
      ...fakeClock(),
      randomIdSuffix: () => "b10c4e",
    });
    expect(code).toBe(1);
    expect(out).toContain(
      "### DR drill staging: DRY RUN (plan only, nothing changed): 1 blocker: replication lag 400 s is over the 300 s RPO target",
    );
    expect(out).not.toContain("PASSED");
  });

  it("says DRY RUN in the local game day too", async () => {
    const { code, out } = await drill(["--local", "--dry-run"], { randomIdSuffix: () => "10ca10" });
    expect(code).toBe(0);
    expect(out).toMatch(
      /### DR drill staging: DRY RUN \(plan only, nothing changed\): no blockers\n/,
    );
  });
});
