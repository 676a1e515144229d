import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  BundlingError,
  type PackageFiles,
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
