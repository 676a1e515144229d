import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parseEnvConfig } from "../src/config/load";
import { EnvConfigError } from "../src/errors";

/**
 * `activeRegion` names a region role, not a region id: its message lists both values and says when
 * to use `secondary` (issue 16, point 5). Kept apart from tests/config.test.ts so it can be moved
 * there as one block.
 */

const PROD = resolve(__dirname, "../envs/prod.json");

function prodWithActiveRegion(value: unknown): Record<string, unknown> {
  const raw = JSON.parse(readFileSync(PROD, "utf8")) as Record<string, unknown>;
  raw.activeRegion = value;
  return raw;
}

function errorThrownBy(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error, but none was thrown");
}

describe("activeRegion", () => {
  it("fails on a region id, naming the field, both roles and when to use secondary", () => {
    const error = errorThrownBy(() =>
      parseEnvConfig(prodWithActiveRegion("us-west-2"), "envs/prod.json"),
    );
    expect(error).toBeInstanceOf(EnvConfigError);
    expect(error.message).toEqual(
      [
        "Invalid environment config envs/prod.json (1 problem):",
        '  - activeRegion: got "us-west-2"; expected "primary" or "secondary", the role of the region that serves traffic (not a region id); set "secondary" after a failover so a re-apply keeps regions.secondary serving',
        "Fix the file and run synth again; nothing was synthesized.",
      ].join("\n"),
    );
  });

  it("fails on a value of the wrong type with the same guidance", () => {
    const error = errorThrownBy(() => parseEnvConfig(prodWithActiveRegion(2), "envs/prod.json"));
    expect(error.message).toContain(
      'activeRegion: got 2; expected "primary" or "secondary", the role of the region that serves traffic',
    );
    expect(error.message).not.toContain("Invalid option");
  });

  it("accepts secondary, the value an operator sets after a failover", () => {
    expect(parseEnvConfig(prodWithActiveRegion("secondary"), "envs/prod.json").activeRegion).toBe(
      "secondary",
    );
  });
});
