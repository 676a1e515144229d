import { existsSync } from "node:fs";
import { join } from "node:path";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { type App, TerraformStack, Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { GuardrailViolationsError } from "../../src/errors";
import {
  assertGuardrails,
  attachGuardrails,
  checkStack,
  GUARDRAILS,
  Guardrails,
  guardrailSummary,
  type Rule,
  reportFor,
} from "../../src/guardrails";
import { keyArn } from "../support/guardrails";
import { TEST_REGIONS } from "../support/synth";

/**
 * A guarded stack named `id` with one encrypted log group per region; `compliant` decides
 * whether the primary's has a retention (SS-LOG-1).
 */
function guardedStack(app: App, id: string, compliant: boolean) {
  const stack = new TerraformStack(app, id);
  for (const role of ["primary", "secondary"] as const) {
    const provider = new AwsProvider(stack, `aws-${role}`, {
      alias: role,
      region: TEST_REGIONS[role],
    });
    new CloudwatchLogGroup(stack, `${role}-logs`, {
      provider,
      name: `/${id}/${role}`,
      kmsKeyId: keyArn(TEST_REGIONS[role]),
      retentionInDays: role === "primary" && !compliant ? undefined : 30,
    });
  }
  attachGuardrails(stack);
  return stack;
}

/** SS-LOG-1's fix as reported for `primary-logs` of a stack without an environment tag. */
const LOG_1_FIX =
  "set retention_in_days on aws_cloudwatch_log_group.primary-logs; the constructs set it from their logRetentionDays prop, and VPC flow logs from network.flowLogRetentionDays in envs/<environment>.json";

describe("attachGuardrails", () => {
  it("fails synth of a stack with a violation, with one message naming rule, path, problem and fix", () => {
    const stack = guardedStack(Testing.app(), "shop-dev", false);
    expect(() => Testing.synth(stack, true)).toThrow(
      "Validation failed with the following errors:\n" +
        "  [shop-dev] 1 guardrail violation in shop-dev:\n" +
        "  [SS-LOG-1] shop-dev/primary-logs: retention_in_days is unset, so its logs never expire. " +
        `Fix: ${LOG_1_FIX}.\n` +
        "If a finding is deliberate, suppress it where the resource is built, with the reason: " +
        'Guardrails.suppress(construct, "<rule id>", "<why the rule does not apply here>") (docs/configuration.md, Guardrails).',
    );
  });

  it("passes synth of a compliant stack, and of a stack whose finding is suppressed", () => {
    expect(() => Testing.synth(guardedStack(Testing.app(), "shop-dev", true), true)).not.toThrow();
    const stack = guardedStack(Testing.app(), "shop-dev", false);
    const logs = stack.node.findChild("primary-logs");
    Guardrails.suppress(logs, "SS-LOG-1", "kept until the audit in issue 42 decides the period");
    expect(() => Testing.synth(stack, true)).not.toThrow();
  });
});

describe("assertGuardrails", () => {
  it("fails before anything is written when any stack violates a rule, listing every stack's violations", () => {
    const app = Testing.app();
    const stacks = [
      guardedStack(app, "shop-dev", true),
      guardedStack(app, "shop-prod", false),
      guardedStack(app, "shop-staging", false),
    ];
    const synthesizeAll = () => {
      assertGuardrails(stacks);
      app.synth();
    };
    expect(synthesizeAll).toThrow(GuardrailViolationsError);
    expect(synthesizeAll).toThrow(
      "2 guardrail violations; nothing was synthesized.\n" +
        "shop-prod:\n" +
        `  [SS-LOG-1] shop-prod/primary-logs: retention_in_days is unset, so its logs never expire. Fix: ${LOG_1_FIX}.\n` +
        "shop-staging:\n" +
        `  [SS-LOG-1] shop-staging/primary-logs: retention_in_days is unset, so its logs never expire. Fix: ${LOG_1_FIX}.\n` +
        "If a finding is deliberate, suppress it where the resource is built, with the reason: " +
        'Guardrails.suppress(construct, "<rule id>", "<why the rule does not apply here>") (docs/configuration.md, Guardrails).',
    );
    expect(existsSync(join(app.outdir, "stacks", "shop-dev"))).toBe(false);
  });

  it("passes compliant stacks, which then synthesize", () => {
    const app = Testing.app();
    const stacks = [guardedStack(app, "shop-dev", true), guardedStack(app, "shop-prod", true)];
    assertGuardrails(stacks);
    app.synth();
    expect(existsSync(join(app.outdir, "stacks", "shop-prod", "cdk.tf.json"))).toBe(true);
  });
});

describe("reportFor", () => {
  it("checks a stack once while its construct tree is unchanged, and again when it grows", () => {
    const stack = guardedStack(Testing.app(), "shop-dev", true);
    const first = reportFor(stack);
    expect(reportFor(stack)).toBe(first);
    const provider = stack.node.findChild("aws-primary") as AwsProvider;
    new CloudwatchLogGroup(stack, "late-logs", { provider, name: "/late" });
    const second = reportFor(stack);
    expect(second).not.toBe(first);
    expect(second.violations.map((v) => `${v.ruleId} ${v.constructPath}`)).toEqual([
      "SS-LOG-1 shop-dev/late-logs",
      "SS-LOG-2 shop-dev/late-logs",
    ]);
  });
});

describe("guardrailSummary", () => {
  it("lists the totals, every violation and every suppression with its reason, grouped across stacks", () => {
    const app = Testing.app();
    const stacks = ["shop-dev", "shop-prod"].map((id) => {
      const stack = guardedStack(app, id, false);
      Guardrails.suppress(
        stack.node.findChild("primary-logs"),
        "SS-LOG-1",
        "kept until the audit in issue 42 decides the period",
      );
      return stack;
    });
    const staging = guardedStack(app, "shop-staging", false);
    Guardrails.suppress(
      staging.node.findChild("secondary-logs"),
      "SS-LOG-2",
      "an unused suppression",
    );
    expect(guardrailSummary([...stacks, staging])).toEqual([
      `Guardrails: ${GUARDRAILS.length} rules checked on 3 stacks: 1 violation, 0 warnings, 3 suppressions.`,
      "  violation [SS-LOG-1] shop-staging/primary-logs: retention_in_days is unset, so its logs never expire",
      "  suppressed [SS-LOG-1] primary-logs in shop-dev, shop-prod (1 finding each): kept until the audit in issue 42 decides the period",
      "  suppressed [SS-LOG-2] secondary-logs in shop-staging (0 findings): an unused suppression",
    ]);
  });
});

describe("rule levels", () => {
  it("lists warning-level findings without failing", () => {
    const stack = guardedStack(Testing.app(), "shop-dev", true);
    const advisory: Rule = {
      id: "SS-TEST-1",
      title: "test rule",
      explanation: "flags every log group",
      fix: "nothing",
      level: "warning",
      check: (model) =>
        model
          .resources("aws_cloudwatch_log_group")
          .map((group) => ({ element: group, problem: "is a log group" })),
    };
    const report = checkStack(stack, {}, [advisory]);
    expect(report.violations).toEqual([]);
    expect(report.warnings.map((w) => w.constructPath)).toEqual([
      "shop-dev/primary-logs",
      "shop-dev/secondary-logs",
    ]);
  });
});

describe("the pack", () => {
  it("gives every rule a unique SS-<SERVICE>-<n> id, a title, an explanation and a fix", () => {
    const ids = GUARDRAILS.map((rule) => rule.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of GUARDRAILS) {
      expect(rule.id).toMatch(/^SS-[A-Z0-9]+-\d+$/);
      expect(rule.title.length).toBeGreaterThan(0);
      expect(rule.explanation.length).toBeGreaterThan(0);
      // The message appends ". Fix: <fix>." itself.
      expect(rule.fix).not.toMatch(/\.$/);
    }
  });
});
