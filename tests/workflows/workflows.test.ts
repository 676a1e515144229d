import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { TERRAFORM_VERSION } from "../../src/cli/state";
import {
  DEPLOY_ORDER,
  deployJobId,
  deployOrder,
  deployWorkflow,
  drillWorkflow,
  expectedWorkflows,
  runWorkflowsCli,
  WORKFLOWS_COMMAND,
  workflowEnvironments,
} from "../../src/cli/workflows";
import { UserInputError } from "../../src/errors";
import { MINIMUM_TERRAFORM_VERSION } from "../../src/terraform-version";
import { SHIPPED_ENVIRONMENTS } from "../support/shipped-environments";
import { workflowParser, workflowProblems } from "./workflow-parser";

/**
 * The GitHub Actions workflows: each one passes GitHub's own parser (@actions/workflow-parser,
 * the schema and checks github.com uses), and the structure the project relies on is asserted:
 * pinned actions, least-privilege tokens, OIDC only where AWS is used, the deploy chain and its
 * concurrency, the pinned Terraform, and a drill that fails the job when it misses.
 */

const ROOT = resolve(__dirname, "../..");
const WORKFLOWS = join(ROOT, ".github/workflows");

interface Step {
  readonly name?: string;
  readonly id?: string;
  readonly if?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly with?: Record<string, unknown>;
  readonly env?: Record<string, unknown>;
  readonly "continue-on-error"?: unknown;
}

interface Concurrency {
  readonly group: string;
  readonly "cancel-in-progress"?: unknown;
  readonly queue?: string;
}

interface Job {
  readonly name?: string;
  readonly uses?: string;
  readonly needs?: string | string[];
  readonly environment?: string | { name: string };
  readonly concurrency?: Concurrency;
  readonly permissions?: Record<string, string> | string;
  readonly env?: Record<string, unknown>;
  readonly steps?: Step[];
  readonly "continue-on-error"?: unknown;
}

interface Workflow {
  readonly name: string;
  readonly on: Record<string, unknown>;
  readonly permissions?: Record<string, string> | string;
  readonly env?: Record<string, unknown>;
  readonly concurrency?: Concurrency;
  readonly jobs: Record<string, Job>;
}

const FILES = readdirSync(WORKFLOWS)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const text = (file: string) => readFileSync(join(WORKFLOWS, file), "utf8");
const load = (file: string) => parse(text(file)) as Workflow;

const ENVIRONMENTS = SHIPPED_ENVIRONMENTS;
/** The shipped environments in the order deploy.yml deploys them. */
const DEPLOY_ENVIRONMENTS = deployOrder(workflowEnvironments(join(ROOT, "envs")));
const ORDER = DEPLOY_ENVIRONMENTS.map((env) => env.name);
const envFile = (env: string) =>
  JSON.parse(readFileSync(join(ROOT, "envs", `${env}.json`), "utf8")) as {
    project: string;
    drill: { enabled: boolean; schedule: string; holdMinutes: number };
  };

/** `${{ <expression> }}` as written in a workflow. */
const expr = (expression: string) => `\${{ ${expression} }}`;

const steps = (job: Job) => job.steps ?? [];
const stepUsing = (job: Job, action: string) =>
  steps(job).filter((s) => s.uses?.split("@")[0] === action);
const usesAws = (job: Job) => stepUsing(job, "aws-actions/configure-aws-credentials").length > 0;
const allJobs = () =>
  FILES.flatMap((file) => Object.entries(load(file).jobs).map(([id, job]) => ({ file, id, job })));

