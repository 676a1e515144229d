import { describe, expect, it } from "vitest";
import {
  type AutomationSettings,
  loadSettings,
  parseSettings,
  SettingsError,
} from "../../../functions/shared/settings";
import { SETTINGS } from "./fixtures";

function withChange(change: (settings: AutomationSettings) => void): string {
  const copy = structuredClone(SETTINGS);
  change(copy);
  return JSON.stringify(copy);
}

describe("settings", () => {
  it("parses valid settings", () => {
    expect(parseSettings(JSON.stringify(SETTINGS))).toEqual(SETTINGS);
  });

  it("reads SHOPSMART_DR_SETTINGS from the given environment", () => {
    expect(loadSettings({ SHOPSMART_DR_SETTINGS: JSON.stringify(SETTINGS) })).toEqual(SETTINGS);
  });

  it("fails when SHOPSMART_DR_SETTINGS is not set", () => {
    expect(() => loadSettings({})).toThrow(
      new SettingsError(
        "SHOPSMART_DR_SETTINGS is not set: expected the automation settings JSON written by the automation construct",
      ),
    );
  });

  it("fails when SHOPSMART_DR_SETTINGS is not JSON", () => {
    expect(() => parseSettings("{")).toThrow(/^SHOPSMART_DR_SETTINGS is not valid JSON: /);
  });

  it("fails naming a missing nested field", () => {
    const json = withChange((settings) => {
      Reflect.deleteProperty(settings.regions.secondary, "healthCheckId");
    });
    expect(() => parseSettings(json)).toThrow(
      "SHOPSMART_DR_SETTINGS: regions.secondary.healthCheckId: required field is missing",
    );
  });

  it("fails naming a field with a bad value", () => {
    const json = withChange((settings) => {
      settings.regions.primary.clusterArn = "shopsmart-prod-primary";
    });
    expect(() => parseSettings(json)).toThrow(
      "SHOPSMART_DR_SETTINGS: regions.primary.clusterArn: an ARN (arn:...)",
    );
  });

  it("fails naming the detection quorum out of range and a primaryRecordRegion that is no role", () => {
    const quorum = withChange((settings) => {
      settings.detection.quorum = 4;
    });
    expect(() => parseSettings(quorum)).toThrow(
      "SHOPSMART_DR_SETTINGS: detection.quorum: a whole number from 1 to 3",
    );
    const record = withChange((settings) => {
      (settings as { primaryRecordRegion: string }).primaryRecordRegion = "us-east-1";
    });
    expect(() => parseSettings(record)).toThrow("SHOPSMART_DR_SETTINGS: primaryRecordRegion:");
  });

  it("fails on sizes out of order", () => {
    const json = withChange((settings) => {
      settings.regions.primary.activeCapacity = { minSize: 5, desiredCapacity: 4, maxSize: 8 };
    });
    expect(() => parseSettings(json)).toThrow(
      "SHOPSMART_DR_SETTINGS: regions.primary.activeCapacity: sizes with minSize <= desiredCapacity <= maxSize",
    );
  });

  it("fails on an unknown (misspelt) field", () => {
    const json = withChange((settings) => {
      Object.assign(settings, { hostedZoneID: "Z1" });
    });
    expect(() => parseSettings(json)).toThrow(
      /^SHOPSMART_DR_SETTINGS: \(root\): Unrecognized key: "hostedZoneID"$/,
    );
  });

  it("fails with the error name SettingsError", () => {
    expect(() => parseSettings(undefined)).toThrow(
      expect.objectContaining({ name: "SettingsError" }),
    );
  });
});
