import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as esbuild from "esbuild";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  awaitBackgroundPackaging,
  backgroundPackagingExited,
  runIfPackagingWorker,
  startBackgroundPackaging,
} from "../../src/app-bundle/background-packaging.cjs";
import { buildBundle } from "../../src/app-bundle/run.cjs";
import {
  bundleFunctions,
  clearProcessCache,
  lastBundlingRun,
  PROJECT_ROOT,
  startPackaging,
} from "../../src/constructs/automation/bundling";

/** The worker bundle's exports: its own copy of bundling.ts, as run.cjs loads it. */
interface WorkerBundle {
  startPackaging: typeof startPackaging;
  startPackagingAllHandlers(workerScript: string): readonly string[];
}

const ENTRIES = {
  plain: "tests/fixtures/automation/handler.ts",
  sdk: "tests/fixtures/automation/sdk-handler.ts",
};
const HANDLE = Symbol.for("shopsmart-dr.background-lambda-packaging");

const scratch = mkdtempSync(join(tmpdir(), "shopsmart-packaging-worker-test-"));
/** The worker's bundle resolves esbuild from node_modules, as run.cjs's bundles do from there. */
const bundleDir = mkdtempSync(
  join(PROJECT_ROOT, "node_modules", ".cache", "packaging-worker-test-"),
);
let workerScript: string;
let bundled: WorkerBundle;

beforeAll(async () => {
  // The worker runs packaging-worker.ts from its bundle, as run.cjs starts it.
  workerScript = await buildBundle(
    esbuild,
    "src/constructs/automation/packaging-worker.ts",
    bundleDir,
    "sources",
  );
  bundled = createRequire(__filename)(workerScript) as WorkerBundle;
});

afterAll(() => {
  delete (globalThis as Record<symbol, unknown>)[HANDLE];
  clearProcessCache();
  rmSync(scratch, { recursive: true, force: true });
  rmSync(bundleDir, { recursive: true, force: true });
});

/** A worker script in the scratch directory. */
function script(name: string, lines: string[]): string {
  const path = join(scratch, name);
  writeFileSync(path, [...lines, ""].join("\n"));
  return path;
}

const REQUIRE_HANDOFF = `const { runIfPackagingWorker } = require(${JSON.stringify(join(PROJECT_ROOT, "src/app-bundle/background-packaging.cjs"))});`;

