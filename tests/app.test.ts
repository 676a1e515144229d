import { execFileSync, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import launcher from "../src/app-bundle/run.cjs";
import { SHIPPED_ENVIRONMENTS } from "./support/shipped-environments";

/**
 * The app as users run it: `npm run synth` (main.ts from its prebuilt bundle, through
 * src/app-bundle/run.cjs) and `cdktf synth` (the CLI, through cdktf.json). These spawn real
 * processes, so they also prove synth needs no AWS credentials.
 */

const ROOT = resolve(__dirname, "..");
const LAUNCHER = join(ROOT, "src/app-bundle/run.cjs");
const CDKTF = join(ROOT, "node_modules/.bin/cdktf");
const scratch = mkdtempSync(join(tmpdir(), "shopsmart-app-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Environment for a child synth: no AWS credentials, no telemetry, outputs under `outdir`. */
function synthEnv(outdir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // A selection in the test's own environment would change what every test here synthesizes.
  const {
    SHOPSMART_ENVS: _selection,
    [launcher.BUNDLE_KIND_VARIABLE]: _kind,
    SHOPSMART_SYNTH_FROM_SOURCE: _fromSource,
    ...inherited
  } = process.env;
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    CHECKPOINT_DISABLE: "1",
    CDKTF_OUTDIR: outdir,
    ...extra,
  };
  for (const name of Object.keys(env)) {
    if (name.startsWith("AWS_")) delete env[name];
  }
  return env;
}

function runApp(outdir: string, extra: Record<string, string> = {}) {
  return spawnSync(process.execPath, [LAUNCHER], {
    cwd: ROOT,
    env: synthEnv(outdir, extra),
    encoding: "utf8",
  });
}

/** Every file under `dir`, relative path -> bytes. */
function readTree(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.set(relative(dir, path), readFileSync(path));
    }
  };
  walk(dir);
  return files;
}

function expectIdenticalTrees(a: string, b: string) {
  const left = readTree(a);
  const right = readTree(b);
  expect([...right.keys()].sort()).toEqual([...left.keys()].sort());
  for (const [path, bytes] of left) {
    expect(right.get(path)?.equals(bytes), `${path} differs`).toBe(true);
  }
}

