/**
 * `npm run deploy-guard`: a deploy must not move traffic back to the region the database left.
 * Against the SigV4-verifying loopback API (tests/support/sigv4-server.ts).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { OperationRecord } from "../../functions/shared/operation";
import type { StatusResponse } from "../../functions/shared/operations-api";
import { deployGuardVerdict, runDeployGuardCli } from "../../src/cli/deploy-guard";
import { UserInputError } from "../../src/errors";
import {
  type OperationsServer,
  type OperationsServerOptions,
  startOperationsServer,
  TEST_CREDENTIALS,
  TEST_REGION,
} from "../support/sigv4-server";

let server: OperationsServer | undefined;

beforeEach(() => {
  vi.stubEnv("AWS_ACCESS_KEY_ID", TEST_CREDENTIALS.accessKeyId);
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", TEST_CREDENTIALS.secretAccessKey);
  vi.stubEnv("AWS_SESSION_TOKEN", TEST_CREDENTIALS.sessionToken);
  vi.stubEnv("AWS_REGION", TEST_REGION);
  vi.stubEnv("AWS_PROFILE", "");
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await server?.close();
  server = undefined;
});

async function guard(serverOptions: OperationsServerOptions, extra: string[] = []) {
  server = await startOperationsServer(serverOptions);
  const out: string[] = [];
  const code = await runDeployGuardCli(["--env", "staging", "--api-url", server.url, ...extra], {
    out: (line) => out.push(line),
    err: (line) => out.push(line),
  });
  return { code, output: out.join("\n") };
}

describe("npm run deploy-guard", () => {
  it("lets the deploy go when the database writes where activeRegion says", async () => {
    const { code, output } = await guard({});
    expect(code).toBe(0);
    expect(output).toContain("topology matches: the database writes in primary (us-east-2)");
    expect(server?.requests.every((request) => request.signature === "valid")).toBe(true);
  });

  it("stops it after a failover while the env file still says primary, and says what to change", async () => {
    const { code, output } = await guard({ activeRegion: "secondary" });
    expect(code).toBe(1);
    expect(output).toContain(
      'the database writes in secondary (us-west-2), but envs/staging.json says activeRegion "primary"',
    );
    expect(output).toContain('set "activeRegion": "secondary" in envs/staging.json');
  });

  it("stops it when the deploy role may not call GET /status (the guard would check nothing)", async () => {
    const { code, output } = await guard({
      forbidden: "User: arn:aws:sts::123456789012:assumed-role/deploy is not authorized",
    });
    expect(code).toBe(1);
    expect(output).toMatch(/execute-api:Invoke/);
  });

  it("stops when the API does not answer (fails closed), and goes with a warning under --allow-unchecked", async () => {
    const stopped = await guard({ delayMs: 2_000 }, ["--timeout", "1"]);
    expect(stopped.code).toBe(1);
    expect(stopped.output).toMatch(
      /^deploy guard: GET \/status failed \(.*\)\. Stopped, because an unchecked deploy could move traffic back to a region the database left\. Fix the lookup, or if you know the topology matches activeRegion, run again with --allow-unchecked \(deploy\.yml: run it by hand with allow-unchecked-deploy\)$/,
    );
    await server?.close();
    const allowed = await guard({ delayMs: 2_000 }, ["--timeout", "1", "--allow-unchecked"]);
    expect(allowed.code).toBe(0);
    expect(allowed.output).toMatch(
      /^deploy guard: warning: GET \/status failed \(.*\); deploying unchecked \(--allow-unchecked\)$/,
    );
  });

  it("--allow-unchecked never overrides a known mismatch", async () => {
    const { code, output } = await guard({ activeRegion: "secondary" }, ["--allow-unchecked"]);
    expect(code).toBe(1);
    expect(output).toContain("the database writes in secondary (us-west-2)");
  });

  it("--allow-unchecked never overrides a refused call (the role could never check anything)", async () => {
    const { code } = await guard({ forbidden: "User: ... is not authorized" }, [
      "--allow-unchecked",
    ]);
    expect(code).toBe(1);
  });

  it("has nothing to compare on a first deploy (no status_api_url output, no resources in the state)", async () => {
    const out: string[] = [];
    const asked: string[] = [];
    const code = await runDeployGuardCli(
      ["--env", "staging"],
      { out: (line) => out.push(line), err: (line) => out.push(line) },
      {
        environment: {},
        readOutputs: async () => ({}),
        countStateResources: async (env) => {
          asked.push(env);
          return 0;
        },
      },
    );
    expect(asked).toEqual(["staging"]);
    expect(code).toBe(0);
    expect(out.join("\n")).toBe(
      "deploy guard: first deploy, nothing to compare (The shopsmart-staging stack has no " +
        "status_api_url output (read from cdktf.out/stacks/shopsmart-staging): it is not " +
        "deployed yet. Deploy it first (`cdktf deploy shopsmart-staging`), or pass --api-url " +
        "https://<api-id>.execute-api.<region>.amazonaws.com (or set SHOPSMART_DR_API_URL).)",
    );
  });

  it("does not take a state that holds resources but no status_api_url output for a first deploy: it stops, unless --allow-unchecked", async () => {
    // An apply cut off before the operations API was created, or an output removed: the database
    // may exist and may have failed over, and nothing here can ask where it writes.
    const run = async (extra: string[], countStateResources: () => Promise<number>) => {
      const out: string[] = [];
      const code = await runDeployGuardCli(
        ["--env", "staging", ...extra],
        { out: (line) => out.push(line), err: (line) => out.push(line) },
        { environment: {}, readOutputs: async () => ({}), countStateResources },
      );
      return { code, output: out.join("\n") };
    };
    const stopped = await run([], async () => 41);
    expect(stopped.code).toBe(1);
    expect(stopped.output).toMatch(
      /^deploy guard: the stack's state holds 41 resources but no status_api_url output: a deploy that stopped before the operations API, or an output removed, not a first deploy\. Stopped, because an unchecked deploy could move traffic back/,
    );
    expect((await run([], async () => 1)).output).toContain("holds 1 resource but no");
    const allowed = await run(["--allow-unchecked"], async () => 41);
    expect(allowed.code).toBe(0);
    expect(allowed.output).toMatch(/^deploy guard: warning: the stack's state holds 41 resources/);

    const unreadable = await run([], async () => {
      throw new UserInputError("`terraform state pull` failed in cdktf.out/stacks/x (exit 1)");
    });
    expect(unreadable.code).toBe(1);
    expect(unreadable.output).toMatch(
      /^deploy guard: the stack has no status_api_url output, and its state could not be read to tell whether this is a first deploy \(`terraform state pull` failed in cdktf\.out\/stacks\/x \(exit 1\)\)\. Stopped/,
    );
  });

  it("does not take a replica state without outputs for a first deploy: it stops, unless --allow-unchecked", async () => {
    const run = async (extra: string[]) => {
      const out: string[] = [];
      const code = await runDeployGuardCli(
        ["--env", "staging", ...extra],
        { out: (line) => out.push(line), err: (line) => out.push(line) },
        { environment: { SHOPSMART_STATE_LOCATION: "replica" }, readOutputs: async () => ({}) },
      );
      return { code, output: out.join("\n") };
    };
    const stopped = await run([]);
    expect(stopped.code).toBe(1);
    expect(stopped.output).toMatch(
      /^deploy guard: the replica state has no status_api_url output \(SHOPSMART_STATE_LOCATION=replica\): an empty or wrong replica, not a first deploy\. Stopped/,
    );
    expect((await run(["--allow-unchecked"])).code).toBe(0);
  });

  it("stops when the outputs cannot be read (any lookup failure but a missing output), unless --allow-unchecked", async () => {
    const failing = async (): Promise<Record<string, string>> => {
      throw new UserInputError("`terraform output -json` failed in cdktf.out/stacks/x (exit 1)");
    };
    const run = async (extra: string[]) => {
      const out: string[] = [];
      const code = await runDeployGuardCli(
        ["--env", "staging", ...extra],
        { out: (line) => out.push(line), err: (line) => out.push(line) },
        { environment: {}, readOutputs: failing },
      );
      return { code, output: out.join("\n") };
    };
    const stopped = await run([]);
    expect(stopped.code).toBe(1);
    expect(stopped.output).toMatch(
      /^deploy guard: cannot find the operations API to ask \(`terraform output -json` failed in cdktf\.out\/stacks\/x \(exit 1\)\)\. Stopped, because/,
    );
    const allowed = await run(["--allow-unchecked"]);
    expect(allowed.code).toBe(0);
    expect(allowed.output).toContain(
      "deploy guard: warning: cannot find the operations API to ask",
    );
  });

  it("rejects a missing --env", async () => {
    const err: string[] = [];
    const code = await runDeployGuardCli([], { out: () => {}, err: (line) => err.push(line) });
    expect(code).toBe(2);
    expect(err.join("\n")).toContain("--env is required");
  });
});

describe("deployGuardVerdict", () => {
  const status = (overrides: Partial<StatusResponse>): StatusResponse =>
    ({
      environment: "prod",
      activeRegion: "primary",
      regions: { primary: "us-east-2", secondary: "us-west-2" },
      database: { writerRegion: "primary" },
      latestOperation: null,
      unreachable: [],
      ...overrides,
    }) as StatusResponse;

  it("stops while an operation runs, whatever the regions say", () => {
    const running = { operationId: "op-1", kind: "failover", status: "running" } as OperationRecord;
    expect(
      deployGuardVerdict("envs/prod.json", "primary", status({ latestOperation: running })),
    ).toEqual({
      go: false,
      message: expect.stringContaining("failover op-1 is running in prod"),
    });
  });

  it("cannot check when the writer cannot be read (a stop --allow-unchecked may override)", () => {
    const verdict = deployGuardVerdict(
      "envs/prod.json",
      "primary",
      status({
        database: { writerRegion: "unknown" } as StatusResponse["database"],
        unreachable: [{ role: "primary", region: "us-east-2", reason: "Retryable.Timeout" }],
      }),
    );
    expect(verdict).toEqual({
      go: false,
      unchecked: true,
      message:
        "the database writer region of prod is unknown (us-east-2), so a deploy with " +
        "activeRegion primary cannot be checked",
    });
  });
});
