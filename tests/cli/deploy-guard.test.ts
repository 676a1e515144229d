/**
 * `npm run deploy-guard`: a deploy must not move traffic back to the region the database left.
 * Against the SigV4-verifying loopback API (tests/support/sigv4-server.ts).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { OperationRecord } from "../../functions/shared/operation";
import type { StatusResponse } from "../../functions/shared/operations-api";
import { deployGuardVerdict, runDeployGuardCli } from "../../src/cli/deploy-guard";
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

  it("lets it go with a warning when the API does not answer (its region may be the one in trouble)", async () => {
    const { code, output } = await guard({ delayMs: 2_000 }, ["--timeout", "1"]);
    expect(code).toBe(0);
    expect(output).toMatch(/warning: GET \/status failed/);
  });

  it("has nothing to compare on a first deploy (no API outputs yet)", async () => {
    const out: string[] = [];
    const code = await runDeployGuardCli(
      ["--env", "staging"],
      { out: (line) => out.push(line), err: (line) => out.push(line) },
      { environment: {}, readOutputs: async () => ({}) },
    );
    expect(code).toBe(0);
    expect(out.join("\n")).toMatch(/no deployed operations API to ask .*not deployed yet/);
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

  it("goes, with a warning, when the writer cannot be read", () => {
    const verdict = deployGuardVerdict(
      "envs/prod.json",
      "primary",
      status({
        database: { writerRegion: "unknown" } as StatusResponse["database"],
        unreachable: [{ role: "primary", region: "us-east-2", reason: "Retryable.Timeout" }],
      }),
    );
    expect(verdict).toEqual({
      go: true,
      message: expect.stringMatching(
        /^warning: the database writer region of prod is unknown \(us-east-2\)/,
      ),
    });
  });
});
