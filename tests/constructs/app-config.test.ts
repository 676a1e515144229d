import { describe, expect, it } from "vitest";
import type { RegionRole } from "../../src/config/schema";
import { AppConfig } from "../../src/constructs/app-config";
import { listResources, resourceAt, stackWithProviders, synth } from "../support/synth";

const SETTINGS: Readonly<Record<RegionRole, Record<string, string>>> = {
  primary: {
    "db/writer-endpoint": "shop-test.global-abc.global.rds.amazonaws.com",
    "db/reader-endpoint": "shop-test-primary.cluster-ro-abc.us-east-2.rds.amazonaws.com",
    "db/secret-arn": "arn:aws:secretsmanager:us-east-2:111111111111:secret:shop-test-db-AbCdEf",
    "db/name": "shopsmart",
    "assets/bucket": "shop-test-primary-assets-111111111111",
    "app/region-role": "primary",
  },
  secondary: {
    "db/writer-endpoint": "shop-test.global-abc.global.rds.amazonaws.com",
    "db/reader-endpoint": "shop-test-secondary.cluster-ro-abc.us-west-2.rds.amazonaws.com",
    "db/secret-arn": "arn:aws:secretsmanager:us-west-2:111111111111:secret:shop-test-db-AbCdEf",
    "db/name": "shopsmart",
    "assets/bucket": "shop-test-secondary-assets-111111111111",
    "app/region-role": "secondary",
  },
};

function build(
  parameterPath = "/shop/test/",
  parameters: Readonly<Record<RegionRole, Record<string, string>>> = SETTINGS,
  automationOwnedKeys?: readonly string[],
) {
  const { stack, providers } = stackWithProviders();
  const config = new AppConfig(stack, "app-config", {
    parameterPath,
    regions: {
      primary: { provider: providers.primary, parameters: parameters.primary },
      secondary: { provider: providers.secondary, parameters: parameters.secondary },
    },
    automationOwnedKeys,
  });
  return { stack, config };
}

