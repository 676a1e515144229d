/**
 * Adding an environment is adding its env file (docs/environments.md): a real copy of prod with
 * its own name, domain and VPC ranges, put beside the shipped env files in a scratch project,
 * is synthesized, listed and selected by the CLIs, and given a deploy job and a drill choice by
 * src/cli/workflows.ts, with no code change; and it changes nothing in the shipped stacks.
 */
import { spawnSync } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runBudgetCli } from "../../src/cli/budget";
import { listEnvironments, loadEnvironment } from "../../src/cli/environment-selection";
import { runWorkflowsCli } from "../../src/cli/workflows";
import { ROOT, SHIPPED_ENVIRONMENTS, SHIPPED_ENVS_DIR } from "../support/shipped-environments";
import { workflowProblems } from "../workflows/workflow-parser";

const LAUNCHER = join(ROOT, "src/app-bundle/run.cjs");
const scratch = mkdtempSync(join(tmpdir(), "shopsmart-add-environment-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A scratch project: envs/ (the shipped files plus the copy) and .github/workflows/. */
const project = join(scratch, "project");
const envsDir = join(project, "envs");
const workflowsDir = join(project, ".github/workflows");
mkdirSync(workflowsDir, { recursive: true });
cpSync(SHIPPED_ENVS_DIR, envsDir, { recursive: true });
cpSync(join(ROOT, ".github/workflows"), workflowsDir, { recursive: true });

/** "qa", or the first free "qa<n>" once envs/ ships a qa of its own. */
const NEW_ENV =
  ["qa", "qa2", "qa3", "qa4"].find((name) => !SHIPPED_ENVIRONMENTS.includes(name)) ?? "qa5";
const prod = JSON.parse(readFileSync(join(SHIPPED_ENVS_DIR, "prod.json"), "utf8"));
const copy = {
  ...prod,
  environment: NEW_ENV,
  // Ranges no shipped file uses (the test below expects no warning).
  network: { ...prod.network, vpcCidr: { primary: "10.190.0.0/16", secondary: "10.200.0.0/16" } },
  dns: { ...prod.dns, domainName: `${NEW_ENV}-test.shop.example.com` },
  tags: { ...prod.tags, "cost-center": `shop-${NEW_ENV}` },
};
writeFileSync(join(envsDir, `${NEW_ENV}.json`), `${JSON.stringify(copy, null, 2)}\n`);
const environment = { SHOPSMART_ENVS_DIR: envsDir };

function synth(dir: string, outdir: string) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CHECKPOINT_DISABLE: "1",
    SHOPSMART_ENVS_DIR: dir,
    CDKTF_OUTDIR: outdir,
  };
  delete env.SHOPSMART_ENVS;
  return spawnSync(process.execPath, [LAUNCHER], { cwd: ROOT, env, encoding: "utf8" });
}

describe("a new environment: a copy of prod with its own name, domain and VPC ranges", () => {
  it("is synthesized beside the shipped ones, without a warning, leaving their stacks byte for byte as they were", () => {
    const withCopy = join(scratch, "out-with-copy");
    const run = synth(envsDir, withCopy);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const stacks = readdirSync(join(withCopy, "stacks")).sort();
    expect(stacks).toEqual(
      [...SHIPPED_ENVIRONMENTS, NEW_ENV].map((env) => `shopsmart-${env}`).sort(),
    );

    const shipped = join(scratch, "out-shipped");
    expect(synth(SHIPPED_ENVS_DIR, shipped).status).toBe(0);
    for (const env of SHIPPED_ENVIRONMENTS) {
      const file = `stacks/shopsmart-${env}/cdk.tf.json`;
      expect(
        readFileSync(join(withCopy, file)).equals(readFileSync(join(shipped, file))),
        file,
      ).toBe(true);
    }
    const newStack = JSON.parse(
      readFileSync(join(withCopy, `stacks/shopsmart-${NEW_ENV}/cdk.tf.json`), "utf8"),
    );
    expect(newStack.terraform.backend.s3.key).toBe(`shopsmart/${NEW_ENV}/terraform.tfstate`);
  });

  it("is listed and selected by the CLIs like any other", () => {
    expect(listEnvironments(envsDir)).toEqual([...SHIPPED_ENVIRONMENTS, NEW_ENV].sort());
    const selected = loadEnvironment(NEW_ENV, { environment });
    expect(selected.stackName).toBe(`shopsmart-${NEW_ENV}`);
    expect(selected.config.dns.domainName).toBe(`${NEW_ENV}-test.shop.example.com`);
    expect(runBudgetCli(["--env", NEW_ENV], { environment }).exitCode).toBe(0);
  });

  it("gets a deploy job (before prod) and a drill choice from src/cli/workflows.ts; --check catches a forgotten run", async () => {
    const errors: string[] = [];
    const out: string[] = [];
    const io = { out: (line: string) => out.push(line), err: (line: string) => errors.push(line) };
    expect(runWorkflowsCli(["--check"], io, { root: project, environment })).toBe(1);
    expect(errors).toEqual([
      ".github/workflows/deploy.yml is out of date with envs/: run npm run workflows and commit it",
      ".github/workflows/dr-drill.yml is out of date with envs/: run npm run workflows and commit it",
    ]);

    expect(runWorkflowsCli([], io, { root: project, environment })).toBe(0);
    expect(out).toEqual([
      "wrote .github/workflows/deploy.yml",
      "wrote .github/workflows/dr-drill.yml",
    ]);
    errors.length = 0;
    expect(runWorkflowsCli(["--check"], io, { root: project, environment })).toBe(0);
    expect(errors).toEqual([]);

    const deployText = readFileSync(join(workflowsDir, "deploy.yml"), "utf8");
    expect(await workflowProblems(".github/workflows/deploy.yml", deployText, project)).toEqual([]);
    const deploy = parse(deployText) as {
      jobs: Record<string, { needs?: string; environment?: string; steps: { run?: string }[] }>;
    };
    const jobs = Object.keys(deploy.jobs);
    expect(jobs.at(-1)).toBe("deploy-prod"); // DEPLOY_ORDER's last entry
    expect(jobs.at(-2)).toBe(`deploy-${NEW_ENV}`);
    expect(deploy.jobs["deploy-prod"]?.needs).toBe(`deploy-${NEW_ENV}`);
    expect(deploy.jobs[`deploy-${NEW_ENV}`]?.environment).toBe(NEW_ENV);
    expect(deploy.jobs[`deploy-${NEW_ENV}`]?.steps.at(-1)?.run).toBe(
      `npx cdktf deploy shopsmart-${NEW_ENV} --auto-approve`,
    );

    const drillText = readFileSync(join(workflowsDir, "dr-drill.yml"), "utf8");
    expect(await workflowProblems(".github/workflows/dr-drill.yml", drillText, project)).toEqual(
      [],
    );
    const drill = parse(drillText) as {
      on: { workflow_dispatch: { inputs: { env: { options: string[] } } } };
    };
    expect(drill.on.workflow_dispatch.inputs.env.options).toEqual(
      jobs.slice(1).map((job) => job.replace(/^deploy-/, "")),
    );
  });
});