describe("Lambda packaging started at launch", () => {
  it("builds in a worker thread what the caches lack, and the synth's own call, from another copy of the module as in run.cjs, builds nothing and gets the same packages", async () => {
    const cacheDir = join(scratch, "cache");
    clearProcessCache();
    expect(bundled.startPackaging(ENTRIES, workerScript, { cacheDir })).toEqual(["plain", "sdk"]);

    const packages = bundleFunctions(ENTRIES, { cacheDir });
    expect(lastBundlingRun().builtFunctions).toEqual([]);
    // Handed over with the zips on disk; the cache's manifests follow before the worker exits.
    expect(awaitBackgroundPackaging()?.packages).toEqual(packages);
    await backgroundPackagingExited();
    clearProcessCache();
    expect(bundled.startPackaging(ENTRIES, "/no/such/worker.js", { cacheDir })).toEqual([]);

    clearProcessCache();
    const direct = bundleFunctions(ENTRIES, { cacheDir: join(scratch, "direct") });
    expect(lastBundlingRun().builtFunctions).toEqual(["plain", "sdk"]);
    for (const name of Object.keys(ENTRIES)) {
      expect(packages[name]?.zipSha256Hex, name).toBe(direct[name]?.zipSha256Hex);
    }
  });

  it("starts no worker when every package is cached, and the synth takes what the launcher's copy found without looking again", () => {
    const cacheDir = join(scratch, "cache");
    clearProcessCache();
    expect(bundled.startPackaging(ENTRIES, "/no/such/worker.js", { cacheDir })).toEqual([]);
    // Gone from disk: only the lookup the launcher's copy made can answer now.
    const moved = join(scratch, "cache-moved");
    renameSync(cacheDir, moved);
    try {
      const packages = bundleFunctions(ENTRIES, { cacheDir });
      expect(lastBundlingRun().builtFunctions).toEqual([]);
      expect(Object.keys(packages).sort()).toEqual(["plain", "sdk"]);
    } finally {
      renameSync(moved, cacheDir);
    }
  });

  it("starts no worker without a disk cache, which is the only way its packages reach the synth", () => {
    expect(startPackaging(ENTRIES, "/no/such/worker.js", { cacheDir: false })).toEqual([]);
  });

  it("gives the synth what the worker handed over while the worker is still busy, without reading the cache", () => {
    const handedOver = {
      name: "plain",
      entry: ENTRIES.plain,
      zipPath: join(scratch, "handed-over.zip"),
      zipSha256Base64: "aGFuZGVkIG92ZXI=",
      zipSha256Hex: "68616e646564206f766572",
      zipBytes: 1,
      bundleBytes: 1,
      sourceMapBytes: 1,
      inputBytes: {},
    };
    // The worker stays busy until the test releases it, for longer than the test may take.
    const release = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
    startBackgroundPackaging(
      script("hands-over.cjs", [
        REQUIRE_HANDOFF,
        `runIfPackagingWorker((request, handOver) => { handOver({ plain: ${JSON.stringify(handedOver)} }); Atomics.wait(request.release, 0, 0, 60000); });`,
      ]),
      { release },
    );
    clearProcessCache();
    try {
      const packages = bundleFunctions(
        { plain: ENTRIES.plain },
        { cacheDir: join(scratch, "empty") },
      );
      expect(lastBundlingRun().builtFunctions).toEqual([]);
      expect(packages.plain).toEqual(handedOver);
    } finally {
      Atomics.store(release, 0, 1);
      Atomics.notify(release, 0);
    }
  }, 20_000);

  it("keeps the process alive until a worker that handed over early has finished, and warns of its later failure", () => {
    const marker = join(scratch, "cache-written");
    const worker = script("writes-after-hand-over.cjs", [
      REQUIRE_HANDOFF,
      `runIfPackagingWorker((request, handOver) => {
        handOver({});
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
        require("node:fs").writeFileSync(${JSON.stringify(marker)}, "manifests");
        throw new Error("disk full");
      });`,
    ]);
    const launcher = spawnSync(
      process.execPath,
      [
        "-e",
        `const b = require(${JSON.stringify(join(PROJECT_ROOT, "src/app-bundle/background-packaging.cjs"))});
        b.startBackgroundPackaging(${JSON.stringify(worker)}, {});
        console.log(JSON.stringify(b.awaitBackgroundPackaging()));`,
      ],
      { encoding: "utf8" },
    );
    expect(launcher.status).toBe(0);
    expect(launcher.stdout).toBe('{"packages":{}}\n');
    expect(existsSync(marker)).toBe(true);
    expect(launcher.stderr).toBe(
      "warning: the Lambda packaging worker failed after it answered the synth (disk full); the next synth may build the packages again\n",
    );
  });

  it("reports a failed worker, and the synth's own call builds the packages and says the head start was lost", () => {
    const failing = script("failing-worker.cjs", [
      REQUIRE_HANDOFF,
      'runIfPackagingWorker(() => { throw new Error("esbuild went away"); });',
    ]);
    startBackgroundPackaging(failing, {});
    expect(awaitBackgroundPackaging()).toEqual({ error: "esbuild went away" });
    // Settled once: later calls in the thread do not wait again.
    expect(awaitBackgroundPackaging()).toEqual({ error: "esbuild went away" });

    clearProcessCache();
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      bundleFunctions({ plain: ENTRIES.plain }, { cacheDir: join(scratch, "after-failure") });
      expect(lastBundlingRun().builtFunctions).toEqual(["plain"]);
      expect(stderr.mock.calls.map(([text]) => String(text))).toEqual([
        "warning: packaging the Lambda functions at launch failed (esbuild went away); the synth built them itself\n",
      ]);
    } finally {
      stderr.mockRestore();
    }
  });

  it("lets no error the worker throws after it reported end the synth (an unhandled worker error would end the process)", () => {
    startBackgroundPackaging(
      script("late-throw.cjs", [
        REQUIRE_HANDOFF,
        'runIfPackagingWorker(() => { setTimeout(() => { throw new Error("late"); }, 10); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50); });',
      ]),
      {},
    );
    expect(awaitBackgroundPackaging()).toEqual({});
  });

  it("reports a worker script that cannot load, or runs no job, instead of waiting for it", () => {
    const started = Date.now();
    startBackgroundPackaging(script("unloadable.cjs", ['require("no-such-package-zz9");']), {});
    expect(awaitBackgroundPackaging()?.error).toMatch(/Cannot find module 'no-such-package-zz9'/);
    startBackgroundPackaging(script("idle.cjs", ["// runs no job"]), {});
    expect(awaitBackgroundPackaging()?.error).toMatch(/idle\.cjs does not run the packaging job$/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("does nothing outside a packaging worker (the main thread, a test runner's worker)", () => {
    let ran = false;
    runIfPackagingWorker(() => {
      ran = true;
    });
    expect(ran).toBe(false);
  });
});