describe("workflow files", () => {
  it("are ci, deploy and dr-drill", () => {
    expect(FILES).toEqual(["ci.yml", "deploy.yml", "dr-drill.yml"]);
  });

  describe.each(FILES)("%s", (file) => {
    it("passes GitHub's workflow parser with no errors (called workflows included)", async () => {
      expect(await workflowProblems(`.github/workflows/${file}`, text(file), ROOT)).toEqual([]);
    });
  });

  it("the parser does report a broken workflow (so a pass above means something)", async () => {
    const { parseWorkflow, NoOperationTraceWriter } = await workflowParser();
    const broken = [
      "on: push",
      "permissions: { id-token: admin }",
      "jobs:",
      "  a:",
      "    runs-on: ubuntu-24.04",
      "    concurrency: { group: x, queue: forever }",
      "    steps:",
      "      - run: echo ${{ inputs.x ",
    ].join("\n");
    const parsed = parseWorkflow(
      { name: "broken.yml", content: broken },
      new NoOperationTraceWriter(),
    );
    expect(parsed.context.errors.getErrors().length).toBeGreaterThanOrEqual(3);
  });
});

describe("actions", () => {
  const references = FILES.flatMap((file) =>
    text(file)
      .split("\n")
      .map((line, index) => ({
        file,
        line: index + 1,
        match: /^\s*(?:-\s+)?uses:\s*(.*)$/.exec(line),
      }))
      .filter((r) => r.match !== null)
      .map((r) => ({
        where: `${r.file}:${r.line}`,
        value: (r.match as RegExpExecArray)[1].trim(),
      })),
  );

  it("every third-party action is pinned to a full commit SHA, with its version in a comment", () => {
    expect(references.length).toBeGreaterThan(10);
    const unpinned = references.filter(
      (r) =>
        !r.value.startsWith("./") &&
        !/^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40} # v\d+\.\d+\.\d+$/.test(r.value),
    );
    expect(unpinned).toEqual([]);
  });

  it("each action is pinned to the same commit and version everywhere", () => {
    const pins = new Map<string, Set<string>>();
    for (const { value } of references) {
      if (value.startsWith("./")) continue;
      const [action, pin] = value.split("@");
      pins.set(action, (pins.get(action) ?? new Set()).add(pin));
    }
    const inconsistent = [...pins].filter(([, set]) => set.size > 1);
    expect(inconsistent).toEqual([]);
    expect([...pins.keys()].sort()).toEqual([
      "actions/checkout",
      "actions/setup-node",
      "actions/upload-artifact",
      "aws-actions/configure-aws-credentials",
      "hashicorp/setup-terraform",
    ]);
  });

  it("checkout keeps no credentials in the work tree", () => {
    for (const { file, id, job } of allJobs()) {
      for (const step of stepUsing(job, "actions/checkout")) {
        expect(step.with?.["persist-credentials"], `${file} ${id}`).toBe(false);
      }
    }
  });
});

describe("permissions", () => {
  it("workflows grant nothing beyond reading contents by default", () => {
    for (const file of FILES) {
      const permissions = load(file).permissions;
      expect([{}, { contents: "read" }], file).toContainEqual(permissions);
    }
  });

  it("every job states its permissions: contents read, and an OIDC token only where AWS is used", () => {
    for (const { file, id, job } of allJobs()) {
      const expected = usesAws(job)
        ? { contents: "read", "id-token": "write" }
        : { contents: "read" };
      expect(job.permissions, `${file} ${id}`).toEqual(expected);
    }
  });

  it("AWS credentials come from a role by OIDC, never from stored keys", () => {
    for (const file of FILES)
      expect(text(file), file).not.toMatch(/secrets\.|aws-access-key|aws-secret/);
    const awsJobs = allJobs().filter(({ job }) => usesAws(job));
    expect(awsJobs.map(({ file, id }) => `${file} ${id}`)).toEqual([
      ...ORDER.map((env) => `deploy.yml ${deployJobId(env)}`),
      "dr-drill.yml drill",
    ]);
    for (const { file, id, job } of awsJobs) {
      for (const step of stepUsing(job, "aws-actions/configure-aws-credentials")) {
        expect(step.with?.["role-to-assume"], `${file} ${id}`).toMatch(
          /^\$\{\{ vars\.AWS_[A-Z]+_ROLE_ARN \}\}$/,
        );
      }
      // The role's trust policy pins the OIDC subject to the environment, so every AWS job has one.
      expect(job.environment, `${file} ${id}`).toBeDefined();
    }
  });

  it("run scripts never interpolate expressions (inputs reach them through env)", () => {
    for (const { file, id, job } of allJobs()) {
      for (const step of steps(job)) {
        if (step.run !== undefined) expect(step.run, `${file} ${id}`).not.toContain("${{");
      }
    }
  });
});

