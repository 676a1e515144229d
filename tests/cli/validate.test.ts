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
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TERRAFORM_VERSION, terraformNotInstalledMessage } from "../../src/cli/state";
import {
  formatValidateResult,
  fullSourceAddress,
  MIRROR_VARIABLE,
  mirrorCliConfig,
  mirrorGaps,
  mirrorVersions,
  overrideWarning,
  parseValidateArgs,
  parseValidateOutput,
  prepareWorkingCopy,
  requiredProviders,
  runValidateCli,
  stacksInOutdir,
  terraformMissingMessage,
  USAGE,
  withAwsProviderVersion,
} from "../../src/cli/validate";
import { UNKNOWN_ENVIRONMENT } from "../support/shipped-environments";

/**
 * `npm run validate`: the pure parts directly, then the command with a fake `terraform` on PATH
 * that records how it was called (no Terraform binary or provider is needed; CI runs the real
 * one in ci.yml).
 */

const ROOT = resolve(__dirname, "../..");
const scratch = mkdtempSync(join(tmpdir(), "shopsmart-validate-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The terraform block of a synthesized stack, as cdktf writes it. */
const STACK = {
  terraform: {
    backend: {
      s3: { bucket: "shopsmart-tfstate-example", key: "shopsmart/dev/terraform.tfstate" },
    },
    required_providers: {
      aws: { source: "aws", version: "6.25.0" },
      random: { source: "hashicorp/random", version: "3.7.2" },
    },
  },
  resource: { aws_sns_topic: { alerts: { name: "alerts" } } },
};

describe("parseValidateArgs", () => {
  it("defaults: every stack, synthesize first, the pinned provider", () => {
    expect(parseValidateArgs([])).toEqual({
      kind: "run",
      env: undefined,
      synth: true,
      providerVersionOverride: undefined,
    });
  });

  it("takes --env, --no-synth and --provider-version-override", () => {
    expect(
      parseValidateArgs(["--env", "prod", "--no-synth", "--provider-version-override", "5.100.0"]),
    ).toEqual({ kind: "run", env: "prod", synth: false, providerVersionOverride: "5.100.0" });
    expect(parseValidateArgs(["--env=dev"])).toMatchObject({ env: "dev" });
  });

  it("asks for help", () => {
    expect(parseValidateArgs(["--help"])).toEqual({ kind: "help" });
    expect(parseValidateArgs(["-h"])).toEqual({ kind: "help" });
  });

  it("fails on a version that is not x.y.z, an env that is not a name, and unknown options", () => {
    expect(parseValidateArgs(["--provider-version-override", "~> 5.0"])).toEqual({
      kind: "error",
      message:
        '--provider-version-override takes the AWS provider version to validate against, e.g. 5.100.0; got "~> 5.0"',
    });
    expect(parseValidateArgs(["--env", "../prod"])).toEqual({
      kind: "error",
      message:
        '--env takes an environment name, e.g. prod, or the path of an env file ending in .json; got "../prod"',
    });
    expect(parseValidateArgs(["--backend"])).toMatchObject({ kind: "error" });
    expect(parseValidateArgs(["prod"])).toMatchObject({ kind: "error" });
  });
});

describe("terraform missing", () => {
  it("fails with npm run state's install instructions, introduced for this command", () => {
    const message = terraformMissingMessage();
    const lines = message.split("\n");
    expect(lines[0]).toBe(
      "terraform is not installed (not found on PATH), so npm run validate cannot run it.",
    );
    expect(lines.slice(1)).toEqual(terraformNotInstalledMessage("").split("\n").slice(1));
    expect(message).toContain(`Install Terraform 1.11 or newer (CI pins ${TERRAFORM_VERSION})`);
    expect(message).toContain("https://developer.hashicorp.com/terraform/install");
  });
});

describe("offline: a filesystem mirror", () => {
  it("CLI config installs hashicorp/* from the mirror only, everything else directly", () => {
    expect(mirrorCliConfig("/opt/tf-plugins")).toBe(
      [
        "provider_installation {",
        "  filesystem_mirror {",
        '    path    = "/opt/tf-plugins"',
        '    include = ["registry.terraform.io/hashicorp/*"]',
        "  }",
        "  direct {",
        '    exclude = ["registry.terraform.io/hashicorp/*"]',
        "  }",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("CLI config quotes the path as an HCL string (quotes, backslashes, template sequences)", () => {
    expect(mirrorCliConfig(`/tmp/a "b"\\\${c}%{d}`)).toContain(
      '    path    = "/tmp/a \\"b\\"\\\\$${c}%%{d}"\n',
    );
  });

  it("reads provider sources the way Terraform does", () => {
    expect(fullSourceAddress("aws")).toBe("registry.terraform.io/hashicorp/aws");
    expect(fullSourceAddress("hashicorp/random")).toBe("registry.terraform.io/hashicorp/random");
    expect(fullSourceAddress("example.com/Acme/Thing")).toBe("example.com/acme/thing");
    expect(requiredProviders(STACK)).toEqual([
      { name: "aws", source: "registry.terraform.io/hashicorp/aws", version: "6.25.0" },
      { name: "random", source: "registry.terraform.io/hashicorp/random", version: "3.7.2" },
    ]);
    expect(requiredProviders({})).toEqual([]);
  });

  const mirror = join(scratch, "mirror");
  mkdirSync(join(mirror, "registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64"), {
    recursive: true,
  });
  mkdirSync(join(mirror, "registry.terraform.io/hashicorp/aws/5.9.0/linux_amd64"), {
    recursive: true,
  });
  mkdirSync(join(mirror, "registry.terraform.io/hashicorp/tls"), { recursive: true });
  writeFileSync(
    join(
      mirror,
      "registry.terraform.io/hashicorp/tls/terraform-provider-tls_4.1.0_linux_amd64.zip",
    ),
    "",
  );
  writeFileSync(join(mirror, "registry.terraform.io/hashicorp/tls/notes.txt"), "");

  it("lists the versions a mirror holds, unpacked and packed layouts", () => {
    expect(mirrorVersions(mirror, "registry.terraform.io/hashicorp/aws")).toEqual([
      "5.9.0",
      "5.100.0",
    ]);
    expect(mirrorVersions(mirror, "registry.terraform.io/hashicorp/tls")).toEqual(["4.1.0"]);
    expect(mirrorVersions(mirror, "registry.terraform.io/hashicorp/random")).toEqual([]);
  });

  it("fails a stack whose pinned providers the mirror lacks, naming each fix", () => {
    expect(mirrorGaps(requiredProviders(STACK), mirror)).toEqual([
      `hashicorp/aws 6.25.0 is not in the mirror (it holds 5.9.0, 5.100.0): add it with \`terraform providers mirror ${mirror}\` where the registry is reachable, or (development only) pass --provider-version-override 5.100.0`,
      `hashicorp/random 3.7.2 is not in the mirror (it holds no hashicorp/random): add it with \`terraform providers mirror ${mirror}\` where the registry is reachable, or unset ${MIRROR_VARIABLE} to install from the registry`,
    ]);
  });

  it("finds no gap when the mirror holds the version, for a range, or outside hashicorp/", () => {
    const providers = [
      { name: "aws", source: "registry.terraform.io/hashicorp/aws", version: "= 5.100.0" },
      { name: "tls", source: "registry.terraform.io/hashicorp/tls", version: "~> 4.0" },
      { name: "thing", source: "example.com/acme/thing", version: "1.0.0" },
    ];
    expect(mirrorGaps(providers, mirror)).toEqual([]);
  });
});

describe("--provider-version-override", () => {
  it("rewrites the AWS provider requirement of a copy, leaving the input and others alone", () => {
    const before = structuredClone(STACK);
    expect(withAwsProviderVersion(STACK, "5.100.0")).toEqual({
      ...STACK,
      terraform: {
        ...STACK.terraform,
        required_providers: {
          aws: { source: "aws", version: "5.100.0" },
          random: { source: "hashicorp/random", version: "3.7.2" },
        },
      },
    });
    expect(STACK).toEqual(before);
  });

  it("fails on a stack without the AWS provider", () => {
    expect(() => withAwsProviderVersion({ terraform: {} }, "5.100.0")).toThrow(
      "--provider-version-override: this stack requires no hashicorp/aws provider; nothing to override",
    );
  });

  it("warns loudly that this is not the pinned provider", () => {
    expect(overrideWarning("5.100.0", ["6.25.0"])).toBe(
      [
        "WARNING: --provider-version-override 5.100.0: validating copies of the stacks against hashicorp/aws 5.100.0,",
        "NOT the pinned 6.25.0. Arguments, blocks and values that are new since 5.100.0 are",
        "reported as errors by this provider although the pinned one accepts them, and checks the pinned",
        "provider adds are not run. For offline development only; CI validates against the pinned provider.",
      ].join("\n"),
    );
  });
});

/** A synthesized stack directory, with what a real `init` would have left in it. */
function writeStack(dir: string, tfJson: unknown = STACK): void {
  mkdirSync(join(dir, "assets/function-a"), { recursive: true });
  writeFileSync(join(dir, "cdk.tf.json"), JSON.stringify(tfJson, null, 2));
  writeFileSync(join(dir, "assets/function-a/archive.zip"), "zip");
  mkdirSync(join(dir, ".terraform"));
  writeFileSync(join(dir, ".terraform/terraform.tfstate"), '{"backend":{"type":"s3"}}');
  writeFileSync(join(dir, ".terraform.lock.hcl"), "# lock");
  writeFileSync(join(dir, "errored.tfstate"), "{}");
}

/** Every file under `dir` with its content, for before/after comparisons. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files[path.slice(dir.length + 1)] = readFileSync(path, "utf8");
  }
  return files;
}

describe("working copies", () => {
  it("copy the stack and its assets, but no .terraform/, lock file or state", () => {
    const stack = join(scratch, "copy-source");
    writeStack(stack);
    const before = snapshot(stack);
    const copy = join(scratch, "copy-plain");
    expect(prepareWorkingCopy(stack, copy, undefined)).toEqual(STACK);
    expect(Object.keys(snapshot(copy)).sort()).toEqual([
      "assets/function-a/archive.zip",
      "cdk.tf.json",
    ]);
    expect(readFileSync(join(copy, "cdk.tf.json"), "utf8")).toBe(before["cdk.tf.json"]);
    expect(snapshot(stack)).toEqual(before);
  });

  it("with the override, rewrite only the copy's cdk.tf.json", () => {
    const stack = join(scratch, "copy-source-override");
    writeStack(stack);
    const before = snapshot(stack);
    const copy = join(scratch, "copy-override");
    prepareWorkingCopy(stack, copy, "5.100.0");
    const copied = JSON.parse(readFileSync(join(copy, "cdk.tf.json"), "utf8"));
    expect(copied.terraform.required_providers.aws).toEqual({ source: "aws", version: "5.100.0" });
    expect(copied.resource).toEqual(STACK.resource);
    expect(snapshot(stack)).toEqual(before);
  });

  it("stacks come from the synth manifest", () => {
    const outdir = join(scratch, "manifest-out");
    mkdirSync(outdir);
    writeFileSync(
      join(outdir, "manifest.json"),
      JSON.stringify({
        stacks: {
          "shopsmart-prod": { workingDirectory: "stacks/shopsmart-prod" },
          "shopsmart-dev": { workingDirectory: "stacks/shopsmart-dev" },
        },
      }),
    );
    expect(stacksInOutdir(outdir, "x/")).toEqual([
      { label: "x/shopsmart-dev", dir: join(outdir, "stacks/shopsmart-dev") },
      { label: "x/shopsmart-prod", dir: join(outdir, "stacks/shopsmart-prod") },
    ]);
    expect(stacksInOutdir(join(scratch, "no-such-out"))).toBeUndefined();
  });
});

/** What `terraform validate -json` prints (Terraform 1.11, AWS provider 5.100.0). */
const RUNTIME_ERROR = {
  severity: "error" as const,
  summary: 'expected runtime to be one of ["nodejs22.x"], got nodejs24.x',
  detail: "",
  address: "aws_lambda_function.finish",
  range: { filename: "cdk.tf.json", start: { line: 4878 } },
  snippet: { context: "resource.aws_lambda_function.finish" },
};

describe("diagnostics", () => {
  it("parses validate -json output; anything else is not", () => {
    const json = JSON.stringify({
      format_version: "1.0",
      valid: false,
      error_count: 1,
      warning_count: 0,
      diagnostics: [RUNTIME_ERROR],
    });
    expect(parseValidateOutput(json)).toEqual({ valid: false, diagnostics: [RUNTIME_ERROR] });
    expect(parseValidateOutput("Error: Missing required argument")).toBeUndefined();
    expect(parseValidateOutput('{"valid": true}')).toBeUndefined();
  });

  it("a valid stack is ok", () => {
    expect(formatValidateResult("shopsmart-dev", { valid: true, diagnostics: [] })).toBe(
      "shopsmart-dev: ok",
    );
  });

  it("groups one message with every place it occurs, errors before warnings, details indented", () => {
    const other = { ...RUNTIME_ERROR, address: "aws_lambda_function.check" };
    const warning = {
      severity: "warning" as const,
      summary: "Argument is deprecated",
      detail: "Use the aws_s3_bucket_versioning resource instead.\n\nSecond line.",
      range: { filename: "cdk.tf.json", start: { line: 12 } },
      snippet: { context: "resource.aws_s3_bucket.state" },
    };
    const noPlace = { severity: "error" as const, summary: "Invalid provider configuration" };
    expect(
      formatValidateResult("shopsmart-prod", {
        valid: false,
        diagnostics: [warning, RUNTIME_ERROR, noPlace, other],
      }),
    ).toBe(
      [
        "shopsmart-prod: 3 errors, 1 warning",
        '  error: expected runtime to be one of ["nodejs22.x"], got nodejs24.x',
        "    at aws_lambda_function.check (cdk.tf.json:4878)",
        "    at aws_lambda_function.finish (cdk.tf.json:4878)",
        "  error: Invalid provider configuration",
        "  warning: Argument is deprecated",
        "    Use the aws_s3_bucket_versioning resource instead.",
        "    Second line.",
        "    at resource.aws_s3_bucket.state (cdk.tf.json:12)",
      ].join("\n"),
    );
    expect(formatValidateResult("b", { valid: true, diagnostics: [warning] })).toMatch(
      /^b: ok, 1 warning\n/,
    );
  });
});

describe("npm run validate (fake terraform)", () => {
  const bin = join(scratch, "bin");
  mkdirSync(bin);
  const log = join(scratch, "terraform.log");
  // Logs each call; `init` also logs the files it sees and the CLI config it was given.
  writeFileSync(
    join(bin, "terraform"),
    [
      "#!/bin/sh",
      'printf "%s\\n" "$*" >> "$FAKE_TF_LOG"',
      'if [ "$1" = version ]; then echo \'{"terraform_version": "1.13.5"}\'; exit 0; fi',
      `dir="\${1#-chdir=}"`,
      'case "$2" in',
      "  init)",
      '    (cd "$dir" && find . -type f | sort) >> "$FAKE_TF_LOG"',
      '    if [ -n "$TF_CLI_CONFIG_FILE" ]; then cat "$TF_CLI_CONFIG_FILE" >> "$FAKE_TF_LOG"; fi',
      '    printf "plugin cache: %s\\n" "$TF_PLUGIN_CACHE_DIR" >> "$FAKE_TF_LOG"',
      '    printf "data dir: %s\\n" "$TF_DATA_DIR" >> "$FAKE_TF_LOG"',
      '    if [ -n "$FAKE_INIT_FAIL" ]; then echo "Error: $FAKE_INIT_FAIL"; exit 1; fi',
      "    exit 0 ;;",
      `  validate) cat "$FAKE_VALIDATE_JSON"; exit "\${FAKE_VALIDATE_EXIT:-0}" ;;`,
      "esac",
      "exit 64",
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  const validJson = join(scratch, "valid.json");
  writeFileSync(validJson, JSON.stringify({ valid: true, diagnostics: [] }));
  const invalidJson = join(scratch, "invalid.json");
  writeFileSync(invalidJson, JSON.stringify({ valid: false, diagnostics: [RUNTIME_ERROR] }));

  // A project directory holding only synth output (and the env file for --env).
  const project = join(scratch, "project");
  const outdir = join(project, "cdktf.out");
  const bootstrapOut = join(project, "bootstrap/cdktf.out");
  mkdirSync(join(project, "envs"), { recursive: true });
  copyFileSync(join(ROOT, "envs/dev.json"), join(project, "envs/dev.json"));
  for (const [dir, names] of [
    [outdir, ["shopsmart-dev"]],
    [bootstrapOut, ["tfstate-example"]],
  ] as const) {
    const stacks = Object.fromEntries(names.map((n) => [n, { workingDirectory: `stacks/${n}` }]));
    for (const name of names) writeStack(join(dir, "stacks", name));
    writeFileSync(join(dir, "manifest.json"), JSON.stringify({ stacks }));
  }

  function validate(args: string[], extra: Record<string, string> = {}, root = project) {
    writeFileSync(log, "");
    const out: string[] = [];
    const err: string[] = [];
    const status = runValidateCli(args, {
      root,
      environment: {
        HOME: process.env.HOME,
        PATH: `${bin}:/usr/bin:/bin`, // the fake terraform first; sh tools after it
        FAKE_TF_LOG: log,
        FAKE_VALIDATE_JSON: validJson,
        TF_DATA_DIR: join(outdir, "stacks/shopsmart-dev/.terraform"),
        ...extra,
      },
      io: { out: (text) => out.push(text), err: (text) => err.push(text) },
    });
    const calls = readFileSync(log, "utf8");
    return { status, out: out.join("\n"), err: err.join("\n"), calls };
  }

  it("validates every stack and the bootstrap app on copies, without the backend", () => {
    const before = snapshot(project);
    const run = validate(["--no-synth"]);
    expect(run.err).toBe("");
    expect(run.out).toBe(
      [
        "Validating 2 stacks with terraform 1.13.5, providers from the registry; init -backend=false on copies in a temporary directory.",
        "shopsmart-dev: ok",
        "bootstrap/tfstate-example: ok",
        "2 of 2 stacks valid.",
      ].join("\n"),
    );
    expect(run.status).toBe(0);
    const calls = run.calls.split("\n");
    const chdirs = calls.filter((line) => line.startsWith("-chdir=")).map((l) => l.split(" ")[0]);
    expect(chdirs).toHaveLength(4);
    for (const chdir of chdirs) expect(chdir.startsWith(`-chdir=${tmpdir()}`)).toBe(true);
    expect(
      calls.filter((line) => line.startsWith("-chdir=")).map((l) => l.split(" ").slice(1)),
    ).toEqual([
      ["init", "-backend=false", "-input=false", "-no-color"],
      ["validate", "-json", "-no-color"],
      ["init", "-backend=false", "-input=false", "-no-color"],
      ["validate", "-json", "-no-color"],
    ]);
    // The copy holds the stack and its assets, nothing a real init left behind.
    expect(calls).toContain("./assets/function-a/archive.zip");
    expect(run.calls).not.toContain(".terraform");
    expect(run.calls).not.toContain("tfstate\n");
    // One temporary plugin cache for the run; removed with the copies afterwards.
    const cache = calls.find((line) => line.startsWith("plugin cache: "))?.slice(14) ?? "";
    expect(cache).toMatch(/shopsmart-validate-.*\/plugin-cache$/);
    expect(existsSync(cache)).toBe(false);
    // A TF_DATA_DIR meant for npm run state never reaches the copies.
    expect(run.calls).toContain("data dir: \n");
    expect(snapshot(project)).toEqual(before);
  });

  it("reports a stack's diagnostics and exits 1", () => {
    const run = validate(["--no-synth"], {
      FAKE_VALIDATE_JSON: invalidJson,
      FAKE_VALIDATE_EXIT: "1",
    });
    expect(run.status).toBe(1);
    expect(run.out).toContain(
      [
        "shopsmart-dev: 1 error",
        '  error: expected runtime to be one of ["nodejs22.x"], got nodejs24.x',
        "    at aws_lambda_function.finish (cdk.tf.json:4878)",
      ].join("\n"),
    );
    expect(run.out).toMatch(/\n0 of 2 stacks valid\.$/);
  });

  it("a failing init: its output, a hint when the registry is unreachable, exit 1", () => {
    const run = validate(["--no-synth"], {
      FAKE_INIT_FAIL: "could not connect to registry.terraform.io: no such host",
    });
    expect(run.status).toBe(1);
    expect(run.out).toContain(
      [
        "shopsmart-dev: terraform init failed:",
        "    Error: could not connect to registry.terraform.io: no such host",
        `    Offline? Use a provider mirror: ${MIRROR_VARIABLE}=<dir> npm run validate`,
      ].join("\n"),
    );
    expect(run.calls).not.toContain(" validate ");
  });

  it("with a mirror: a CLI config for it; a missing provider stops the stack before init", () => {
    const mirror = join(scratch, "run-mirror");
    mkdirSync(join(mirror, "registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64"), {
      recursive: true,
    });
    const run = validate(["--no-synth", "--provider-version-override", "5.100.0"], {
      [MIRROR_VARIABLE]: mirror,
    });
    expect(run.status).toBe(1);
    expect(run.err).toContain(overrideWarning("5.100.0", ["6.25.0"]));
    expect(run.err).toContain(
      "Remember: these results are against hashicorp/aws 5.100.0, not the pinned provider",
    );
    expect(run.out).toBe(
      [
        `Validating 2 stacks with terraform 1.13.5, providers from the mirror ${mirror}; init -backend=false on copies in a temporary directory.`,
        "shopsmart-dev (hashicorp/aws 5.100.0, override): not validated: terraform init cannot install its providers offline:",
        `    ${mirrorGaps([requiredProviders(STACK)[1]], mirror)[0]}`,
        "bootstrap/tfstate-example (hashicorp/aws 5.100.0, override): not validated: terraform init cannot install its providers offline:",
        `    ${mirrorGaps([requiredProviders(STACK)[1]], mirror)[0]}`,
        "0 of 2 stacks valid.",
      ].join("\n"),
    );
  });

  it("with a mirror holding every provider: init gets the CLI config and no plugin cache", () => {
    const mirror = join(scratch, "full-mirror");
    for (const path of ["aws/6.25.0", "random/3.7.2"]) {
      mkdirSync(join(mirror, "registry.terraform.io/hashicorp", path, "linux_amd64"), {
        recursive: true,
      });
    }
    const run = validate(["--no-synth", "--env", "dev"], { [MIRROR_VARIABLE]: mirror });
    expect(run.err).toBe("");
    expect(run.status).toBe(0);
    expect(run.out).toContain("shopsmart-dev: ok\n1 of 1 stack valid.");
    expect(run.calls).toContain(mirrorCliConfig(mirror));
    expect(run.calls).toContain("plugin cache: \n");
  });

  it("a mirror setting that is no directory: the setting, exit 2", () => {
    const run = validate(["--no-synth"], { [MIRROR_VARIABLE]: join(scratch, "no-mirror") });
    expect(run.status).toBe(2);
    expect(run.err).toBe(
      `${MIRROR_VARIABLE}: got "${join(scratch, "no-mirror")}"; expected an existing directory holding a Terraform provider mirror (<host>/<namespace>/<type>/...), or unset`,
    );
    expect(run.calls).toBe("");
  });

  it("--no-synth without synth output: what to run, exit 1", () => {
    const empty = join(scratch, "empty-project");
    mkdirSync(empty);
    const run = validate(["--no-synth"], {}, empty);
    expect(run.status).toBe(1);
    expect(run.err).toBe(
      `There is no ${join(empty, "cdktf.out/manifest.json")}: run npm run synth first, or drop --no-synth.`,
    );
  });

  it("without terraform on PATH: the install message, exit 127, nothing run", () => {
    const run = validate(["--no-synth"], { PATH: "" });
    expect(run.status).toBe(127);
    expect(run.out).toBe("");
    expect(run.err).toBe(terraformMissingMessage());
  });

  it("an unknown environment: the available ones, exit 2", () => {
    const run = validate(["--env", UNKNOWN_ENVIRONMENT]);
    expect(run.status).toBe(2);
    expect(run.err).toBe(
      `Unknown environment "${UNKNOWN_ENVIRONMENT}": there is no envs/${UNKNOWN_ENVIRONMENT}.json.\nAvailable environments: dev.`,
    );
  });

  it("usage errors: exit 2 with the usage; --help: the usage, exit 0", () => {
    const bad = validate(["--provider-version-override"]);
    expect(bad.status).toBe(2);
    expect(bad.err).toMatch(new RegExp(`\n${USAGE.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`));
    const help = validate(["--help"]);
    expect(help.status).toBe(0);
    expect(help.out).toBe(USAGE);
  });

  it("synthesizes first: --env dev validates the freshly synthesized dev stack only", () => {
    const envsDir = join(scratch, "synth-envs");
    mkdirSync(envsDir);
    copyFileSync(join(ROOT, "envs/dev.json"), join(envsDir, "dev.json"));
    const synthOut = join(scratch, "synth-out");
    const run = validate(
      ["--env", "dev"],
      { SHOPSMART_ENVS_DIR: envsDir, CDKTF_OUTDIR: synthOut, CHECKPOINT_DISABLE: "1" },
      ROOT,
    );
    expect(run.err).toBe("");
    expect(run.out).toContain("\nshopsmart-dev: ok\n1 of 1 stack valid.");
    expect(run.status).toBe(0);
    expect(existsSync(join(synthOut, "stacks/shopsmart-dev/cdk.tf.json"))).toBe(true);
  }, 60_000);
});
