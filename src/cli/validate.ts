import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { invalidSetting, UserInputError } from "../errors";
import { TERRAFORM_VERSION } from "../terraform-version";
import {
  environmentArgumentProblem,
  environmentsDirectory,
  loadEnvironment,
  synthVariablesFor,
} from "./environment-selection";
import { findExecutable, terraformNotInstalledMessage } from "./terraform";

/**
 * `npm run validate`: `terraform init -backend=false` and `terraform validate` on every
 * synthesized stack, the bootstrap app's included, so that an argument the AWS provider does not
 * accept fails here rather than at `cdktf diff`.
 *
 * It synthesizes first, as `npm run synth` and `npm run bootstrap:synth` do (skip with
 * `--no-synth` to check what is already in `cdktf.out/` and `bootstrap/cdktf.out/`). Each stack is
 * copied to a temporary directory and Terraform runs on the copy: the stack directories, any
 * `.terraform/` a real `init` left there, and the backend are never touched (`-backend=false`
 * does not even read the backend settings). Providers are downloaded once per run into a
 * temporary plugin cache unless `TF_PLUGIN_CACHE_DIR` is set.
 *
 * Offline, `SHOPSMART_TF_PROVIDER_MIRROR=<dir>` installs `hashicorp/*` providers from a
 * filesystem mirror only (a temporary CLI config is handed to Terraform in `TF_CLI_CONFIG_FILE`).
 * When the mirror lacks the pinned AWS provider, `--provider-version-override <version>`
 * validates copies that require that version instead: for development only, loudly warned about,
 * because the older provider rejects what is new in the pinned one and skips checks it lacks.
 *
 * Exit codes: 0 every stack valid (warnings allowed); 1 a stack has errors, could not be
 * initialized, or synth failed; 2 usage error, unknown environment, invalid setting; 127 when
 * terraform is not installed.
 */

const ROOT = resolve(__dirname, "../..");

export const MIRROR_VARIABLE = "SHOPSMART_TF_PROVIDER_MIRROR";

export const USAGE = [
  "usage: npm run validate -- [--env <name>] [--no-synth] [--provider-version-override <version>]",
  "  npm run validate                 synthesize, then init -backend=false and validate every",
  "                                   stack in cdktf.out/ and bootstrap/cdktf.out/",
  "  npm run validate -- --env prod   only the prod stack (the bootstrap app is skipped); --env",
  "                                   takes a name (envs/<name>.json, or in SHOPSMART_ENVS_DIR)",
  "                                   or the path of an env file",
  "  --no-synth                       validate the existing synth output as it is",
  `  ${MIRROR_VARIABLE}=/opt/tf-plugins npm run validate -- --provider-version-override 5.100.0`,
  "                                   offline: providers from a filesystem mirror; the override",
  "                                   validates against another AWS provider version than the",
  "                                   pinned one (development only)",
].join("\n");

export type ValidateArgs =
  | {
      readonly kind: "run";
      readonly env: string | undefined;
      readonly synth: boolean;
      readonly providerVersionOverride: string | undefined;
    }
  | { readonly kind: "help" }
  | { readonly kind: "error"; readonly message: string };

const VERSION = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

