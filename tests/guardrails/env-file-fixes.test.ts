import { resolve } from "node:path";
import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { loadEnvConfig } from "../../src/config/load";
import { renderStackViolations } from "../../src/errors";
import { assertGuardrails, checkStack, GUARDRAILS } from "../../src/guardrails";
import { ENV_FILE, TERRAFORM_ADDRESS } from "../../src/guardrails/rule";
import { EnvironmentStack } from "../../src/stacks/environment-stack";

/**
 * A finding the env file can fix names the env-file field and the file first, the Terraform
 * attribute and address after it for context (issue 16, point 5).
 */

const ENVS = resolve(__dirname, "../../envs");
const prod = loadEnvConfig(resolve(ENVS, "prod.json"), resolve(__dirname, "../.."));
const dev = loadEnvConfig(resolve(ENVS, "dev.json"), resolve(__dirname, "../.."));

const SUPPRESSION_HINT =
  "If a finding is deliberate, suppress it where the resource is built, with the reason: " +
  'Guardrails.suppress(construct, "<rule id>", "<why the rule does not apply here>") (docs/configuration.md, Guardrails).';

/** Env-file fields a rule's fix may name: `database.deletionProtection`, `compute.<role>.minSize`. */
const ENV_FIELD = /\b(?:compute|database|network)\.[A-Za-z<>.]*[A-Za-z>]/;

describe("fixes that an env-file field makes", () => {
  it("fails unprotected production databases and load balancers, naming the field in envs/prod.json", () => {
    const stack = new EnvironmentStack(Testing.app(), {
      config: {
        ...prod,
        database: { ...prod.database, deletionProtection: false },
        compute: { ...prod.compute, loadBalancerDeletionProtection: false },
      },
    });
    const { violations } = checkStack(stack, { production: true });
    expect(renderStackViolations(stack.node.id, violations)).toEqual(
      [
        "6 guardrail violations in shopsmart-prod:",
        "  [SS-ELB-2] shopsmart-prod/compute-primary/load-balancer: enable_deletion_protection is false in production. Fix: set compute.loadBalancerDeletionProtection to true in envs/prod.json (Compute sets enable_deletion_protection of aws_lb.compute-primary_load-balancer_F788C3D8 from it; on a load balancer built outside the Compute construct, set enable_deletion_protection = true).",
        "  [SS-ELB-2] shopsmart-prod/compute-secondary/load-balancer: enable_deletion_protection is false in production. Fix: set compute.loadBalancerDeletionProtection to true in envs/prod.json (Compute sets enable_deletion_protection of aws_lb.compute-secondary_load-balancer_C43193B2 from it; on a load balancer built outside the Compute construct, set enable_deletion_protection = true).",
        "  [SS-RDS-2] shopsmart-prod/database/global-cluster: deletion_protection is false in production. Fix: set database.deletionProtection to true in envs/prod.json (Database sets deletion_protection of aws_rds_global_cluster.database_global-cluster_966FEEB9 from it; on a database built outside the Database construct, set deletion_protection = true).",
        "  [SS-RDS-2] shopsmart-prod/database/primary-cluster: deletion_protection is false in production. Fix: set database.deletionProtection to true in envs/prod.json (Database sets deletion_protection of aws_rds_cluster.database_primary-cluster_62F23CC4 from it; on a database built outside the Database construct, set deletion_protection = true).",
        "  [SS-RDS-2] shopsmart-prod/database/secondary-cluster: deletion_protection is false in production. Fix: set database.deletionProtection to true in envs/prod.json (Database sets deletion_protection of aws_rds_cluster.database_secondary-cluster_93595D7C from it; on a database built outside the Database construct, set deletion_protection = true).",
        "  [SS-DDB-3] shopsmart-prod/automation/ledger: deletion_protection_enabled is false in production. Fix: set database.deletionProtection to true in envs/prod.json (Automation sets deletion_protection_enabled of the ledger, aws_dynamodb_table.automation_ledger_DDF4C74B, from it; on a table built outside the Automation construct, set deletion_protection_enabled = true).",
        SUPPRESSION_HINT,
      ].join("\n"),
    );
  });

  it("names the env file given as an option instead of the one the environment tag implies", () => {
    const stack = new EnvironmentStack(Testing.app(), { config: dev });
    const options = { production: true, envFile: "config/environments/dev.json" };
    const fixes = checkStack(stack, options).violations.map((v) => `[${v.ruleId}] ${v.fix}`);
    expect(fixes).toContain(
      "[SS-DDB-3] set database.deletionProtection to true in config/environments/dev.json (Automation sets deletion_protection_enabled of the ledger, aws_dynamodb_table.automation_ledger_DDF4C74B, from it; on a table built outside the Automation construct, set deletion_protection_enabled = true)",
    );
    const defaultFixes = checkStack(stack, { production: true }).violations.map((v) => v.fix);
    expect(defaultFixes.every((fix) => fix.includes("in envs/dev.json"))).toBe(true);
    expect(defaultFixes.join("\n")).not.toContain(ENV_FILE);
    expect(defaultFixes.join("\n")).not.toContain(TERRAFORM_ADDRESS);
  });
});

describe("the env file a stack names", () => {
  it("is the stack's envFile prop when the app gives one (an env dir other than envs/)", () => {
    const stack = new EnvironmentStack(Testing.app(), {
      config: { ...prod, database: { ...prod.database, deletionProtection: false } },
      envFile: "ops/environments/prod.json",
    });
    expect(() => assertGuardrails([stack])).toThrow(
      "Fix: set database.deletionProtection to true in ops/environments/prod.json",
    );
  });
});

describe("the pack's fixes", () => {
  it("say which env file whenever they name an env-file field, and end without a period", () => {
    const namingAField = GUARDRAILS.filter((rule) => ENV_FIELD.test(rule.fix));
    expect(namingAField.map((rule) => rule.id)).toEqual([
      "SS-EC2-2",
      "SS-ELB-2",
      "SS-LOG-1",
      "SS-RDS-2",
      "SS-RDS-3",
      "SS-DDB-3",
      "SS-DR-2",
    ]);
    for (const rule of namingAField) {
      expect(rule.fix, rule.id).toContain(ENV_FILE);
      expect(rule.fix, rule.id).toContain(TERRAFORM_ADDRESS);
    }
  });
});
