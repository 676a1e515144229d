/**
 * `--env` is selected the same way by every CLI (drill, budget, deploy-guard, state, validate,
 * status/failover/failback): a name in SHOPSMART_ENVS_DIR or envs/, or the path of an env file;
 * an unknown one is answered with the environments that exist, never with ENOENT.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { DrillReport } from "../../functions/orchestration/drill-report";
import { createOperationsApiClient } from "../../functions/shared/operations-api-client";
import { runBudgetCli } from "../../src/cli/budget";
import { runDeployGuardCli } from "../../src/cli/deploy-guard";
import { runDrillCli } from "../../src/cli/drill";
import {
  environmentArgumentProblem,
  environmentsDirectory,
  loadEnvironment,
  selectEnvironment,
} from "../../src/cli/environment-selection";
import { runOperationsCli } from "../../src/cli/operations";
import { runStateCli } from "../../src/cli/state";
import { parseValidateArgs, runValidateCli } from "../../src/cli/validate";
import { loadEnvConfig } from "../../src/config/load";
import { UserInputError } from "../../src/errors";
import { AVAILABLE_LINE, UNKNOWN_ENVIRONMENT } from "../support/shipped-environments";
import {
  type OperationsServer,
  startOperationsServer,
  TEST_CREDENTIALS,
  TEST_REGION,
} from "../support/sigv4-server";

const ROOT = resolve(__dirname, "../..");
const SEED = "tests/fixtures/envs/seed.json";
const UNKNOWN = UNKNOWN_ENVIRONMENT;
const UNKNOWN_MESSAGE = `Unknown environment "${UNKNOWN}": there is no envs/${UNKNOWN}.json.\n${AVAILABLE_LINE}`;

const scratch = mkdtempSync(join(tmpdir(), "environment-selection-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A directory holding one env file, `gameday.json`: the seed's settings with a 3-minute hold. */
function envsDirWithOneEnvironment(): string {
  const dir = mkdtempSync(join(scratch, "envs-"));
  const seed = JSON.parse(readFileSync(join(ROOT, SEED), "utf8"));
  const gameday = { ...seed, environment: "gameday", drill: { ...seed.drill, holdMinutes: 3 } };
  writeFileSync(join(dir, "gameday.json"), `${JSON.stringify(gameday, null, 2)}\n`);
  return dir;
}

function lines() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { out: (line: string) => out.push(line), err: (line: string) => err.push(line) },
    out: () => out.join("\n"),
    err: () => err.join("\n"),
  };
}

/** A local game day's dry run (the quickest local run: preflight and plan, about 5 s). */
async function localDryRun(env: string, environment: NodeJS.ProcessEnv = {}) {
  const reportDir = mkdtempSync(join(scratch, "drill-"));
  const { io, out, err } = lines();
  const code = await runDrillCli(
    ["--local", "--env", env, "--dry-run", "--report-dir", reportDir],
    io,
    { environment },
  );
  const json = readdirSync(reportDir).find((file) => file.endsWith(".json")) as string;
  const report = JSON.parse(readFileSync(join(reportDir, json), "utf8")) as DrillReport;
  return { code, out: out(), err: err(), report };
}

describe("the seed-like env fixture", () => {
  it("is a valid env file with the seed's regions, us-east-1 and us-west-2", () => {
    const config = loadEnvConfig(join(ROOT, SEED), ROOT);
    expect(config).toMatchObject({
      environment: "seed",
      regions: { primary: "us-east-1", secondary: "us-west-2" },
      stateBackend: { region: "us-east-1", replicaRegion: "us-west-2" },
      dns: { domainName: "seed.shop.example.com" },
    });
  });
});