describe("AppConfig", () => {
  const { stack, config } = build();
  const json = synth(stack);

  it("writes every setting in both regions with that region's provider and value", () => {
    for (const role of ["primary", "secondary"] as const) {
      for (const [key, value] of Object.entries(SETTINGS[role])) {
        expect(
          resourceAt(json, "aws_ssm_parameter", `app-config/${role}/${key.replaceAll("/", ":")}`),
        ).toEqual(
          expect.objectContaining({
            provider: `aws.${role}`,
            name: `/shop/test/${key}`,
            value,
            type: "String",
            tier: "Standard",
            description: `App setting ${key} for the ${role} region; managed by Terraform, manual edits are overwritten`,
          }),
        );
      }
    }
    expect(listResources(json, "aws_ssm_parameter")).toHaveLength(12);
  });

  it("lets Terraform overwrite every value by default", () => {
    for (const parameter of listResources(json, "aws_ssm_parameter")) {
      expect(parameter).not.toHaveProperty("lifecycle");
    }
  });

  it("writes only the first value of automation-owned keys, in both regions, and says so", () => {
    const owned = synth(build("/shop/test/", SETTINGS, ["db/writer-endpoint"]).stack);
    for (const role of ["primary", "secondary"] as const) {
      expect(
        resourceAt(owned, "aws_ssm_parameter", `app-config/${role}/db:writer-endpoint`),
      ).toEqual(
        expect.objectContaining({
          value: SETTINGS[role]["db/writer-endpoint"],
          lifecycle: { ignore_changes: ["value"] },
          description: `App setting db/writer-endpoint for the ${role} region; first value from Terraform, then owned by the failover automation (Terraform ignores changes to the value)`,
        }),
      );
      expect(
        resourceAt(owned, "aws_ssm_parameter", `app-config/${role}/db:reader-endpoint`),
      ).not.toHaveProperty("lifecycle");
    }
  });

  it("fails when an automation-owned key is not one of the parameters", () => {
    expect(() => build("/shop/test/", SETTINGS, ["db/writer-endpoint", "db/writer"])).toThrow(
      "Invalid props for test/app-config:\n" +
        '  - automationOwnedKeys: got "db/writer"; expected one of the parameter keys ("db/writer-endpoint", "db/reader-endpoint", "db/secret-arn", "db/name", "assets/bucket", "app/region-role")',
    );
  });

  it("exposes the full parameter names, sorted, for IAM scoping", () => {
    expect(config.parameterNames).toEqual([
      "/shop/test/app/region-role",
      "/shop/test/assets/bucket",
      "/shop/test/db/name",
      "/shop/test/db/reader-endpoint",
      "/shop/test/db/secret-arn",
      "/shop/test/db/writer-endpoint",
    ]);
  });

  it("fails when a key is set in one region only, naming the key and the region lacking it", () => {
    const { "db/name": _dropped, ...withoutName } = SETTINGS.secondary;
    expect(() =>
      build("/shop/test/", {
        primary: SETTINGS.primary,
        secondary: { ...withoutName, "feature/flag": "on" },
      }),
    ).toThrow(
      "Invalid props for test/app-config:\n" +
        '  - regions.primary.parameters["feature/flag"]: missing; expected a value, as regions.secondary has one: both regions need the same keys so the app finds its settings after a failover\n' +
        '  - regions.secondary.parameters["db/name"]: missing; expected a value, as regions.primary has one: both regions need the same keys so the app finds its settings after a failover',
    );
  });

  it("fails when the parameter path does not start and end with '/'", () => {
    expect(() => build("shop/test")).toThrow(
      "Invalid props for test/app-config:\n  - parameterPath: got \"shop/test\"; expected a path starting and ending with '/' of letters, digits, '_', '.', '-' and '/', e.g. \"/shopsmart/prod/\"",
    );
    expect(() => build("/shop/test")).toThrow(/parameterPath: got "\/shop\/test"; expected/);
  });

  it("fails when the parameter path is in the namespace AWS reserves", () => {
    expect(() => build("/aws/shop/")).toThrow(
      'Invalid props for test/app-config:\n  - parameterPath: got "/aws/shop/"; expected a path not beginning with /aws or /ssm (reserved by AWS)',
    );
  });

  it("fails when a key is absolute or has characters SSM rejects", () => {
    const bad = (key: string) => ({
      primary: { [key]: "x" },
      secondary: { [key]: "x" },
    });
    expect(() => build("/shop/test/", bad("/db/name"))).toThrow(
      "Invalid props for test/app-config:\n" +
        "  - regions.primary.parameters: got \"/db/name\"; expected keys relative to parameterPath (no leading or trailing '/') of letters, digits, '_', '.', '-' and '/', e.g. \"db/writer-endpoint\"\n" +
        "  - regions.secondary.parameters: got \"/db/name\"; expected keys relative to parameterPath (no leading or trailing '/') of letters, digits, '_', '.', '-' and '/', e.g. \"db/writer-endpoint\"",
    );
    expect(() => build("/shop/test/", bad("db name"))).toThrow(
      /regions\.primary\.parameters: got "db name"; expected keys relative/,
    );
  });

  it("fails when a value is empty", () => {
    expect(() =>
      build("/shop/test/", {
        primary: { ...SETTINGS.primary, "db/name": "" },
        secondary: SETTINGS.secondary,
      }),
    ).toThrow(
      'Invalid props for test/app-config:\n  - regions.primary.parameters["db/name"]: got ""; expected a value of 1 to 4096 characters (SSM rejects empty values; Standard tier holds 4 KB)',
    );
  });

  it("fails when a name would be deeper than the 15 levels SSM allows", () => {
    const deep = "a/b/c/d/e/f/g/h/i/j/k/l/m/n";
    expect(() =>
      build("/shop/test/", { primary: { [deep]: "x" }, secondary: { [deep]: "x" } }),
    ).toThrow(
      "Invalid props for test/app-config:\n" +
        `  - regions.primary.parameters: got "${deep}"; expected keys that with parameterPath make at most 15 levels (the SSM limit)\n` +
        `  - regions.secondary.parameters: got "${deep}"; expected keys that with parameterPath make at most 15 levels (the SSM limit)`,
    );
  });
});
