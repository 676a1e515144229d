import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  BundlingError,
  type PackageFiles,
  PRUNE_AFTER_MS,
  pruneUnreferencedZips,
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
  it("removes zips no manifest references once they are an hour old, and keeps the rest", () => {
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
      zip("a1", 2 * PRUNE_AFTER_MS); // referenced
      zip("b2", 2 * PRUNE_AFTER_MS); // replaced by a rebuild
      zip("c3", 60_000); // written a minute ago, its manifest maybe not yet
      expect(pruneUnreferencedZips(cacheDir)).toEqual(["b2"]);
      expect(readdirSync(join(cacheDir, "zips")).sort()).toEqual(["a1", "c3"]);
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it("leaves a cache without zips or manifests alone", () => {
    expect(pruneUnreferencedZips(join(tmpdir(), "shopsmart-no-such-cache"))).toEqual([]);
  });
});