describe("toolchain", () => {
  it("CHECKPOINT_DISABLE=1 is set for every workflow (cdktf must not phone home)", () => {
    for (const file of FILES) expect(load(file).env?.CHECKPOINT_DISABLE, file).toBe("1");
  });

  /**
   * Node 22, an LTS (Node 20 is end of life). Not 24 like the Lambda runtime: the cdktf CLI loads
   * @cdktf/node-pty-prebuilt-multiarch, whose prebuilt binaries stop at Node 22 (ABI 127), so on
   * Node 24 `cdktf synth` fails unless CI compiles it from source.
   */
  const CI_NODE_MAJOR = "22";

  it("the cdktf CLI's native module ships a prebuilt binary for CI's Node (ABI 127 is Node 22)", () => {
    const abi: Record<string, number> = { "22": 127, "24": 137 };
    const prebuilt = join(
      ROOT,
      "node_modules/@cdktf/node-pty-prebuilt-multiarch/prebuilds/linux-x64",
      `node.abi${abi[CI_NODE_MAJOR]}.node`,
    );
    expect(existsSync(prebuilt), prebuilt).toBe(true);
  });

  it("Node is the 22 LTS (not the end-of-life Node 20; the cdktf CLI's native module has no Node 24 build) with the npm cache; installs use npm ci", () => {
    const engines = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).engines.node;
    const minimumMajor = Number(/^>=(\d+)/.exec(engines)?.[1]);
    for (const { file, id, job } of allJobs()) {
      for (const step of stepUsing(job, "actions/setup-node")) {
        expect(step.with, `${file} ${id}`).toEqual({
          "node-version": CI_NODE_MAJOR,
          cache: "npm",
        });
        expect(Number(step.with?.["node-version"])).toBeGreaterThanOrEqual(minimumMajor);
      }
      const runs = steps(job).flatMap((s) => (s.run ? [s.run] : []));
      expect(
        runs.filter((r) => /\bnpm (install|i)\b/.test(r)),
        `${file} ${id}`,
      ).toEqual([]);
      if (runs.some((r) => /\bnpm (run|test)|\bnpx\b/.test(r))) {
        expect(runs, `${file} ${id}`).toContain("npm ci --no-audit --no-fund");
      }
    }
  });

  it("Terraform is pinned to one exact 1.x version the stacks accept (the one npm run state recommends)", () => {
    const terraformSteps = allJobs().flatMap(({ job }) =>
      stepUsing(job, "hashicorp/setup-terraform"),
    );
    // ci's test job (npm run validate) and deploy's job per environment do; the drill needs no
    // Terraform (it is given the API URL).
    expect(terraformSteps.length).toBe(1 + ORDER.length);
    for (const step of terraformSteps) {
      expect(step.with).toEqual({ terraform_version: TERRAFORM_VERSION, terraform_wrapper: false });
    }
    const [major, minor] = TERRAFORM_VERSION.split(".").map(Number);
    expect(major).toBe(1);
    expect(minor).toBeGreaterThanOrEqual(Number(MINIMUM_TERRAFORM_VERSION.split(".")[1]));
  });

  it("every job that runs cdktf against AWS sets up the pinned Terraform and credentials first", () => {
    for (const { file, id, job } of allJobs()) {
      const list = steps(job);
      const cdktf = list.findIndex((s) => /\bcdktf (diff|deploy)\b/.test(s.run ?? ""));
      if (cdktf === -1) continue;
      const terraform = list.findIndex((s) => s.uses?.startsWith("hashicorp/setup-terraform@"));
      const aws = list.findIndex((s) =>
        s.uses?.startsWith("aws-actions/configure-aws-credentials@"),
      );
      expect(terraform, `${file} ${id}`).toBeGreaterThanOrEqual(0);
      expect(terraform).toBeLessThan(cdktf);
      expect(aws, `${file} ${id}`).toBeGreaterThanOrEqual(0);
      expect(aws).toBeLessThan(cdktf);
    }
  });
});