describe("app", () => {
  const first = join(scratch, "first");
  const firstRun = runApp(first);

  it("synthesizes one stack per environment file without AWS credentials", () => {
    expect(firstRun.stderr).toBe("");
    expect(firstRun.status).toBe(0);
    expect(readdirSync(join(first, "stacks")).sort()).toEqual(
      SHIPPED_ENVIRONMENTS.map((env) => `shopsmart-${env}`),
    );
    for (const stack of readdirSync(join(first, "stacks"))) {
      expect(existsSync(join(first, "stacks", stack, "cdk.tf.json"))).toBe(true);
    }
  });

  it("is deterministic: two synths are byte-identical", () => {
    const second = join(scratch, "second");
    expect(runApp(second).status).toBe(0);
    expectIdenticalTrees(first, second);
  });

  it("synthesizes the same bytes from the bundle of the sources as from the complete one", () => {
    // The sources bundle loads cdktf from node_modules, its shortcuts applied as it loads. The
    // runs above used the complete bundle, at the latest the second (run.cjs's bundleToRun).
    const outdir = join(scratch, "kind-sources");
    const run = runApp(outdir, { [launcher.BUNDLE_KIND_VARIABLE]: "sources" });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expectIdenticalTrees(first, outdir);
  });

  it("refuses a bundle kind it does not know, naming the variable and the kinds", () => {
    const run = runApp(join(scratch, "bad-kind"), { [launcher.BUNDLE_KIND_VARIABLE]: "full" });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      `${launcher.BUNDLE_KIND_VARIABLE}=full is not a bundle kind: use sources or complete, or leave it unset\n`,
    );
    expect(existsSync(join(scratch, "bad-kind"))).toBe(false);
  });

  it("synthesizes from its bundle exactly what main.ts gives run from source", () => {
    // The bundle leaves out cdktf's token stack traces, joins resolve paths lazily and takes plain
    // values as they are (src/app-bundle/run.cjs); none of it may change a byte.
    const fromSource = join(scratch, "from-source");
    const run = runApp(fromSource, { SHOPSMART_SYNTH_FROM_SOURCE: "1" });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expectIdenticalTrees(first, fromSource);
  });

  it("gives `cdktf synth` (through cdktf.json) byte-identical stacks, and the SHOPSMART_ENVS selection", () => {
    // One CLI run (it takes several seconds): every environment but the first is selected, so the
    // selection visibly reaches the app through the CLI, and each stack it writes must equal
    // npm run synth's.
    const [left, ...selected] = SHIPPED_ENVIRONMENTS;
    const viaCli = join(scratch, "cli");
    execFileSync(CDKTF, ["synth", "--output", viaCli], {
      cwd: ROOT,
      env: synthEnv(viaCli, { SHOPSMART_ENVS: selected.join(",") }),
      stdio: "pipe",
    });
    expect(readdirSync(join(viaCli, "stacks")).sort()).toEqual(
      selected.map((env) => `shopsmart-${env}`),
    );
    expect(left).toBeDefined();
    for (const env of selected) {
      expectIdenticalTrees(
        join(first, `stacks/shopsmart-${env}`),
        join(viaCli, `stacks/shopsmart-${env}`),
      );
    }
  });

  it("fails on a bad environment file with one message and writes nothing", () => {
    const envs = join(scratch, "bad-envs");
    cpSync(join(ROOT, "envs"), envs, { recursive: true });
    const prod = JSON.parse(readFileSync(join(envs, "prod.json"), "utf8"));
    prod.regions.secondary = prod.regions.primary;
    writeFileSync(join(envs, "prod.json"), JSON.stringify(prod));
    const outdir = join(scratch, "bad-out");

    const run = runApp(outdir, { SHOPSMART_ENVS_DIR: envs });

    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      [
        `Invalid environment config ${relative(ROOT, join(envs, "prod.json"))} (1 problem):`,
        '  - regions.secondary: got "us-east-2"; expected a region other than regions.primary (us-east-2): both roles in one region give no regional failover',
        "Fix the file and run synth again; nothing was synthesized.",
        "To synthesize, diff or deploy another environment meanwhile, select it: SHOPSMART_ENVS=<env> npm run cdktf -- deploy <project>-<env> (docs/environments.md, One environment at a time).",
        "",
      ].join("\n"),
    );
    expect(existsSync(outdir)).toBe(false);
  });

  it("fails when an environment cannot meet its RTO, naming the term, and writes nothing", () => {
    const envs = join(scratch, "slow-envs");
    cpSync(join(ROOT, "envs"), envs, { recursive: true });
    const prod = JSON.parse(readFileSync(join(envs, "prod.json"), "utf8"));
    prod.automaticFailover.alarmMinutes = 5;
    writeFileSync(join(envs, "prod.json"), JSON.stringify(prod));
    const outdir = join(scratch, "slow-out");

    const run = runApp(outdir, { SHOPSMART_ENVS_DIR: envs });

    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      [
        `${relative(ROOT, join(envs, "prod.json"))} cannot meet its DR targets:`,
        `  - RTO (worst case): 465 s > dr.rtoSeconds (300 s). Largest term: decision 300 s from automaticFailover.alarmMinutes (5) x 60 s: the primary-down alarm's further "down" verdicts, one a minute, and its once-a-minute evaluation. Change automaticFailover.alarmMinutes, or raise dr.rtoSeconds.`,
        "Run `npm run budget -- --env prod` for the breakdown; nothing was synthesized.",
        "",
      ].join("\n"),
    );
    expect(existsSync(outdir)).toBe(false);
  });

  it("SHOPSMART_ENVS=prod synthesizes prod alone, byte-identical, while another env file is broken (a loud warning)", () => {
    const envs = join(scratch, "broken-dev-envs");
    cpSync(join(ROOT, "envs"), envs, { recursive: true });
    writeFileSync(
      join(envs, "dev.json"),
      '{\n  "project": "shopsmart",\n  "environment": dev\n}\n',
    );
    const devFile = relative(ROOT, join(envs, "dev.json"));
    const outdir = join(scratch, "prod-only");

    const run = runApp(outdir, { SHOPSMART_ENVS_DIR: envs, SHOPSMART_ENVS: "prod" });

    expect(run.status).toBe(0);
    expect(run.stderr.split("\n").slice(0, 3)).toEqual([
      `warning: ${devFile} is invalid and was skipped: SHOPSMART_ENVS=prod selects only prod. Fix it before the next synth of every environment, which refuses it:`,
      `Invalid environment config ${devFile} (1 problem):`,
      `  - not valid JSON: line 3, column 18: Unexpected token 'd' (line 3: "environment": dev)`,
    ]);
    expect(readdirSync(join(outdir, "stacks"))).toEqual(["shopsmart-prod"]);
    expectIdenticalTrees(
      join(first, "stacks/shopsmart-prod"),
      join(outdir, "stacks/shopsmart-prod"),
    );

    // Without the selection the same directory stops synth, as before.
    const strict = runApp(join(scratch, "strict-out"), { SHOPSMART_ENVS_DIR: envs });
    expect(strict.status).toBe(1);
    expect(strict.stderr).toMatch(
      new RegExp(`^Invalid environment config ${devFile.replaceAll(".", "\\.")} \\(1 problem\\)`),
    );
    expect(existsSync(join(scratch, "strict-out"))).toBe(false);
  });

  it("fails on a SHOPSMART_ENVS naming an environment without a file, listing the ones there are", () => {
    const run = runApp(join(scratch, "unknown-env"), { SHOPSMART_ENVS: "no-such-env-zz9" });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      'SHOPSMART_ENVS: Unknown environment "no-such-env-zz9": there is no envs/no-such-env-zz9.json.\n' +
        `Available environments: ${SHIPPED_ENVIRONMENTS.join(", ")}.\n`,
    );
  });

  it("names the env file where it is in a guardrail's fix (SHOPSMART_ENVS_DIR other than envs/)", () => {
    const envs = join(scratch, "guarded-envs");
    cpSync(join(ROOT, "envs"), envs, { recursive: true });
    const prodFile = join(envs, "prod.json");
    const prod = JSON.parse(readFileSync(prodFile, "utf8"));
    prod.database.deletionProtection = false;
    writeFileSync(prodFile, JSON.stringify(prod));
    const run = runApp(join(scratch, "guarded-out"), {
      SHOPSMART_ENVS_DIR: envs,
      SHOPSMART_ENVS: "prod",
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      `Fix: set database.deletionProtection to true in ${relative(ROOT, prodFile)}`,
    );
    expect(run.stderr).not.toContain("in envs/prod.json");
  });

  it("fails on an unknown SHOPSMART_STATE_LOCATION", () => {
    const run = runApp(join(scratch, "bad-location"), { SHOPSMART_STATE_LOCATION: "backup" });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      'SHOPSMART_STATE_LOCATION: got "backup"; expected "primary" or "replica" (unset means primary)\n',
    );
  });
});
