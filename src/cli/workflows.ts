import { readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { namePrefixOf } from "../../functions/shared/resource-names";
import { loadEnvConfigs } from "../config/load";
import { UserInputError } from "../errors";
import { environmentsDirectory } from "./environment-selection";

/**
 * `npm run workflows` ({@link WORKFLOWS_COMMAND}): writes the parts of the GitHub workflows that follow from envs/, so adding
 * an environment is adding its file and running this. `--check` writes nothing and exits 1 when
 * a workflow is out of date (tests/workflows/workflows.test.ts does the same check).
 *
 * - `.github/workflows/deploy.yml` is generated whole: one deploy job per env file, each after
 *   the one before it in {@link deployOrder}.
 * - `.github/workflows/dr-drill.yml` is written by hand; only the choices of its `env` input
 *   are generated (the line marked `# generated from envs/ by src/cli/workflows.ts`).
 *
 * Why generated rather than a matrix built at run time by a setup job: GitHub Actions can build
 * a job matrix from a previous job's output (`fromJSON(needs.<job>.outputs...)`), but a
 * `workflow_dispatch` choice input must be literal, the jobs of a matrix only appear once the
 * setup job ran, and a matrix has no `needs` between its own jobs: dev -> staging -> prod would
 * rest on `max-parallel: 1` running the entries in order, with every approval in one job's
 * matrix. Generated jobs keep one job per environment with its own `needs`, GitHub environment,
 * approval and concurrency group, visible in the run graph before anything runs.
 */

const ROOT = resolve(__dirname, "../..");

/** How to run this (messages and the generated header say it). */
export const WORKFLOWS_COMMAND = "npm run workflows";

/**
 * Where environments go in deploy.yml's chain, each deployed after the one before it succeeded.
 * The last entry is the production gate: an env file not listed here deploys after every listed
 * one but the last (so a new `qa` goes dev -> staging -> qa -> prod). List it to choose another
 * place; entries without an env file are skipped.
 */
export const DEPLOY_ORDER: readonly string[] = ["dev", "staging", "prod"];

/** What the workflows need to know of one environment. */
export interface WorkflowEnvironment {
  /** The env file's name without `.json`. */
  readonly name: string;
  /** `<project>-<name>`, the stack `cdktf diff` and `cdktf deploy` take. */
  readonly stack: string;
}

/**
 * The environments in the order deploy.yml deploys them: the listed ones in `order`, then the
 * unlisted ones by name, all before the last listed one (see {@link DEPLOY_ORDER}).
 */
export function deployOrder<T extends { readonly name: string }>(
  environments: readonly T[],
  order: readonly string[] = DEPLOY_ORDER,
): T[] {
  const listed = order.flatMap((name) => environments.filter((env) => env.name === name));
  const unlisted = environments
    .filter((env) => !order.includes(env.name))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (listed.length === 0) return unlisted;
  return [...listed.slice(0, -1), ...unlisted, ...listed.slice(-1)];
}

/** The environments of `envsDir`, validated (a workflow for a broken env file helps no one). */
export function workflowEnvironments(envsDir: string): WorkflowEnvironment[] {
  return loadEnvConfigs(envsDir).map((config) => ({
    name: config.environment,
    stack: namePrefixOf(config.project, config.environment),
  }));
}

const HEADER = `# GENERATED from envs/ by src/cli/workflows.ts: do not edit by hand, run
# \`${WORKFLOWS_COMMAND}\` after changing envs/ or that file;
# tests/workflows/workflows.test.ts fails when this file and envs/ disagree. To add an environment
# see docs/environments.md.
#
# Test, then deploy every environment in turn (DEPLOY_ORDER in src/cli/workflows.ts), one job per
# environment. Each job runs in the GitHub environment of the same name, so that environment's
# protection rules (required reviewers, the main branch only) are the approvals, and its variables
# hold the AWS role to assume (OIDC; no AWS keys are stored in GitHub). Each job synthesizes only
# its own environment (SHOPSMART_ENVS; the test job synthesized and checked all of them), shows
# \`cdktf diff\`, checks the live topology, then runs \`cdktf deploy --auto-approve\`.
name: deploy

on:
  push:
    branches: [main]
  workflow_dispatch:
    inputs:
      state-location:
        description: >-
          Terraform state to use: primary, or replica while the state region is down
          (docs/operate.md: When the state region is down)
        type: choice
        options: [primary, replica]
        default: primary
      allow-unchecked-deploy:
        description: >-
          Deploy even when the deploy guard cannot check the live topology (stack outputs or
          the operations API unreadable). Never overrides a known mismatch with activeRegion.
        type: boolean
        default: false

# Nothing by default; each job asks for what it needs.
permissions: {}

env:
  CHECKPOINT_DISABLE: "1" # cdktf must not phone home
  SHOPSMART_STATE_LOCATION: \${{ inputs.state-location || 'primary' }}
  ALLOW_UNCHECKED_DEPLOY: \${{ inputs.allow-unchecked-deploy && 'true' || '' }}

jobs:
  test:
    name: test
    uses: ./.github/workflows/ci.yml
    permissions:
      contents: read

  # The deploy jobs are identical apart from the environment name (a test checks this).
  # Concurrency: one deploy-<env> group per environment, shared with dr-drill.yml; never cancelled
  # (a cancelled apply can leave resources half-changed and the state locked); queued in order
  # (queue: max) so that neither a deploy nor a drill replaces another one waiting for the same
  # environment (by default a group keeps only the newest pending run).
`;

/**
 * A deploy job's id. Not the bare environment name: an environment called `test` would collide
 * with the test job, and one called `null`, `true` or `false` would be a YAML keyword.
 */
export function deployJobId(environment: string): string {
  return `deploy-${environment}`;
}

/** A YAML string scalar, quoted: environment names like `null` or `on` must stay strings. */
function quoted(value: string): string {
  return JSON.stringify(value);
}

function deployJob(env: WorkflowEnvironment, needs: string): string {
  return `  ${deployJobId(env.name)}:
    name: deploy ${env.name}
    needs: ${needs}
    runs-on: ubuntu-24.04
    environment: ${quoted(env.name)}
    concurrency:
      group: ${quoted(`deploy-${env.name}`)}
      cancel-in-progress: false
      queue: max
    permissions:
      contents: read
      id-token: write # OIDC token for aws-actions/configure-aws-credentials
    env:
      SHOPSMART_ENVS: ${quoted(env.name)} # synthesize this environment only
    steps:
      - name: Check out
        uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
        with:
          persist-credentials: false

      - name: Set up Node.js
        uses: actions/setup-node@820762786026740c76f36085b0efc47a31fe5020 # v7.0.0
        with:
          node-version: "22"
          cache: npm

      - name: Set up Terraform
        uses: hashicorp/setup-terraform@dfe3c3f87815947d99a8997f908cb6525fc44e9e # v4.0.1
        with:
          terraform_version: 1.13.5
          terraform_wrapper: false # cdktf runs terraform itself and reads its output

      - name: Install
        run: npm ci --no-audit --no-fund

      - name: AWS credentials (OIDC)
        uses: aws-actions/configure-aws-credentials@e6de054238d6b7531b4efff3b6587d9aade6a06c # v6.2.3
        with:
          role-to-assume: \${{ vars.AWS_DEPLOY_ROLE_ARN }}
          aws-region: \${{ vars.AWS_REGION || 'us-east-2' }}
          role-session-name: shopsmart-deploy-${env.name}-\${{ github.run_id }}

      - name: Diff
        run: npx cdktf diff ${env.stack}

      # After a failover the database writes in the secondary region; a deploy with the env file
      # still saying activeRegion primary would move traffic back to the failed region. Fails
      # closed: a topology it cannot read stops the job unless allow-unchecked-deploy is set.
      - name: Topology matches activeRegion
        run: npm run -s deploy-guard -- --env ${env.name} \${ALLOW_UNCHECKED_DEPLOY:+--allow-unchecked}

      - name: Deploy
        run: npx cdktf deploy ${env.stack} --auto-approve
`;
}

/** The whole of deploy.yml for these environments, given in deploy order. */
export function deployWorkflow(environments: readonly WorkflowEnvironment[]): string {
  const jobs = environments.map((env, index) =>
    deployJob(
      env,
      index === 0 ? "test" : deployJobId((environments[index - 1] as WorkflowEnvironment).name),
    ),
  );
  return `${HEADER}${jobs.join("\n")}`;
}

/** The generated line of dr-drill.yml: the choices of its `env` input. */
const DRILL_CHOICES =
  /^( +options: )\[[^\]\n]*\]( # generated from envs\/ by src\/cli\/workflows\.ts)$/m;

/** The environment dr-drill.yml drills on its schedule and by default (`default:`). */
const SCHEDULED_DRILL = /^ +default: (\S+)$/m;

/** dr-drill.yml with the choices of its `env` input set to these environments. */
export function drillWorkflow(
  current: string,
  environments: readonly WorkflowEnvironment[],
): string {
  // The schedule's environment is written by hand (default and fallbacks): without its env file
  // the monthly drill would fail every month while --check said the file is up to date.
  const scheduled = SCHEDULED_DRILL.exec(current)?.[1];
  if (scheduled !== undefined && !environments.some((env) => env.name === scheduled)) {
    throw new UserInputError(
      `dr-drill.yml drills ${scheduled} on its schedule and by default, but there is no ` +
        `${scheduled}.json env file; change "default: ${scheduled}" and the '${scheduled}' ` +
        `fallbacks in dr-drill.yml to an environment there is (${environments.map((env) => env.name).join(", ")})`,
    );
  }
  if (!DRILL_CHOICES.test(current)) {
    throw new UserInputError(
      "dr-drill.yml has no line `options: [...] # generated from envs/ by src/cli/workflows.ts` under its env " +
        "input; put the marker back on the env input's options",
    );
  }
  const names = environments.map((env) => quoted(env.name)).join(", ");
  return current.replace(DRILL_CHOICES, `$1[${names}]$2`);
}

/** Each workflow file that follows from envs/, with the text it should have. */
export function expectedWorkflows(
  root: string,
  environments: readonly WorkflowEnvironment[],
): { file: string; text: string }[] {
  const dir = join(root, ".github", "workflows");
  const ordered = deployOrder(environments);
  const drillFile = join(dir, "dr-drill.yml");
  return [
    { file: join(dir, "deploy.yml"), text: deployWorkflow(ordered) },
    { file: drillFile, text: drillWorkflow(readFileSync(drillFile, "utf8"), ordered) },
  ];
}

/** `npm run workflows [-- --check]`; returns the exit code. */
export function runWorkflowsCli(
  argv: readonly string[],
  io: { out(line: string): void; err(line: string): void },
  options: { root?: string; environment?: NodeJS.ProcessEnv } = {},
): number {
  const usage = `usage: ${WORKFLOWS_COMMAND} [--check]`;
  let check: boolean;
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: { check: { type: "boolean" } },
      strict: true,
    });
    check = values.check === true;
  } catch (error) {
    io.err(`${(error as Error).message}\n${usage}`);
    return 2;
  }
  const root = options.root ?? ROOT;
  let expected: { file: string; text: string }[];
  try {
    expected = expectedWorkflows(
      root,
      workflowEnvironments(environmentsDirectory(root, options.environment)),
    );
  } catch (error) {
    if (!(error instanceof UserInputError)) throw error;
    io.err(error.message);
    return 2;
  }
  const stale = expected.filter(({ file, text }) => readFileSync(file, "utf8") !== text);
  for (const { file, text } of stale) {
    const shown = relative(root, file);
    if (check) io.err(`${shown} is out of date with envs/: run ${WORKFLOWS_COMMAND} and commit it`);
    else {
      writeFileSync(file, text);
      io.out(`wrote ${shown}`);
    }
  }
  if (stale.length === 0) io.out("workflows are up to date with envs/");
  return check && stale.length > 0 ? 1 : 0;
}

if (require.main === module) {
  process.exitCode = runWorkflowsCli(process.argv.slice(2), {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
  });
}