describe("ci.yml", () => {
  const ci = load("ci.yml");

  it("runs on pushes to main, pull requests, and when deploy.yml calls it", () => {
    expect(Object.keys(ci.on).sort()).toEqual(["pull_request", "push", "workflow_call"]);
    expect(ci.on.push).toEqual({ branches: ["main"] });
  });

  it("installs, typechecks, lints, tests, synthesizes, validates and uploads cdktf.out, in that order", () => {
    const job = ci.jobs.test;
    expect(steps(job).flatMap((s) => (s.run ? [s.run] : []))).toEqual([
      "npm ci --no-audit --no-fund",
      "npm run typecheck",
      "npm run lint",
      "npx vitest run",
      "npm run synth",
      "npm run validate",
    ]);
    const last = steps(job).at(-1);
    expect(last?.uses).toMatch(/^actions\/upload-artifact@/);
    expect(last?.with).toMatchObject({ path: "cdktf.out/", "if-no-files-found": "error" });
  });

  it("runs npm run validate after setting up the pinned Terraform, pinned as deploy.yml pins it", () => {
    const list = steps(ci.jobs.test);
    const terraform = list.findIndex((s) => s.uses?.split("@")[0] === "hashicorp/setup-terraform");
    const validate = list.findIndex((s) => s.run === "npm run validate");
    expect(terraform).toBeGreaterThanOrEqual(0);
    expect(validate).toBeGreaterThan(terraform);
    expect(list[terraform]?.with).toEqual({
      terraform_version: TERRAFORM_VERSION,
      terraform_wrapper: false,
    });
    const firstDeploy = load("deploy.yml").jobs[deployJobId(ORDER[0] as string)] as Job;
    const deployPin = stepUsing(firstDeploy, "hashicorp/setup-terraform")[0]?.uses;
    expect(list[terraform]?.uses).toBe(deployPin);
  });

  it("cancels superseded runs of pull requests only", () => {
    expect(ci.concurrency?.["cancel-in-progress"]).toBe(
      expr("github.event_name == 'pull_request'"),
    );
  });
});