describe("selectEnvironment", () => {
  it("a name is <envs dir>/<name>.json; the stack is <project>-<name>", () => {
    expect(selectEnvironment("prod", { environment: {} })).toEqual({
      name: "prod",
      file: join(ROOT, "envs/prod.json"),
      displayFile: "envs/prod.json",
      envsDir: join(ROOT, "envs"),
    });
    expect(loadEnvironment("prod", { environment: {} }).stackName).toBe("shopsmart-prod");
  });

  it("the envs dir is SHOPSMART_ENVS_DIR, resolved, when set; --envs-dir wins over it", () => {
    const dir = envsDirWithOneEnvironment();
    expect(environmentsDirectory(ROOT, {})).toBe(join(ROOT, "envs"));
    expect(environmentsDirectory(ROOT, { SHOPSMART_ENVS_DIR: dir })).toBe(dir);
    expect(selectEnvironment("gameday", { environment: { SHOPSMART_ENVS_DIR: dir } }).file).toBe(
      join(dir, "gameday.json"),
    );
    expect(
      selectEnvironment("dev", { environment: { SHOPSMART_ENVS_DIR: dir }, envsDir: "envs" }).file,
    ).toBe(join(ROOT, "envs/dev.json"));
  });

  it("a value ending in .json or containing a / is the path of an env file; its name is the file's", () => {
    const selected = loadEnvironment(SEED, { environment: {} });
    expect(selected.selection).toEqual({
      name: "seed",
      file: join(ROOT, SEED),
      displayFile: SEED,
      envsDir: join(ROOT, "tests/fixtures/envs"),
    });
    expect(selected.stackName).toBe("shopsmart-seed");
    expect(selectEnvironment("./envs/dev.json", { environment: {} }).name).toBe("dev");
  });

  it("fails for an unknown name, listing the environments that exist", () => {
    expect(() => selectEnvironment(UNKNOWN, { environment: {} })).toThrow(
      new UserInputError(UNKNOWN_MESSAGE),
    );
  });

  it("fails for a path with no file, or one that is not .json, listing the environments that exist", () => {
    const message = (file: string) =>
      `There is no environment file ${file}: --env takes the path of an env file (<name>.json) ` +
      `or the name of one in envs.\n${AVAILABLE_LINE}`;
    expect(() => selectEnvironment(`tests/${UNKNOWN}.json`, { environment: {} })).toThrow(
      new UserInputError(message(`tests/${UNKNOWN}.json`)),
    );
    expect(() => selectEnvironment("envs/prod", { environment: {} })).toThrow(
      new UserInputError(message("envs/prod")),
    );
  });

  it("flag parsers accept a name or a .json path, and nothing else", () => {
    expect(environmentArgumentProblem("staging")).toBeUndefined();
    expect(environmentArgumentProblem(SEED)).toBeUndefined();
    expect(environmentArgumentProblem("Staging!")).toBe(
      '--env takes an environment name, e.g. prod, or the path of an env file ending in .json; got "Staging!"',
    );
    expect(environmentArgumentProblem("../prod")).toMatch(/^--env takes an environment name/);
  });
});

describe("an unknown environment: every CLI lists the ones that exist, exit 2, no ENOENT", () => {
  let server: OperationsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
    vi.restoreAllMocks();
  });

  it("drill --local", async () => {
    const { io, out, err } = lines();
    const code = await runDrillCli(["--local", "--env", UNKNOWN], io, { environment: {} });
    expect(code).toBe(2);
    expect(err()).toBe(UNKNOWN_MESSAGE);
    expect(out()).toBe("");
  });

  it("drill against a deployed stack", async () => {
    const { io, err } = lines();
    const code = await runDrillCli(
      ["--env", UNKNOWN, "--api-url", "https://abc.execute-api.us-west-2.amazonaws.com"],
      io,
      { environment: {} },
    );
    expect(code).toBe(2);
    expect(err()).toBe(UNKNOWN_MESSAGE);
  });

  it("budget", () => {
    expect(runBudgetCli(["--env", UNKNOWN], { environment: {} })).toEqual({
      output: UNKNOWN_MESSAGE,
      exitCode: 2,
    });
  });

  it("budget with --envs-dir names that directory", () => {
    const dir = envsDirWithOneEnvironment();
    const { output, exitCode } = runBudgetCli(["--env", UNKNOWN, "--envs-dir", dir]);
    expect(exitCode).toBe(2);
    expect(output).toBe(
      `Unknown environment "${UNKNOWN}": there is no ${dir}/${UNKNOWN}.json.\nAvailable environments: gameday.`,
    );
  });

  it("deploy-guard, before asking any API", async () => {
    server = await startOperationsServer({});
    const { io, out, err } = lines();
    const code = await runDeployGuardCli(["--env", UNKNOWN, "--api-url", server.url], io, {
      environment: {},
    });
    expect(code).toBe(2);
    expect(err()).toBe(UNKNOWN_MESSAGE);
    expect(out()).toBe("");
    expect(server.requests).toEqual([]);
  });

  it("state", async () => {
    const errors: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: unknown) => {
      errors.push(String(line));
    });
    expect(await runStateCli([UNKNOWN, "output"], {})).toBe(2);
    expect(errors).toEqual([UNKNOWN_MESSAGE]);
  });

  it("status, failover and failback", async () => {
    for (const command of [
      ["status"],
      ["failover", "--mode", "planned", "--reason", "test"],
      ["failback", "--reason", "test"],
    ]) {
      const { io, out, err } = lines();
      const code = await runOperationsCli([...command, "--env", UNKNOWN], {
        ...io,
        environment: {},
        resolveEndpoint: () => Promise.reject(new Error("must not be called")),
      });
      expect(code).toBe(2);
      expect(err()).toBe(UNKNOWN_MESSAGE);
      expect(out()).toBe("");
    }
  });

  it("validate: the flag parses, the run answers with the list", () => {
    expect(parseValidateArgs(["--env", UNKNOWN])).toMatchObject({ kind: "run", env: UNKNOWN });
    expect(parseValidateArgs(["--env", SEED])).toMatchObject({ kind: "run", env: SEED });
    const { io, err } = lines();
    expect(runValidateCli(["--env", UNKNOWN], { environment: {}, io })).toBe(2);
    expect(err()).toBe(UNKNOWN_MESSAGE);
  });

  it("no CLI says ENOENT for a missing env file path", async () => {
    const missing = `tests/${UNKNOWN}.json`;
    const drill = lines();
    await runDrillCli(["--local", "--env", missing], drill.io, { environment: {} });
    const budget = runBudgetCli(["--env", missing], { environment: {} }).output;
    for (const message of [drill.err(), budget]) {
      expect(message.startsWith(`There is no environment file tests/${UNKNOWN}.json`)).toBe(true);
      expect(message).toContain(AVAILABLE_LINE);
      expect(message).not.toMatch(/ENOENT/);
    }
  });
});

