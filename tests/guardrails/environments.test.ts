import { resolve } from "node:path";
import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { loadEnvConfigs } from "../../src/config/load";
import { checkStack, MINIMUM_REASON_LENGTH } from "../../src/guardrails";
import { EnvironmentStack } from "../../src/stacks/environment-stack";
import { SHIPPED_ENVIRONMENTS } from "../support/shipped-environments";

const configs = loadEnvConfigs(resolve(__dirname, "../../envs"));

/**
 * Every suppression the shipped stacks may carry, as `[rule] <path below the stack>`. A new one
 * fails this test, so adding a suppression is a reviewed change of this list.
 */
const EXPECTED_SUPPRESSIONS = {
  primary: ["[SS-DR-1] backup/primary-plan", "[SS-DR-1] backup/primary-selection"],
  secondary: ["[SS-DR-1] backup/secondary-plan", "[SS-DR-1] backup/secondary-selection"],
};

describe.each(SHIPPED_ENVIRONMENTS)("shipped environment %s", (environment) => {
  const config = configs.find((c) => c.environment === environment);
  if (!config) throw new Error(`no envs/${environment}.json`);

  describe.each(["primary", "secondary"] as const)("with activeRegion %s", (activeRegion) => {
    const stack = new EnvironmentStack(Testing.app(), { config: { ...config, activeRegion } });
    const report = checkStack(stack, { production: environment === "prod" });

    it("violates no guardrail", () => {
      expect(report.violations).toEqual([]);
      expect(report.warnings).toEqual([]);
    });

    it("carries only the reviewed suppressions, each with a reason", () => {
      expect(
        report.suppressions.map(
          (s) => `[${s.ruleId}] ${s.constructPath.slice(`${stack.node.id}/`.length)}`,
        ),
      ).toEqual(EXPECTED_SUPPRESSIONS[activeRegion]);
      for (const suppression of report.suppressions) {
        expect(suppression.reason.length).toBeGreaterThanOrEqual(MINIMUM_REASON_LENGTH);
      }
    });
  });
});