describe("deploy.yml", () => {
  const deploy = load("deploy.yml");

  it("runs on pushes to main and by hand", () => {
    expect(Object.keys(deploy.on).sort()).toEqual(["push", "workflow_dispatch"]);
    expect(deploy.on.push).toEqual({ branches: ["main"] });
  });

  it("is what src/cli/workflows.ts generates from envs/ (so is dr-drill.yml's list of environments)", () => {
    for (const { file, text: expected } of expectedWorkflows(
      ROOT,
      workflowEnvironments(join(ROOT, "envs")),
    )) {
      expect(
        readFileSync(file, "utf8") === expected,
        `${file} is out of date with envs/: run ${WORKFLOWS_COMMAND}`,
      ).toBe(true);
    }
    const io = { out: () => {}, err: (line: string) => errors.push(line) };
    const errors: string[] = [];
    expect(runWorkflowsCli(["--check"], io)).toBe(0);
    expect(errors).toEqual([]);
  });

  it("has one deploy job per environment file, in DEPLOY_ORDER, the last one (prod) last", () => {
    expect([...ORDER].sort()).toEqual(ENVIRONMENTS);
    expect(Object.keys(deploy.jobs)).toEqual(["test", ...ORDER.map(deployJobId)]);
    expect(ORDER.at(-1)).toBe(DEPLOY_ORDER.at(-1));
  });

  it("places an environment DEPLOY_ORDER does not list after every listed one but the last", () => {
    const envs = ["dev", "prod", "qa", "perf", "staging"].map((name) => ({ name }));
    const names = (order?: readonly string[]) => deployOrder(envs, order).map((env) => env.name);
    expect(names(["dev", "staging", "prod"])).toEqual(["dev", "staging", "perf", "qa", "prod"]);
    // Listed ones keep their place; a listed name without an env file is skipped.
    expect(names(["dev", "qa", "staging", "gone", "prod"])).toEqual([
      "dev",
      "qa",
      "staging",
      "perf",
      "prod",
    ]);
    expect(names([])).toEqual(["dev", "perf", "prod", "qa", "staging"]);
  });

  it("chains each generated job to the one before it", () => {
    const generated = parse(
      deployWorkflow([
        { name: "dev", stack: "shop-dev" },
        { name: "qa", stack: "shop-qa" },
        { name: "prod", stack: "shop-prod" },
      ]),
    ) as Workflow;
    expect(Object.entries(generated.jobs).map(([id, job]) => [id, job.needs])).toEqual([
      ["test", undefined],
      ["deploy-dev", "test"],
      ["deploy-qa", "deploy-dev"],
      ["deploy-prod", "deploy-qa"],
    ]);
    expect(steps(generated.jobs["deploy-qa"] as Job).at(-1)?.run).toBe(
      "npx cdktf deploy shop-qa --auto-approve",
    );
  });

  it("gives environments named like the test job or a YAML keyword a valid job of their own", async () => {
    const names = ["test", "null", "true", "on", "staging"];
    const generated = deployWorkflow(names.map((name) => ({ name, stack: `shop-${name}` })));
    expect(await workflowProblems(".github/workflows/deploy.yml", generated, ROOT)).toEqual([]);
    const jobs = (parse(generated) as Workflow).jobs;
    expect(Object.keys(jobs)).toEqual(["test", ...names.map(deployJobId)]);
    for (const name of names) {
      expect(jobs[deployJobId(name)]?.environment).toBe(name);
      expect(jobs[deployJobId(name)]?.env).toEqual({ SHOPSMART_ENVS: name });
    }
    const drill = parse(
      drillWorkflow(
        text("dr-drill.yml"),
        names.map((name) => ({ name, stack: name })),
      ),
    ) as {
      on: { workflow_dispatch: { inputs: { env: { options: unknown[] } } } };
    };
    expect(drill.on.workflow_dispatch.inputs.env.options).toEqual(names);
  });

  it("refuses to leave dr-drill.yml drilling an environment whose env file is gone", () => {
    const withoutStaging = DEPLOY_ENVIRONMENTS.filter((env) => env.name !== "staging");
    expect(() => drillWorkflow(text("dr-drill.yml"), withoutStaging)).toThrow(
      /^dr-drill\.yml drills staging on its schedule and by default, but there is no staging\.json env file; change "default: staging"/,
    );
  });

  it("fails to update dr-drill.yml when its generated line lost its marker, saying what to restore", () => {
    const withoutMarker = text("dr-drill.yml").replace(
      " # generated from envs/ by src/cli/workflows.ts",
      "",
    );
    expect(() => drillWorkflow(withoutMarker, DEPLOY_ENVIRONMENTS)).toThrow(
      new UserInputError(
        "dr-drill.yml has no line `options: [...] # generated from envs/ by src/cli/workflows.ts` under its env " +
          "input; put the marker back on the env input's options",
      ),
    );
  });

  it("tests first by calling ci.yml", () => {
    expect(deploy.jobs.test.uses).toBe("./.github/workflows/ci.yml");
  });

  it.each(ORDER.map((env, i) => [env, i === 0 ? "test" : deployJobId(ORDER[i - 1] as string)]))(
    "%s runs in its GitHub environment after %s, alone in its concurrency group",
    (env, previous) => {
      const job = deploy.jobs[deployJobId(env as string)];
      expect(job.needs).toBe(previous);
      expect(job.environment).toBe(env);
      expect(job.concurrency).toEqual({
        group: `deploy-${env}`,
        "cancel-in-progress": false,
        queue: "max",
      });
    },
  );

  it.each(ORDER)(
    "%s shows the diff, checks the live topology against activeRegion, then deploys its stack without a prompt",
    (env) => {
      const stack = `${envFile(env).project}-${env}`;
      const runs = steps(deploy.jobs[deployJobId(env)]).flatMap((s) => (s.run ? [s.run] : []));
      expect(runs.slice(-3)).toEqual([
        `npx cdktf diff ${stack}`,
        `npm run -s deploy-guard -- --env ${env} \${ALLOW_UNCHECKED_DEPLOY:+--allow-unchecked}`,
        `npx cdktf deploy ${stack} --auto-approve`,
      ]);
      // Only this environment's file must be valid (the test job checked every one).
      expect(deploy.jobs[deployJobId(env)]?.env).toEqual({ SHOPSMART_ENVS: env });
    },
  );

  it("the deploy jobs are the same apart from the environment name", () => {
    const normalized = ORDER.map((env, index) =>
      JSON.stringify(deploy.jobs[deployJobId(env)])
        .replaceAll(
          `"needs":"${index === 0 ? "test" : deployJobId(ORDER[index - 1] as string)}"`,
          "",
        )
        .replaceAll(env, "<env>"),
    );
    for (const job of normalized) expect(job).toBe(normalized[0]);
  });

  it("passes --allow-unchecked to the deploy guard only when dispatched with allow-unchecked-deploy", () => {
    expect(deploy.env?.ALLOW_UNCHECKED_DEPLOY).toBe(
      expr("inputs.allow-unchecked-deploy && 'true' || ''"),
    );
    const input = (deploy.on.workflow_dispatch as { inputs: Record<string, unknown> }).inputs;
    expect(input["allow-unchecked-deploy"]).toMatchObject({ type: "boolean", default: false });
    const guard = steps(deploy.jobs[deployJobId(ORDER[0] as string)] as Job).find(
      (s) => s.name === "Topology matches activeRegion",
    )?.run as string;
    const argsWith = (value: string) =>
      spawnSync("bash", ["-c", guard.replace(/^npm run -s deploy-guard -- /, 'printf "%s\\n" ')], {
        env: { PATH: "/usr/bin:/bin", ALLOW_UNCHECKED_DEPLOY: value },
        encoding: "utf8",
      }).stdout;
    expect(argsWith("")).toBe(`--env\n${ORDER[0]}\n`);
    expect(argsWith("true")).toBe(`--env\n${ORDER[0]}\n--allow-unchecked\n`);
  });

  it("uses the primary state unless dispatched with the replica", () => {
    expect(deploy.env?.SHOPSMART_STATE_LOCATION).toBe(expr("inputs.state-location || 'primary'"));
    const input = (deploy.on.workflow_dispatch as { inputs: Record<string, unknown> }).inputs;
    expect(input["state-location"]).toMatchObject({
      type: "choice",
      options: ["primary", "replica"],
      default: "primary",
    });
  });
});