describe("SHOPSMART_ENVS_DIR", () => {
  it("drill --local reads the environment from it", async () => {
    const dir = envsDirWithOneEnvironment();
    const { code, out, report } = await localDryRun("gameday", { SHOPSMART_ENVS_DIR: dir });
    expect(code).toBe(0);
    expect(out).toContain("local game day for gameday: synthesizing its stack...");
    // 3 minutes: drill.holdMinutes of the file in the directory, not of an env in envs/.
    expect(out).toMatch(/planned failover us-east-1 -> us-west-2, hold 180 s, fail back \(dry run/);
    // A dry run's verdict is "dry-run", never "passed" (it failed nothing over).
    expect(report).toMatchObject({ environment: "gameday", verdict: "dry-run" });
  });

  it("budget reads the environment from it", () => {
    const dir = envsDirWithOneEnvironment();
    const { output, exitCode } = runBudgetCli(["--env", "gameday"], {
      environment: { SHOPSMART_ENVS_DIR: dir },
    });
    expect(exitCode).toBe(0);
    expect(output).toMatch(/^## DR budget of gameday\n/);
    expect(output).toContain("### RTO (worst case): 285 s of 300 s (met)");
  });
});

describe("--env <path to an env file>", () => {
  beforeEach(() => {
    vi.stubEnv("AWS_ACCESS_KEY_ID", TEST_CREDENTIALS.accessKeyId);
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", TEST_CREDENTIALS.secretAccessKey);
    vi.stubEnv("AWS_SESSION_TOKEN", TEST_CREDENTIALS.sessionToken);
    vi.stubEnv("AWS_REGION", TEST_REGION);
    vi.stubEnv("AWS_PROFILE", "");
  });
  let server: OperationsServer | undefined;
  afterEach(async () => {
    vi.unstubAllEnvs();
    await server?.close();
    server = undefined;
  });

  it("drill --local runs a game day with the file's settings", async () => {
    const { code, out, report } = await localDryRun(SEED);
    expect(code).toBe(0);
    expect(out).toContain(
      "simulated us-east-1 (primary) and us-west-2 (secondary); time is simulated",
    );
    expect(report).toMatchObject({
      environment: "seed",
      verdict: "dry-run",
      regions: { primary: "us-east-1", secondary: "us-west-2" },
    });
  });

  it("budget takes the file", () => {
    const { output, exitCode } = runBudgetCli(["--env", SEED], { environment: {} });
    expect(exitCode).toBe(0);
    expect(output).toMatch(/^## DR budget of seed\n/);
    expect(output).toContain("### RTO (worst case): 285 s of 300 s (met)");
  });

  it("deploy-guard names the file in what to change", async () => {
    server = await startOperationsServer({ environment: "seed", activeRegion: "secondary" });
    const { io, out, err } = lines();
    const code = await runDeployGuardCli(["--env", SEED, "--api-url", server.url], io, {
      environment: {},
    });
    expect(code).toBe(1);
    expect(`${out()}${err()}`).toContain(
      `the database writes in secondary (us-west-2), but ${SEED} says activeRegion "primary"`,
    );
  });

  it("status compares the API's environment with the file's name", async () => {
    server = await startOperationsServer({ environment: "seed" });
    const { io, out, err } = lines();
    const code = await runOperationsCli(["status", "--env", SEED], {
      ...io,
      environment: { SHOPSMART_DR_API_URL: server.url },
      createApi: (options) =>
        createOperationsApiClient({
          ...options,
          region: TEST_REGION,
          credentials: async () => TEST_CREDENTIALS,
        }),
    });
    expect(code).toBe(0);
    expect(err()).toBe("");
    expect(out()).toMatch(/^seed: active region/);
  });
});
