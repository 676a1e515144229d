import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  type BackendIdentity,
  backendProblem,
  findExecutable,
  initializedBackend,
  listEnvironments,
  parseStateArgs,
  synthesizedBackend,
  TERRAFORM_VERSION,
  terraformArguments,
  terraformNotInstalledMessage,
  USAGE,
  unknownEnvironmentMessage,
} from "../../src/cli/state";
import { SHIPPED_ENVIRONMENTS, UNKNOWN_ENVIRONMENT } from "../support/shipped-environments";

/**
 * `npm run state -- <env> <terraform args...>`: the pure parts directly, then the command as
 * users run it, with a fake `terraform` on PATH that prints how it was called.
 */

const ROOT = resolve(__dirname, "../..");
const LAUNCHER = join(ROOT, "src/app-bundle/run.cjs");
const scratch = mkdtempSync(join(tmpdir(), "shopsmart-state-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const PRIMARY: BackendIdentity = {
  bucket: "shopsmart-tfstate-example",
  key: "shopsmart/prod/terraform.tfstate",
  region: "us-east-2",
};
const REPLICA: BackendIdentity = {
  ...PRIMARY,
  bucket: "shopsmart-tfstate-example-replica",
  region: "us-west-2",
};

describe("parseStateArgs", () => {
  it("takes the environment, then passes everything else to terraform", () => {
    expect(parseStateArgs(["prod", "state", "show", "-no-color", "aws_s3_bucket.x"])).toEqual({
      kind: "run",
      env: "prod",
      terraformArgs: ["state", "show", "-no-color", "aws_s3_bucket.x"],
    });
  });

  it("asks for help", () => {
    expect(parseStateArgs(["--help"])).toEqual({ kind: "help" });
    expect(parseStateArgs(["-h"])).toEqual({ kind: "help" });
  });

  it("rejects a missing environment, an option in its place, a missing command, and -chdir", () => {
    expect(parseStateArgs([])).toEqual({ kind: "error", message: "missing the environment name" });
    expect(parseStateArgs(["-json", "output"])).toEqual({
      kind: "error",
      message: 'the first argument is the environment name (e.g. prod); got "-json"',
    });
    expect(parseStateArgs(["prod"])).toEqual({
      kind: "error",
      message: "missing the terraform command to run in prod",
    });
    expect(parseStateArgs(["prod", "-chdir=elsewhere", "output"])).toEqual({
      kind: "error",
      message:
        '"-chdir=elsewhere": npm run state sets -chdir to the stack directory itself; remove it',
    });
  });
});

describe("environments", () => {
  it("are the env files", () => {
    const files = readdirSync(join(ROOT, "envs")).filter((file) => file.endsWith(".json"));
    expect(listEnvironments(join(ROOT, "envs"))).toEqual(
      files.map((file) => file.slice(0, -".json".length)).sort(),
    );
    expect(SHIPPED_ENVIRONMENTS).toContain("prod");
    expect(listEnvironments(join(scratch, "missing"))).toEqual([]);
  });

  it("an unknown one is named with the ones that exist", () => {
    expect(unknownEnvironmentMessage(UNKNOWN_ENVIRONMENT, ["dev", "prod", "staging"], "envs")).toBe(
      `Unknown environment "${UNKNOWN_ENVIRONMENT}": there is no envs/${UNKNOWN_ENVIRONMENT}.json.\nAvailable environments: dev, prod, staging.`,
    );
    expect(unknownEnvironmentMessage(UNKNOWN_ENVIRONMENT, [], "conf")).toBe(
      `Unknown environment "${UNKNOWN_ENVIRONMENT}": there is no conf/${UNKNOWN_ENVIRONMENT}.json.\nconf holds no environment files.`,
    );
  });
});

describe("terraform invocation", () => {
  it("puts -chdir first, then the arguments unchanged", () => {
    expect(terraformArguments("cdktf.out/stacks/shopsmart-prod", ["output", "-json"])).toEqual([
      "-chdir=cdktf.out/stacks/shopsmart-prod",
      "output",
      "-json",
    ]);
  });

  it("finds an executable on PATH, skipping empty entries and files that cannot run", () => {
    const dir = mkdtempSync(join(scratch, "path-"));
    const plain = mkdtempSync(join(scratch, "path-"));
    writeFileSync(join(dir, "terraform"), "#!/bin/sh\n", { mode: 0o755 });
    writeFileSync(join(plain, "terraform"), "not executable", { mode: 0o644 });
    expect(findExecutable("terraform", `:${plain}:${dir}`)).toBe(join(dir, "terraform"));
    expect(findExecutable("terraform", plain)).toBeUndefined();
    expect(findExecutable("terraform", "")).toBeUndefined();
    expect(findExecutable("terraform", undefined)).toBeUndefined();
  });

  it("when terraform is missing, says so and how to install it (apt repository, tfenv)", () => {
    const message = terraformNotInstalledMessage("cdktf.out/stacks/shopsmart-prod");
    expect(message.split("\n")[0]).toBe(
      "terraform is not installed (not found on PATH), so npm run state cannot run it in cdktf.out/stacks/shopsmart-prod.",
    );
    expect(message).toContain(`Install Terraform 1.11 or newer (CI pins ${TERRAFORM_VERSION})`);
    expect(message).toContain("https://apt.releases.hashicorp.com");
    expect(message).toContain(`sudo apt-get install terraform=${TERRAFORM_VERSION}-1`);
    expect(message).toContain(
      `tfenv install ${TERRAFORM_VERSION} && tfenv use ${TERRAFORM_VERSION}`,
    );
    expect(message).toContain("https://developer.hashicorp.com/terraform/install");
  });
});

describe("backend check", () => {
  it("reads the backend of a synthesized stack and of an initialized directory", () => {
    expect(
      synthesizedBackend({
        terraform: { backend: { s3: { ...PRIMARY, encrypt: true, use_lockfile: true } } },
      }),
    ).toEqual(PRIMARY);
    expect(synthesizedBackend({ terraform: {} })).toBeUndefined();
    const recorded = JSON.stringify({
      version: 3,
      terraform_version: "1.13.5",
      backend: { type: "s3", config: { ...REPLICA, encrypt: true, profile: null }, hash: 1 },
    });
    expect(initializedBackend(recorded)).toEqual(REPLICA);
    expect(initializedBackend(undefined)).toBeUndefined();
    expect(initializedBackend("{not json")).toBeUndefined();
    expect(initializedBackend(JSON.stringify({ version: 3, backend: { type: "local" } }))).toBe(
      undefined,
    );
  });

  const check = {
    env: "prod",
    stackDir: "cdktf.out/stacks/shopsmart-prod",
    location: "primary" as const,
    terraformArgs: ["state", "list"],
    initialized: PRIMARY,
    synthesized: PRIMARY,
  };

  it("lets terraform run when the directory was initialized against the same backend", () => {
    expect(backendProblem(check)).toBeUndefined();
  });

  it("leaves a change of lock settings alone (Terraform asks for init -reconfigure itself): the state copy is the same", () => {
    const withTable = JSON.stringify({
      version: 3,
      backend: {
        type: "s3",
        config: { ...PRIMARY, dynamodb_table: "shopsmart-tfstate-lock", use_lockfile: null },
      },
    });
    expect(backendProblem({ ...check, initialized: initializedBackend(withTable) })).toBe(
      undefined,
    );
  });

  it("asks for init first when the directory was never initialized", () => {
    expect(backendProblem({ ...check, initialized: undefined })).toBe(
      [
        "cdktf.out/stacks/shopsmart-prod is not initialized yet. Run once:",
        "  npm run state -- prod init",
        "then run your command again.",
      ].join("\n"),
    );
  });

  it("asks for init -reconfigure (never -migrate-state) after switching to the replica", () => {
    expect(backendProblem({ ...check, location: "replica", synthesized: REPLICA })).toBe(
      [
        "cdktf.out/stacks/shopsmart-prod was initialized with the state in s3://shopsmart-tfstate-example/shopsmart/prod/terraform.tfstate (us-east-2),",
        "but its backend is now the replica state bucket (SHOPSMART_STATE_LOCATION=replica): s3://shopsmart-tfstate-example-replica/shopsmart/prod/terraform.tfstate (us-west-2).",
        "Re-initialize against it, then run your command again:",
        "  SHOPSMART_STATE_LOCATION=replica npm run state -- prod init -reconfigure",
        "(-reconfigure only switches to the other copy of the same state; do not use -migrate-state,",
        "which copies state from one bucket over the other.)",
      ].join("\n"),
    );
  });

  it("asks for init -reconfigure when switching back to the primary", () => {
    const problem = backendProblem({ ...check, initialized: REPLICA });
    expect(problem).toContain(
      "but its backend is now the primary state bucket (SHOPSMART_STATE_LOCATION unset)",
    );
    expect(problem).toContain("\n  npm run state -- prod init -reconfigure\n");
  });

  it("never blocks init itself, nor commands that need no backend", () => {
    for (const args of [["init"], ["init", "-reconfigure"], ["version"], ["-help"], ["fmt"]]) {
      expect(backendProblem({ ...check, terraformArgs: args, initialized: REPLICA })).toBe(
        undefined,
      );
      expect(backendProblem({ ...check, terraformArgs: args, initialized: undefined })).toBe(
        undefined,
      );
    }
  });
});

describe("npm run state (end to end, fake terraform)", () => {
  // One environment keeps each synth to about a second; outputs go to a scratch directory.
  const envsDir = join(scratch, "envs");
  mkdirSync(envsDir);
  copyFileSync(join(ROOT, "envs/dev.json"), join(envsDir, "dev.json"));
  const outdir = join(scratch, "out");
  const stackDir = join(outdir, "stacks/shopsmart-dev");
  const bin = join(scratch, "bin");
  mkdirSync(bin);
  writeFileSync(
    join(bin, "terraform"),
    [
      "#!/bin/sh",
      'printf "cwd=%s\\n" "$PWD"',
      'for arg in "$@"; do printf "arg=%s\\n" "$arg"; done',
      'if [ -n "$FAKE_TERRAFORM_SIGNAL" ]; then kill -s "$FAKE_TERRAFORM_SIGNAL" $$; fi',
      `exit "\${FAKE_TERRAFORM_EXIT:-0}"`,
      "",
    ].join("\n"),
    { mode: 0o755 },
  );

  /** Runs the CLI as `npm run state` does (its prebuilt bundle), with only the fake terraform on PATH. */
  function state(args: string[], extra: Record<string, string> = {}) {
    const env: NodeJS.ProcessEnv = {
      HOME: process.env.HOME,
      PATH: bin,
      CHECKPOINT_DISABLE: "1",
      SHOPSMART_ENVS_DIR: envsDir,
      CDKTF_OUTDIR: outdir,
      ...extra,
    };
    const result = spawnSync(process.execPath, [LAUNCHER, "src/cli/state.ts", ...args], {
      cwd: ROOT,
      env,
      encoding: "utf8",
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  const invocation = (...args: string[]) =>
    [`cwd=${ROOT}`, `arg=-chdir=${stackDir}`, ...args.map((a) => `arg=${a}`), ""].join("\n");
  const backendOf = () =>
    (
      JSON.parse(readFileSync(join(stackDir, "cdk.tf.json"), "utf8")) as {
        terraform: { backend: { s3: BackendIdentity } };
      }
    ).terraform.backend.s3;
  /** What `terraform init` records in the working directory. */
  function recordInit(backend: BackendIdentity) {
    mkdirSync(join(stackDir, ".terraform"), { recursive: true });
    writeFileSync(
      join(stackDir, ".terraform/terraform.tfstate"),
      JSON.stringify({ version: 3, backend: { type: "s3", config: backend, hash: 1 } }),
    );
  }

  it("synthesizes, runs terraform in the stack directory and exits with its exit code", () => {
    const run = state(["dev", "init", "-input=false"], { FAKE_TERRAFORM_EXIT: "3" });
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe(invocation("init", "-input=false"));
    expect(run.status).toBe(3);
    expect(backendOf()).toMatchObject({ bucket: "shopsmart-tfstate-example", region: "us-east-2" });
  });

  it("once initialized, passes any command through; exits with 128 + n on signal n", () => {
    recordInit(backendOf());
    const run = state(["dev", "state", "list"], { FAKE_TERRAFORM_SIGNAL: "TERM" });
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe(invocation("state", "list"));
    expect(run.status).toBe(143);
  });

  it("with the replica state, stops until the directory is re-initialized (init passes)", () => {
    const replica = { SHOPSMART_STATE_LOCATION: "replica" };
    const blocked = state(["dev", "state", "list"], replica);
    expect(blocked.status).toBe(1);
    expect(blocked.stdout).toBe("");
    expect(blocked.stderr).toContain(
      "  SHOPSMART_STATE_LOCATION=replica npm run state -- dev init -reconfigure\n",
    );
    expect(backendOf()).toMatchObject({
      bucket: "shopsmart-tfstate-example-replica",
      region: "us-west-2",
    });

    const reinit = state(["dev", "init", "-reconfigure"], replica);
    expect(reinit.status).toBe(0);
    expect(reinit.stdout).toBe(invocation("init", "-reconfigure"));
  });

  it("without terraform on PATH: the install message, exit 127, nothing synthesized", () => {
    const elsewhere = join(scratch, "out-no-terraform");
    const run = state(["dev", "state", "list"], { PATH: "", CDKTF_OUTDIR: elsewhere });
    expect(run.status).toBe(127);
    expect(run.stdout).toBe("");
    expect(run.stderr.trimEnd()).toBe(
      terraformNotInstalledMessage(join(elsewhere, "stacks/shopsmart-dev")),
    );
    expect(existsSync(elsewhere)).toBe(false);
  });

  it("an unknown environment: the available ones, exit 2", () => {
    const run = state([UNKNOWN_ENVIRONMENT, "state", "list"]);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(
      `Unknown environment "${UNKNOWN_ENVIRONMENT}": there is no ${envsDir}/${UNKNOWN_ENVIRONMENT}.json.\nAvailable environments: dev.\n`,
    );
  });

  it("an invalid env file or state location: the problem, exit 2", () => {
    const badDir = join(scratch, "bad-envs");
    mkdirSync(badDir);
    writeFileSync(join(badDir, "dev.json"), '{"environment": "dev"}');
    const invalid = state(["dev", "output"], { SHOPSMART_ENVS_DIR: badDir });
    expect(invalid.status).toBe(2);
    expect(invalid.stderr).toMatch(/^Invalid environment config .*dev\.json \(\d+ problems\):/);

    const location = state(["dev", "output"], { SHOPSMART_STATE_LOCATION: "secondary" });
    expect(location.status).toBe(2);
    expect(location.stderr).toBe(
      'SHOPSMART_STATE_LOCATION: got "secondary"; expected "primary" or "replica" (unset means primary)\n',
    );
  });

  it("another env file is broken: a loud warning, and terraform still runs for this one (an incident must not wait for it)", () => {
    const mixed = join(scratch, "mixed-envs");
    mkdirSync(mixed);
    copyFileSync(join(ROOT, "envs/dev.json"), join(mixed, "dev.json"));
    writeFileSync(join(mixed, "broken.json"), "{");
    const mixedOut = join(scratch, "mixed-out");
    const run = state(["dev", "init"], { SHOPSMART_ENVS_DIR: mixed, CDKTF_OUTDIR: mixedOut });
    expect(run.stderr).toBe(
      `warning: ${relative(ROOT, join(mixed, "broken.json"))} is invalid and was skipped: SHOPSMART_ENVS=dev selects only dev. Fix it before the next synth of every environment, which refuses it:\n` +
        `Invalid environment config ${relative(ROOT, join(mixed, "broken.json"))} (1 problem):\n` +
        "  - not valid JSON: line 1, column 2: Expected property name or '}' (line 1: {)\n",
    );
    expect(run.stdout).toBe(
      [`cwd=${ROOT}`, `arg=-chdir=${join(mixedOut, "stacks/shopsmart-dev")}`, "arg=init", ""].join(
        "\n",
      ),
    );
    expect(run.status).toBe(0);
  });

  it("a failing synth of the selected environment: its message, exit 1, terraform not run", () => {
    const slow = join(scratch, "slow-envs");
    mkdirSync(slow);
    const dev = JSON.parse(readFileSync(join(ROOT, "envs/dev.json"), "utf8"));
    dev.dr.rtoSeconds = 60;
    writeFileSync(join(slow, "dev.json"), JSON.stringify(dev));
    const run = state(["dev", "state", "list"], { SHOPSMART_ENVS_DIR: slow });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain("cannot meet its DR targets");
    expect(run.stderr).toMatch(/Synth failed; terraform was not run\.\n$/);
  });

  it("usage errors: exit 2 with the usage; --help: the usage on stdout, exit 0", () => {
    const run = state(["dev"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`missing the terraform command to run in dev\n${USAGE}\n`);
    const help = state(["--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toBe(`${USAGE}\n`);
  });
});