describe("dr-drill.yml", () => {
  const drillWorkflow = load("dr-drill.yml");
  const job = drillWorkflow.jobs.drill;
  const step = (id: string) => {
    const found = steps(job).find((s) => s.id === id || s.name === id);
    if (!found?.run && !found?.uses) throw new Error(`no step ${id}`);
    return found;
  };

  it("runs monthly and by hand, hours away from the weekly drill in AWS (two at once would meet a 409)", () => {
    expect(Object.keys(drillWorkflow.on).sort()).toEqual(["schedule", "workflow_dispatch"]);
    expect(drillWorkflow.on.schedule).toEqual([{ cron: "0 9 15 * *" }]);
    const [minute, hour] = githubCron(envFile("staging").drill.schedule).split(" ").map(Number);
    const inAws = (hour ?? 0) * 60 + (minute ?? 0);
    // The 15th may be a drill day; the scheduled drill (hold 5 min) is long over by then.
    expect(9 * 60 - inAws).toBeGreaterThanOrEqual(120);
    expect(githubCron("cron(0 6 ? * WED *)")).toBe("0 6 * * 3");
    expect(githubCron("cron(30 4 ? * 2-6 *)")).toBe("30 4 * * 1-5");
  });

  it("takes the environment, the hold time and dry-run as inputs, defaulting to staging", () => {
    const inputs = (drillWorkflow.on.workflow_dispatch as { inputs: Record<string, unknown> })
      .inputs;
    expect(inputs.env).toMatchObject({ type: "choice", default: "staging" });
    expect([...(inputs.env as { options: string[] }).options].sort()).toEqual(ENVIRONMENTS);
    expect(inputs.hold).toMatchObject({ type: "string", required: false });
    expect(inputs["dry-run"]).toMatchObject({ type: "boolean", default: false });
    expect(job.env).toEqual({
      DRILL_ENV: expr("inputs.env || 'staging'"),
      DRILL_HOLD: expr("inputs.hold"),
      DRILL_DRY_RUN: expr("inputs.dry-run && 'true' || 'false'"),
      // The drill role cannot read state: the URLs come from the environment's variables.
      SHOPSMART_DR_API_URL: expr("vars.SHOPSMART_DR_API_URL"),
      SHOPSMART_DR_APP_URL: expr("vars.SHOPSMART_DR_APP_URL"),
    });
  });

  it("never overlaps a deploy of the same environment (same queued group, never cancelled)", () => {
    expect(job.concurrency).toEqual({
      group: `deploy-${expr("inputs.env || 'staging'")}`,
      "cancel-in-progress": false,
      queue: "max",
    });
    expect(job.environment).toBe(`drill-${expr("inputs.env || 'staging'")}`);
  });

  it("fails the job when the drill fails: no continue-on-error anywhere", () => {
    expect(job["continue-on-error"]).toBeUndefined();
    for (const s of steps(job)) expect(s["continue-on-error"], s.name).toBeUndefined();
  });

  it("writes the report to the job summary and uploads it even when the drill failed", () => {
    expect(step("Report to the job summary").if).toBe(
      "always() && steps.settings.outputs.run == 'true'",
    );
    expect(step("Report to the job summary").run).toContain('>> "$GITHUB_STEP_SUMMARY"');
    const upload = step("Upload the report");
    expect(upload.if).toBe("always() && steps.settings.outputs.run == 'true'");
    expect(upload.uses).toMatch(/^actions\/upload-artifact@/);
    expect(upload.with?.path).toBe("drill-report/");
  });

  describe("its scripts, run the way GitHub runs them (bash -eo pipefail)", () => {
    const scratch = mkdtempSync(join(tmpdir(), "shopsmart-drill-workflow-"));
    afterAll(() => rmSync(scratch, { recursive: true, force: true }));
    const bin = join(scratch, "bin");
    const fakeNpm = join(bin, "npm");
    mkdirSync(bin);
    writeFileSync(
      fakeNpm,
      `#!/bin/sh\nprintf "%s\\n" "$@" > "$FAKE_NPM_ARGS"\nexit "\${FAKE_NPM_EXIT:-0}"\n`,
      { mode: 0o755 },
    );

    function bash(script: string, env: Record<string, string>, cwd = ROOT) {
      const output = join(scratch, `output-${Math.random().toString(36).slice(2)}`);
      writeFileSync(output, "");
      const result = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script], {
        cwd,
        encoding: "utf8",
        env: {
          PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin`,
          GITHUB_OUTPUT: output,
          ...env,
        },
      });
      const outputs = Object.fromEntries(
        readFileSync(output, "utf8")
          .split("\n")
          .filter(Boolean)
          .map((line) => line.split("=", 2) as [string, string]),
      );
      return { status: result.status, stdout: result.stdout, outputs };
    }

    const settings = (env: Record<string, string>) => bash(step("settings").run as string, env);

    it("settings: hold defaults to drill.holdMinutes; a scheduled run honours drill.enabled", () => {
      const staging = envFile("staging").drill;
      expect(staging.enabled).toBe(true);
      expect(
        settings({ DRILL_ENV: "staging", DRILL_HOLD: "", GITHUB_EVENT_NAME: "schedule" }),
      ).toMatchObject({ status: 0, outputs: { hold: String(staging.holdMinutes), run: "true" } });
      expect(envFile("dev").drill.enabled).toBe(false);
      const skipped = settings({ DRILL_ENV: "dev", DRILL_HOLD: "", GITHUB_EVENT_NAME: "schedule" });
      expect(skipped).toMatchObject({ status: 0, outputs: { run: "false" } });
      expect(skipped.stdout).toContain("::notice::drill.enabled is false in envs/dev.json");
      expect(
        settings({ DRILL_ENV: "dev", DRILL_HOLD: "12", GITHUB_EVENT_NAME: "workflow_dispatch" }),
      ).toMatchObject({ status: 0, outputs: { hold: "12", run: "true" } });
    });

    it("settings: a hold that is not a whole number of minutes, or over 60, stops the job", () => {
      const bad = settings({
        DRILL_ENV: "staging",
        DRILL_HOLD: "5m",
        GITHUB_EVENT_NAME: "workflow_dispatch",
      });
      expect(bad.status).toBe(1);
      expect(bad.stdout).toContain("::error::hold must be a whole number of minutes; got '5m'");
      const long = settings({
        DRILL_ENV: "staging",
        DRILL_HOLD: "61",
        GITHUB_EVENT_NAME: "workflow_dispatch",
      });
      expect(long.status).toBe(1);
      expect(long.stdout).toContain("::error::hold is at most 60 minutes; got 61");
    });

    function drill(exitCode: number, dryRun: boolean) {
      const argsFile = join(scratch, `npm-args-${exitCode}-${dryRun}`);
      const result = bash(step("drill").run as string, {
        DRILL_ENV: "staging",
        HOLD: "7",
        DRILL_DRY_RUN: String(dryRun),
        FAKE_NPM_ARGS: argsFile,
        FAKE_NPM_EXIT: String(exitCode),
      });
      return { status: result.status, args: readFileSync(argsFile, "utf8").trim().split("\n") };
    }

    it("drill: runs the drill CLI with the environment, hold and report directory", () => {
      const base = ["run", "drill", "--", "--env", "staging", "--hold", "7"];
      expect(drill(0, false)).toEqual({
        status: 0,
        args: [...base, "--report-dir", "drill-report"],
      });
      expect(drill(0, true).args).toEqual([...base, "--report-dir", "drill-report", "--dry-run"]);
    });

    it("drill: a miss (the CLI exits non-zero) fails the step", () => {
      expect(drill(1, false).status).toBe(1);
      expect(drill(3, false).status).toBe(3);
    });

    it("report: appends every Markdown report to the job summary; no report fails the step", () => {
      const script = step("Report to the job summary").run as string;
      const workdir = mkdtempSync(join(scratch, "report-"));
      const summary = join(workdir, "summary.md");
      writeFileSync(summary, "");
      const none = bash(script, { DRILL_ENV: "staging", GITHUB_STEP_SUMMARY: summary }, workdir);
      expect(none.status).toBe(1);
      expect(readFileSync(summary, "utf8")).toContain("### DR drill of staging: no report");

      writeFileSync(summary, "");
      mkdirSync(join(workdir, "drill-report"));
      writeFileSync(join(workdir, "drill-report/report.md"), "## Drill of staging\nRTO 95 s\n");
      writeFileSync(join(workdir, "drill-report/report.json"), "{}");
      const found = bash(script, { DRILL_ENV: "staging", GITHUB_STEP_SUMMARY: summary }, workdir);
      expect(found.status).toBe(0);
      expect(readFileSync(summary, "utf8")).toBe("## Drill of staging\nRTO 95 s\n\n");
    });
  });
});

/**
 * An EventBridge Scheduler `cron(min hour day-of-month month day-of-week year)` as a GitHub
 * Actions (POSIX) cron: `?` becomes `*`, day names become 0-6, the year field is dropped.
 */
function githubCron(expression: string): string {
  const fields = /^cron\((.*)\)$/.exec(expression)?.[1].trim().split(/\s+/);
  if (fields?.length !== 6) throw new Error(`not an EventBridge cron expression: ${expression}`);
  if (fields[5] !== "*") throw new Error(`GitHub cannot run in a given year: ${expression}`);
  const days = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
  const dayOfWeek = fields[4]
    .replace(/\b[1-7]\b/g, (day) => String(Number(day) - 1)) // EventBridge numbers SUN as 1
    .replace(/[A-Z]{3}/g, (name) => String(days.indexOf(name)));
  return [...fields.slice(0, 4), dayOfWeek].map((f) => (f === "?" ? "*" : f)).join(" ");
}
