import { randomBytes } from "node:crypto";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  BundlingError,
  bundleFunctions,
  clearProcessCache,
  lastBundlingRun,
  type PackageFiles,
  PRUNE_AFTER_MS,
  pruneUnreferencedZips,
  STALE_MANIFEST_MS,
  zipDeterministically,
  zipEachDeterministically,
} from "../../src/constructs/automation/bundling";

/** Packages of different sizes, with incompressible and compressible parts, like bundle + map. */
function packages(count: number): PackageFiles[] {
  return Array.from({ length: count }, (_, index) => ({
    "index.js": new Uint8Array(randomBytes(20_000 + index * 7_000)),
    "index.js.map": new TextEncoder().encode(
      `{"mappings":"${"AAAA,".repeat(5_000 + index * 900)}"}`,
    ),
  }));
}

describe("zipping packages on several threads", () => {
  it.each([1, 2, 4])(
    "gives, with %i thread(s), each package the bytes zipDeterministically gives it",
    (threads) => {
      const input = packages(7);
      const zips = zipEachDeterministically(input, threads);
      expect(zips).toHaveLength(input.length);
      zips.forEach((zip, index) => {
        expect(Buffer.from(zip).equals(Buffer.from(zipDeterministically(input[index])))).toBe(true);
      });
    },
  );

  it("keeps the packages' order, whichever thread zipped each", () => {
    const input = packages(5);
    const reversed = [...input].reverse();
    const zips = zipEachDeterministically(input, 2);
    const zipsOfReversed = zipEachDeterministically(reversed, 2);
    expect(zipsOfReversed.map((zip) => Buffer.from(zip).toString("base64"))).toEqual(
      [...zips].reverse().map((zip) => Buffer.from(zip).toString("base64")),
    );
  });

  it("reports a failure in a worker thread as a BundlingError instead of waiting for it", () => {
    // fflate refuses a file name over 65,535 bytes; the smallest package goes to a worker's lane.
    const broken: PackageFiles = { ["x".repeat(70_000)]: new Uint8Array(1) };
    const input = [...packages(1), broken];
    expect(() => zipEachDeterministically(input, 2)).toThrow(BundlingError);
    expect(() => zipEachDeterministically(input, 2)).toThrow(/Zipping a Lambda package failed/);
  });

  it("zips nothing to nothing", () => {
    expect(zipEachDeterministically([], 4)).toEqual([]);
  });
});

describe("pruning the package cache", () => {
  it("removes manifests unused for 30 days, then zips no manifest references once they are an hour old", () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "shopsmart-prune-"));
    try {
      const zip = (sha: string, ageMs: number) => {
        mkdirSync(join(cacheDir, "zips", sha), { recursive: true });
        writeFileSync(join(cacheDir, "zips", sha, "finish.zip"), "zip");
        const time = new Date(Date.now() - ageMs);
        utimesSync(join(cacheDir, "zips", sha), time, time);
      };
      mkdirSync(join(cacheDir, "manifests"));
      writeFileSync(join(cacheDir, "manifests", "k.json"), JSON.stringify({ zipSha256Hex: "a1" }));
      writeFileSync(join(cacheDir, "manifests", "k.input-bytes.json"), "{}");
      writeFileSync(join(cacheDir, "manifests", "half.json"), '{"zipSha');
      // A manifest no synth used for longer than STALE_MANIFEST_MS (an old lock file's key).
      const stale = join(cacheDir, "manifests", "old.json");
      writeFileSync(stale, JSON.stringify({ zipSha256Hex: "d4" }));
      writeFileSync(join(cacheDir, "manifests", "old.input-bytes.json"), "{}");
      const longAgo = new Date(Date.now() - STALE_MANIFEST_MS - 60_000);
      utimesSync(stale, longAgo, longAgo);
      zip("a1", 2 * PRUNE_AFTER_MS); // referenced
      zip("b2", 2 * PRUNE_AFTER_MS); // replaced by a rebuild
      zip("c3", 60_000); // written a minute ago, its manifest maybe not yet
      zip("d4", STALE_MANIFEST_MS); // referenced by the stale manifest only
      expect(pruneUnreferencedZips(cacheDir).sort()).toEqual(["b2", "d4"]);
      expect(readdirSync(join(cacheDir, "zips")).sort()).toEqual(["a1", "c3"]);
      expect(readdirSync(join(cacheDir, "manifests")).sort()).toEqual([
        "half.json",
        "k.input-bytes.json",
        "k.json",
      ]);
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it("marks a manifest used each time a synth takes its package from the cache", () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "shopsmart-touch-"));
    try {
      const entries = { fixture: "tests/fixtures/automation/handler.ts" };
      bundleFunctions(entries, { cacheDir });
      const [manifest] = readdirSync(join(cacheDir, "manifests")).filter(
        (file) => !file.endsWith(".input-bytes.json"),
      );
      const path = join(cacheDir, "manifests", manifest as string);
      const longAgo = new Date(Date.now() - STALE_MANIFEST_MS);
      utimesSync(path, longAgo, longAgo);
      clearProcessCache();
      bundleFunctions(entries, { cacheDir });
      expect(lastBundlingRun().builtFunctions).toEqual([]);
      expect(Date.now() - statSync(path).mtimeMs).toBeLessThan(60_000);
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it("removes the temporary files of writes that were interrupted an hour ago or more, and no younger ones", () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "shopsmart-partials-"));
    try {
      const file = (path: string, ageMs: number) => {
        mkdirSync(join(cacheDir, path, ".."), { recursive: true });
        writeFileSync(join(cacheDir, path), "half");
        const time = new Date(Date.now() - ageMs);
        utimesSync(join(cacheDir, path), time, time);
      };
      const old = 2 * PRUNE_AFTER_MS;
      file("manifests/k.json.41-1.partial", old);
      file("manifests/j.json.42-0.partial", 60_000); // being written
      file("zips/a1/finish.zip.41-1.partial", old);
      file("zips/a1/finish.zip", old);
      writeFileSync(join(cacheDir, "manifests", "k.json"), JSON.stringify({ zipSha256Hex: "a1" }));
      utimesSync(
        join(cacheDir, "zips", "a1"),
        new Date(Date.now() - old),
        new Date(Date.now() - old),
      );
      expect(pruneUnreferencedZips(cacheDir)).toEqual([]);
      expect(readdirSync(join(cacheDir, "manifests")).sort()).toEqual([
        "j.json.42-0.partial",
        "k.json",
      ]);
      expect(readdirSync(join(cacheDir, "zips", "a1"))).toEqual(["finish.zip"]);
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it("leaves a cache without zips or manifests alone", () => {
    expect(pruneUnreferencedZips(join(tmpdir(), "shopsmart-no-such-cache"))).toEqual([]);
  });
});