export function parseValidateArgs(argv: readonly string[]): ValidateArgs {
  let values: {
    env?: string;
    "no-synth"?: boolean;
    "provider-version-override"?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        env: { type: "string" },
        "no-synth": { type: "boolean", default: false },
        "provider-version-override": { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return { kind: "error", message: (error as Error).message };
  }
  if (values.help) return { kind: "help" };
  const override = values["provider-version-override"];
  if (override !== undefined && !VERSION.test(override)) {
    return {
      kind: "error",
      message: `--provider-version-override takes the AWS provider version to validate against, e.g. 5.100.0; got "${override}"`,
    };
  }
  const envProblem = values.env === undefined ? undefined : environmentArgumentProblem(values.env);
  if (envProblem !== undefined) return { kind: "error", message: envProblem };
  return {
    kind: "run",
    env: values.env,
    synth: values["no-synth"] !== true,
    providerVersionOverride: override,
  };
}

/** The install instructions of `npm run state`, introduced for this command. */
export function terraformMissingMessage(): string {
  const instructions = terraformNotInstalledMessage("").split("\n").slice(1);
  return [
    "terraform is not installed (not found on PATH), so npm run validate cannot run it.",
    ...instructions,
  ].join("\n");
}

/** A value as an HCL quoted string (template sequences `${` and `%{` escaped). */
function hclString(value: string): string {
  // A function replacement: in a replacement string "$$" would mean one "$".
  return JSON.stringify(value)
    .replaceAll("${", () => "$${")
    .replaceAll("%{", () => "%%{");
}

/**
 * A Terraform CLI configuration that installs every `hashicorp/*` provider from the filesystem
 * mirror `mirrorDir` and never from the registry; other namespaces still come from the registry.
 * https://developer.hashicorp.com/terraform/cli/config/config-file#explicit-installation-method-configuration
 */
export function mirrorCliConfig(mirrorDir: string): string {
  return [
    "provider_installation {",
    "  filesystem_mirror {",
    `    path    = ${hclString(mirrorDir)}`,
    '    include = ["registry.terraform.io/hashicorp/*"]',
    "  }",
    "  direct {",
    '    exclude = ["registry.terraform.io/hashicorp/*"]',
    "  }",
    "}",
    "",
  ].join("\n");
}

/** One entry of a stack's `terraform.required_providers`. */
export interface RequiredProvider {
  /** The local name, e.g. `aws`. */
  readonly name: string;
  /** The full source address, e.g. `registry.terraform.io/hashicorp/aws`. */
  readonly source: string;
  /** The version constraint as written, e.g. `6.25.0`. */
  readonly version: string | undefined;
}

/**
 * A provider source as Terraform reads it: `aws` and `hashicorp/aws` both mean
 * `registry.terraform.io/hashicorp/aws`.
 * https://developer.hashicorp.com/terraform/language/providers/requirements#source-addresses
 */
export function fullSourceAddress(source: string): string {
  const parts = source.toLowerCase().split("/");
  if (parts.length === 1) return `registry.terraform.io/hashicorp/${parts[0]}`;
  if (parts.length === 2) return `registry.terraform.io/${parts.join("/")}`;
  return parts.join("/");
}

type TfJson = { terraform?: { required_providers?: Record<string, unknown> } };

export function requiredProviders(tfJson: unknown): RequiredProvider[] {
  const required = (tfJson as TfJson | null)?.terraform?.required_providers ?? {};
  return Object.entries(required).map(([name, requirement]) => {
    const fields = (typeof requirement === "object" && requirement !== null ? requirement : {}) as {
      source?: unknown;
      version?: unknown;
    };
    return {
      name,
      source: fullSourceAddress(typeof fields.source === "string" ? fields.source : name),
      version: typeof fields.version === "string" ? fields.version : undefined,
    };
  });
}

const AWS_SOURCE = "registry.terraform.io/hashicorp/aws";

/**
 * A copy of a synthesized stack whose AWS provider requirement is `version` (the input is not
 * changed). Throws when the stack requires no `hashicorp/aws`.
 */
export function withAwsProviderVersion(tfJson: unknown, version: string): unknown {
  const aws = requiredProviders(tfJson).find((provider) => provider.source === AWS_SOURCE);
  if (aws === undefined) {
    throw new UserInputError(
      "--provider-version-override: this stack requires no hashicorp/aws provider; nothing to override",
    );
  }
  const copy = structuredClone(tfJson) as Required<TfJson>;
  const required = copy.terraform.required_providers as Record<string, Record<string, unknown>>;
  required[aws.name] = { ...required[aws.name], version };
  return copy;
}

/** Files a real `init`/`plan` may have left in a stack directory: never copied. */
const NOT_COPIED = /^(\.terraform|\.terraform\.lock\.hcl|.*\.tfstate(\.backup)?|.*\.tfplan)$/;

/**
 * Copies the stack directory `stackDir` (cdk.tf.json and its assets) to `destination` for
 * Terraform to run in, with the AWS provider requirement rewritten when `awsVersion` is given.
 * `stackDir` itself is never written. Returns the copy's cdk.tf.json content.
 */
export function prepareWorkingCopy(
  stackDir: string,
  destination: string,
  awsVersion: string | undefined,
): unknown {
  cpSync(stackDir, destination, {
    recursive: true,
    filter: (source) => source === stackDir || !NOT_COPIED.test(basename(source)),
  });
  const file = join(destination, "cdk.tf.json");
  const tfJson: unknown = JSON.parse(readFileSync(file, "utf8"));
  if (awsVersion === undefined) return tfJson;
  const rewritten = withAwsProviderVersion(tfJson, awsVersion);
  writeFileSync(file, `${JSON.stringify(rewritten, null, 2)}\n`);
  return rewritten;
}

/**
 * The versions of `source` a filesystem mirror holds, in either layout Terraform reads:
 * unpacked `<host>/<namespace>/<type>/<version>/<os>_<arch>/` and packed
 * `<host>/<namespace>/<type>/terraform-provider-<type>_<version>_<os>_<arch>.zip`.
 * https://developer.hashicorp.com/terraform/cli/config/config-file#filesystem_mirror
 */
export function mirrorVersions(mirrorDir: string, source: string): string[] {
  const dir = join(mirrorDir, ...source.split("/"));
  const type = source.split("/").at(-1) ?? "";
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const versions = new Set<string>();
  for (const entry of entries) {
    const packed = new RegExp(`^terraform-provider-${type}_(.+)_[a-z0-9]+_[a-z0-9]+\\.zip$`).exec(
      entry,
    );
    if (packed?.[1] !== undefined) versions.add(packed[1]);
    else if (VERSION.test(entry) && statSync(join(dir, entry)).isDirectory()) versions.add(entry);
  }
  return [...versions].sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
}

/** The exact version a constraint pins (`6.25.0`, `= 6.25.0`), or undefined for a range. */
function pinnedVersion(constraint: string | undefined): string | undefined {
  const match = /^\s*=?\s*(\S+)\s*$/.exec(constraint ?? "");
  return match?.[1] !== undefined && VERSION.test(match[1]) ? match[1] : undefined;
}

/**
 * Why `terraform init` cannot install a stack's `hashicorp/*` providers from the mirror, one
 * message per provider, each naming the fix; empty when it can (or when a constraint is a range,
 * which Terraform itself then checks).
 */
export function mirrorGaps(
  providers: readonly RequiredProvider[],
  mirrorDir: string,
  listVersions: (source: string) => string[] = (source) => mirrorVersions(mirrorDir, source),
): string[] {
  const gaps: string[] = [];
  for (const provider of providers) {
    if (!provider.source.startsWith("registry.terraform.io/hashicorp/")) continue;
    const version = pinnedVersion(provider.version);
    if (version === undefined) continue;
    const held = listVersions(provider.source);
    if (held.includes(version)) continue;
    const shortName = provider.source.slice("registry.terraform.io/".length);
    const holds = held.length > 0 ? `it holds ${held.join(", ")}` : `it holds no ${shortName}`;
    const add = `add it with \`terraform providers mirror ${mirrorDir}\` where the registry is reachable`;
    const alternative =
      provider.source === AWS_SOURCE && held.length > 0
        ? `, or (development only) pass --provider-version-override ${held.at(-1)}`
        : `, or unset ${MIRROR_VARIABLE} to install from the registry`;
    gaps.push(`${shortName} ${version} is not in the mirror (${holds}): ${add}${alternative}`);
  }
  return gaps;
}

/** One diagnostic of `terraform validate -json` (the fields this command shows). */
export interface Diagnostic {
  readonly severity: "error" | "warning";
  readonly summary: string;
  readonly detail?: string;
  readonly address?: string;
  readonly range?: { readonly filename: string; readonly start: { readonly line: number } };
  readonly snippet?: { readonly context?: string | null };
}

export interface ValidateOutput {
  readonly valid: boolean;
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * `terraform validate -json` output, or undefined when stdout is not that JSON.
 * https://developer.hashicorp.com/terraform/cli/commands/validate#json
 */
export function parseValidateOutput(stdout: string): ValidateOutput | undefined {
  try {
    const parsed = JSON.parse(stdout) as { valid?: unknown; diagnostics?: unknown };
    if (typeof parsed.valid !== "boolean" || !Array.isArray(parsed.diagnostics)) return undefined;
    return { valid: parsed.valid, diagnostics: parsed.diagnostics as Diagnostic[] };
  } catch {
    return undefined;
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/** Where a diagnostic points: `<resource address> (cdk.tf.json:<line>)`, or what is known. */
function locationOf(diagnostic: Diagnostic): string | undefined {
  const address = diagnostic.address ?? diagnostic.snippet?.context ?? undefined;
  const line = diagnostic.range
    ? `${diagnostic.range.filename}:${diagnostic.range.start.line}`
    : "";
  if (address && line) return `${address} (${line})`;
  return address || line || undefined;
}

/**
 * A stack's validate result: `<label>: ok`, or the counts and the diagnostics, the same message
 * shown once with every place it occurs (errors first).
 */
export function formatValidateResult(label: string, output: ValidateOutput): string {
  const errors = output.diagnostics.filter((d) => d.severity === "error").length;
  const warnings = output.diagnostics.length - errors;
  const counts = [
    errors > 0 ? plural(errors, "error") : "",
    warnings > 0 ? plural(warnings, "warning") : "",
  ]
    .filter(Boolean)
    .join(", ");
  if (output.diagnostics.length === 0) return `${label}: ${output.valid ? "ok" : "invalid"}`;
  const head = `${label}: ${output.valid ? "ok, " : ""}${counts}`;
  const groups = new Map<string, { diagnostic: Diagnostic; places: string[] }>();
  for (const diagnostic of output.diagnostics) {
    const key = JSON.stringify([diagnostic.severity, diagnostic.summary, diagnostic.detail ?? ""]);
    const group = groups.get(key) ?? { diagnostic, places: [] };
    const place = locationOf(diagnostic);
    if (place !== undefined) group.places.push(place);
    groups.set(key, group);
  }
  const ordered = [...groups.values()].sort(
    (a, b) => Number(a.diagnostic.severity !== "error") - Number(b.diagnostic.severity !== "error"),
  );
  const lines = [head];
  for (const { diagnostic, places } of ordered) {
    lines.push(`  ${diagnostic.severity}: ${diagnostic.summary}`);
    for (const line of (diagnostic.detail ?? "").split("\n")) {
      if (line.trim() !== "") lines.push(`    ${line}`);
    }
    for (const place of places.sort()) lines.push(`    at ${place}`);
  }
  return lines.join("\n");
}

/** The loud notice of a run against another AWS provider than the pinned one. */
export function overrideWarning(override: string, pinned: readonly string[]): string {
  const pinnedText = pinned.length > 0 ? pinned.join(", ") : "the pinned version";
  return [
    `WARNING: --provider-version-override ${override}: validating copies of the stacks against hashicorp/aws ${override},`,
    `NOT the pinned ${pinnedText}. Arguments, blocks and values that are new since ${override} are`,
    "reported as errors by this provider although the pinned one accepts them, and checks the pinned",
    "provider adds are not run. For offline development only; CI validates against the pinned provider.",
  ].join("\n");
}

/** A stack to validate: a label for the report and its synthesized directory. */
export interface StackDirectory {
  readonly label: string;
  readonly dir: string;
}

/**
 * The stacks a synth output directory holds, from its manifest.json (a stack directory left over
 * from a removed environment is not in it). Undefined when there is no manifest.
 */
export function stacksInOutdir(outdir: string, labelPrefix = ""): StackDirectory[] | undefined {
  const manifestFile = join(outdir, "manifest.json");
  if (!existsSync(manifestFile)) return undefined;
  const manifest = JSON.parse(readFileSync(manifestFile, "utf8")) as {
    stacks?: Record<string, { workingDirectory?: string }>;
  };
  return Object.entries(manifest.stacks ?? {})
    .map(([name, stack]) => ({
      label: `${labelPrefix}${name}`,
      dir: join(outdir, stack.workingDirectory ?? join("stacks", name)),
    }))
    .sort((a, b) => a.label.localeCompare(b.label));
}

/**
 * Runs a cdktf app in `appDir` as its npm script does: from the prebuilt bundle where the app has
 * the launcher (src/app-bundle/run.cjs), else `tsx main.ts`. The output only matters when it
 * fails.
 */
function synthesize(
  appDir: string,
  env: NodeJS.ProcessEnv,
): { ok: boolean; output: string; warnings: string } {
  const launcher = join(appDir, "src", "app-bundle", "run.cjs");
  const args = existsSync(launcher) ? [launcher] : [require.resolve("tsx/cli"), "main.ts"];
  const result = spawnSync(process.execPath, args, {
    cwd: appDir,
    env: { ...env, CHECKPOINT_DISABLE: "1" },
    encoding: "utf8",
  });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}${result.error?.message ?? ""}`;
  return { ok: result.status === 0, output, warnings: (result.stderr ?? "").trimEnd() };
}

interface TerraformRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runTerraform(
  terraform: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): TerraformRun {
  const result = spawnSync(terraform, args, {
    env,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  return {
    status: result.status,
    stdout: result.stdout ?? "",
    stderr: `${result.stderr ?? ""}${result.error ? `cannot run ${terraform}: ${result.error.message}` : ""}`,
  };
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split("\n")
    .map((line) => (line.trim() === "" ? "" : `    ${line}`))
    .join("\n");
}

/**
 * The environment Terraform runs with: no checkpoint calls, no prompts, and nothing from the
 * caller that could point it at a real working directory (`TF_DATA_DIR`) or add arguments
 * (`TF_CLI_ARGS*`, e.g. a `-backend-config` meant for `npm run state`).
 */
function terraformEnvironment(env: NodeJS.ProcessEnv, extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(
    Object.entries(env).filter(
      ([name]) => name !== "TF_DATA_DIR" && !name.startsWith("TF_CLI_ARGS"),
    ),
  );
  return { ...clean, CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1", TF_INPUT: "0", ...extra };
}

export interface ValidateCliOptions {
  /** @default process.env */
  readonly environment?: NodeJS.ProcessEnv;
  /** The project directory (main.ts, envs/, bootstrap/). @default the repository root */
  readonly root?: string;
  /** @default console.log and console.error */
  readonly io?: { out(text: string): void; err(text: string): void };
}

/** The whole command; returns the process exit code. */
export function runValidateCli(argv: readonly string[], options: ValidateCliOptions = {}): number {
  const env = options.environment ?? process.env;
  const root = options.root ?? ROOT;
  const io = options.io ?? { out: console.log, err: console.error };

  const args = parseValidateArgs(argv);
  if (args.kind === "help") {
    io.out(USAGE);
    return 0;
  }
  if (args.kind === "error") {
    io.err(`${args.message}\n${USAGE}`);
    return 2;
  }

  const mirrorSetting = env[MIRROR_VARIABLE];
  const mirrorDir = mirrorSetting ? resolve(mirrorSetting) : undefined;
  if (mirrorDir !== undefined && !(existsSync(mirrorDir) && statSync(mirrorDir).isDirectory())) {
    io.err(
      invalidSetting(
        MIRROR_VARIABLE,
        mirrorSetting ?? "",
        "an existing directory holding a Terraform provider mirror (<host>/<namespace>/<type>/...), or unset",
      ).message,
    );
    return 2;
  }

  let synthVariables: Record<string, string> = {
    SHOPSMART_ENVS_DIR: environmentsDirectory(root, env),
  };
  let onlyStack: string | undefined;
  if (args.env !== undefined) {
    try {
      const selected = loadEnvironment(args.env, { root, environment: env });
      onlyStack = selected.stackName;
      synthVariables = synthVariablesFor(selected.selection);
    } catch (error) {
      if (!(error instanceof UserInputError)) throw error;
      io.err(error.message);
      return 2;
    }
  }

  const terraform = findExecutable("terraform", env.PATH);
  if (terraform === undefined) {
    io.err(terraformMissingMessage());
    return 127;
  }

  const outdir = env.CDKTF_OUTDIR ? resolve(env.CDKTF_OUTDIR) : join(root, "cdktf.out");
  const bootstrapDir = join(root, "bootstrap");
  const withBootstrap = onlyStack === undefined;
  if (args.synth) {
    const { CDKTF_OUTDIR: _ignored, ...bootstrapEnv } = env;
    const apps = [
      {
        name: "npm run synth",
        dir: root,
        env: { ...env, ...synthVariables, CDKTF_OUTDIR: outdir },
      },
      ...(withBootstrap
        ? [
            {
              name: "npm run bootstrap:synth",
              dir: bootstrapDir,
              env: { ...bootstrapEnv, SHOPSMART_ENVS_DIR: synthVariables.SHOPSMART_ENVS_DIR },
            },
          ]
        : []),
    ];
    for (const app of apps) {
      const synth = synthesize(app.dir, app.env);
      if (!synth.ok) {
        io.err(`${synth.output.trimEnd()}\nSynth failed (${app.name}); nothing was validated.`);
        return 1;
      }
      // A successful synth writes only warnings to stderr (e.g. another env file is broken).
      if (synth.warnings !== "") io.err(synth.warnings);
    }
  }

  const mainStacks = stacksInOutdir(outdir);
  const bootstrapStacks = withBootstrap
    ? stacksInOutdir(join(bootstrapDir, "cdktf.out"), "bootstrap/")
    : [];
  if (mainStacks === undefined || bootstrapStacks === undefined) {
    const missing = mainStacks === undefined ? outdir : join(bootstrapDir, "cdktf.out");
    const command = mainStacks === undefined ? "npm run synth" : "npm run bootstrap:synth";
    io.err(
      `There is no ${join(missing, "manifest.json")}: run ${command} first, or drop --no-synth.`,
    );
    return 1;
  }
  let stacks = [...mainStacks, ...bootstrapStacks];
  if (onlyStack !== undefined) {
    stacks = stacks.filter((stack) => stack.label === onlyStack);
    if (stacks.length === 0) {
      io.err(`${outdir} holds no stack ${onlyStack}: run npm run synth first, or drop --no-synth.`);
      return 1;
    }
  }

  const scratch = mkdtempSync(join(tmpdir(), "shopsmart-validate-"));
  try {
    return validateStacks({
      stacks,
      terraform,
      env,
      io,
      scratch,
      mirrorDir,
      override: args.providerVersionOverride,
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

interface ValidateRun {
  readonly stacks: readonly StackDirectory[];
  readonly terraform: string;
  readonly env: NodeJS.ProcessEnv;
  readonly io: { out(text: string): void; err(text: string): void };
  readonly scratch: string;
  readonly mirrorDir: string | undefined;
  readonly override: string | undefined;
}

/** What `terraform init` prints when it cannot reach the registry. */
const REGISTRY_UNREACHABLE =
  /could not connect to registry\.terraform\.io|failed to request discovery document/;

/** The AWS provider versions the stacks pin, for the override warning. */
function pinnedAwsVersions(stacks: readonly StackDirectory[]): string[] {
  const versions = new Set<string>();
  for (const stack of stacks) {
    const file = join(stack.dir, "cdk.tf.json");
    if (!existsSync(file)) continue;
    for (const provider of requiredProviders(JSON.parse(readFileSync(file, "utf8")))) {
      if (provider.source === AWS_SOURCE && provider.version) versions.add(provider.version);
    }
  }
  return [...versions].sort();
}

function validateStacks(run: ValidateRun): number {
  const { io, scratch, mirrorDir, override } = run;
  const extra: NodeJS.ProcessEnv = {};
  if (mirrorDir !== undefined) {
    // Installing from an unpacked mirror links to it; a plugin cache would copy it instead.
    extra.TF_CLI_CONFIG_FILE = join(scratch, "terraform.rc");
    writeFileSync(extra.TF_CLI_CONFIG_FILE, mirrorCliConfig(mirrorDir));
  } else if (!run.env.TF_PLUGIN_CACHE_DIR) {
    // One download per provider for all stacks. The working copies' lock files are thrown away,
    // so a cache entry that leaves them incomplete breaks nothing.
    extra.TF_PLUGIN_CACHE_DIR = join(scratch, "plugin-cache");
    extra.TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE = "true";
  }
  const env = terraformEnvironment(run.env, extra);
  if (extra.TF_PLUGIN_CACHE_DIR) mkdirSync(extra.TF_PLUGIN_CACHE_DIR); // Terraform does not create it

  if (override !== undefined) io.err(overrideWarning(override, pinnedAwsVersions(run.stacks)));
  const version = runTerraform(run.terraform, ["version", "-json"], env);
  const found =
    /"terraform_version"\s*:\s*"([^"]+)"/.exec(version.stdout)?.[1] ?? "(unknown version)";
  const pinnedNote = found === TERRAFORM_VERSION ? "" : ` (CI pins ${TERRAFORM_VERSION})`;
  const source =
    mirrorDir !== undefined
      ? `providers from the mirror ${mirrorDir}`
      : "providers from the registry";
  io.out(
    `Validating ${plural(run.stacks.length, "stack")} with terraform ${found}${pinnedNote}, ${source}; ` +
      "init -backend=false on copies in a temporary directory.",
  );

  const results: boolean[] = [];
  for (const [index, stack] of run.stacks.entries()) {
    const copy = join(scratch, `stack-${index}`);
    if (!existsSync(join(stack.dir, "cdk.tf.json"))) {
      io.out(`${stack.label}: not validated: there is no ${join(stack.dir, "cdk.tf.json")}`);
      results.push(false);
      continue;
    }
    let tfJson: unknown;
    try {
      tfJson = prepareWorkingCopy(stack.dir, copy, override);
    } catch (error) {
      if (!(error instanceof UserInputError)) throw error;
      io.out(`${stack.label}: not validated: ${error.message}`);
      results.push(false);
      continue;
    }
    const label =
      override !== undefined ? `${stack.label} (hashicorp/aws ${override}, override)` : stack.label;
    if (mirrorDir !== undefined) {
      const gaps = mirrorGaps(requiredProviders(tfJson), mirrorDir);
      if (gaps.length > 0) {
        io.out(`${label}: not validated: terraform init cannot install its providers offline:`);
        for (const gap of gaps) io.out(`    ${gap}`);
        results.push(false);
        continue;
      }
    }
    const init = runTerraform(
      run.terraform,
      [`-chdir=${copy}`, "init", "-backend=false", "-input=false", "-no-color"],
      env,
    );
    if (init.status !== 0) {
      io.out(`${label}: terraform init failed:\n${indent(`${init.stdout}${init.stderr}`)}`);
      if (mirrorDir === undefined && REGISTRY_UNREACHABLE.test(`${init.stdout}${init.stderr}`)) {
        io.out(`    Offline? Use a provider mirror: ${MIRROR_VARIABLE}=<dir> npm run validate`);
      }
      results.push(false);
      continue;
    }
    const validate = runTerraform(
      run.terraform,
      [`-chdir=${copy}`, "validate", "-json", "-no-color"],
      env,
    );
    const output = parseValidateOutput(validate.stdout);
    if (output === undefined) {
      io.out(
        `${label}: terraform validate failed:\n${indent(`${validate.stdout}${validate.stderr}`)}`,
      );
      results.push(false);
      continue;
    }
    io.out(formatValidateResult(label, output));
    results.push(output.valid);
  }

  const valid = results.filter(Boolean).length;
  io.out(`${valid} of ${plural(run.stacks.length, "stack")} valid.`);
  if (override !== undefined && valid < run.stacks.length) {
    io.err(
      `Remember: these results are against hashicorp/aws ${override}, not the pinned provider; check each error against the pinned version's documentation before changing code.`,
    );
  }
  return valid === run.stacks.length ? 0 : 1;
}

if (require.main === module) {
  process.exitCode = runValidateCli(process.argv.slice(2));
}
