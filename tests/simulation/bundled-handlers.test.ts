/**
 * The local game day runs the handlers as esbuild bundles with the AWS SDK left to node_modules,
 * so that the simulator (bound to node_modules' SDK client classes) answers them.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { gameDayBundleDir, loadBundledHandlers } from "../../src/simulation/bundled-handlers";
import { HANDLER_NAMES } from "../../src/simulation/workflow";

const ROOT = resolve(__dirname, "../..");

describe("loadBundledHandlers", () => {
  it("bundles and loads every handler; the bundles hold the project's code and require the SDK from node_modules", () => {
    const handlers = loadBundledHandlers(ROOT);
    expect(Object.keys(handlers).sort()).toEqual([...HANDLER_NAMES].sort());
    for (const handler of Object.values(handlers)) expect(typeof handler).toBe("function");

    const bundle = readFileSync(join(gameDayBundleDir(ROOT), "promote-database/index.js"), "utf8");
    // The orchestration is inside the bundle...
    expect(bundle).toContain("SwitchoverGlobalClusterCommand");
    expect(bundle).toContain("SHOPSMART_DR_SETTINGS");
    // ...the SDK is not: it is required, and so reaches the classes the simulator binds to.
    expect(bundle).toMatch(/require\("@aws-sdk\/client-rds"\)/);
    expect(bundle).not.toMatch(/require\("\.\.?\/.*functions/);
  });

  it("keeps each checkout's bundles apart, also when checkouts share node_modules", () => {
    const here = gameDayBundleDir("/work/a");
    const there = gameDayBundleDir("/work/b");
    expect(here.startsWith("/work/a/node_modules/.cache/shopsmart-dr-game-day/")).toBe(true);
    expect(there).not.toBe(here.replace("/work/a/", "/work/b/"));
  });
});
