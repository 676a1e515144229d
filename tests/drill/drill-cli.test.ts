/**
 * `npm run drill` against a deployed stack, played by a loopback API that checks every request's
 * SigV4 signature (tests/support/sigv4-server.ts): flags, the report files, the exit codes, and
 * what the user reads on 403, 409, a failed operation and a slow API.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseDrillArgs, parseDuration, runDrillCli } from "../../src/cli/drill";
import { fakeClock } from "../support/fake-operations-api";
import {
  type OperationsServer,
  type OperationsServerOptions,
  startOperationsServer,
  TEST_CREDENTIALS,
  TEST_REGION,
} from "../support/sigv4-server";

let reportDir: string;
let server: OperationsServer | undefined;

beforeEach(() => {
  reportDir = mkdtempSync(join(tmpdir(), "drill-cli-"));
  vi.stubEnv("AWS_ACCESS_KEY_ID", TEST_CREDENTIALS.accessKeyId);
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", TEST_CREDENTIALS.secretAccessKey);
  vi.stubEnv("AWS_SESSION_TOKEN", TEST_CREDENTIALS.sessionToken);
  vi.stubEnv("AWS_REGION", TEST_REGION);
  vi.stubEnv("AWS_PROFILE", "");
});

afterEach(async () => {
  vi.unstubAllEnvs();
  rmSync(reportDir, { recursive: true, force: true });
  await server?.close();
  server = undefined;
});

async function drillAgainst(serverOptions: OperationsServerOptions, flags: string[] = []) {
  server = await startOperationsServer(serverOptions);
  const out: string[] = [];
  const err: string[] = [];
  const clock = fakeClock();
  const code = await runDrillCli(
    [
      "--env",
      "staging",
      "--hold",
      "1m",
      "--api-url",
      server.url,
      "--app-url",
      server.url,
      "--report-dir",
      reportDir,
      ...flags,
    ],
    { out: (line) => out.push(line), err: (line) => err.push(line) },
    clock,
  );
  const files = readdirSync(reportDir);
  const json = files.find((file) => file.endsWith(".json"));
  const report = json ? JSON.parse(readFileSync(join(reportDir, json), "utf8")) : undefined;
  return { code, out: out.join("\n"), err: err.join("\n"), files, report, server };
}

describe("npm run drill against a deployed stack", () => {
  it("signs every API request, runs failover and failback, writes the report as Markdown and JSON, and exits 0", async () => {
    const { code, out, files, report, server: api } = await drillAgainst({});
    expect(code).toBe(0);
    expect(report).toMatchObject({ verdict: "passed", environment: "staging", trigger: "cli" });
    expect(files.sort()).toEqual([`${report.drillId}.json`, `${report.drillId}.md`]);
    expect(readFileSync(join(reportDir, `${report.drillId}.md`), "utf8")).toContain(
      "### DR drill staging: PASSED",
    );
    const apiRequests = api.requests.filter((request) => request.url !== "/health");
    expect(apiRequests.length).toBeGreaterThan(4);
    expect(apiRequests.every((request) => request.signature === "valid")).toBe(true);
    expect(apiRequests.filter((request) => request.method === "POST").map((r) => r.url)).toEqual([
      "/failover",
      "/failback",
    ]);
    expect(api.activeRegion()).toBe("primary");
    expect(out).toMatch(/failover: started operation op-/);
    expect(out).toMatch(/verify secondary: passed/);
  });

  it("exits 1 with a failed report when the failover operation fails (and again on its re-run)", async () => {
    const { code, report } = await drillAgainst({ failStep: "CheckWriter" });
    expect(code).toBe(1);
    expect(report.verdict).toBe("failed");
    expect(report.failover.attempts).toBe(2);
    expect(report.phases.find((phase: { name: string }) => phase.name === "failback").status).toBe(
      "skipped",
    );
  });

  it("exits 1 on a 409 and names the operation that is running", async () => {
    const { code, out, report } = await drillAgainst({
      runningOperationId: "op-20260304T050000Z-abc123",
    });
    expect(code).toBe(1);
    expect(report.verdict).toBe("failed");
    expect(out).toContain("op-20260304T050000Z-abc123");
  });

  it("exits 1 on a 403 and says which permission is missing", async () => {
    const { code, out, report } = await drillAgainst({
      forbidden:
        "User: arn:aws:iam::123456789012:user/ops is not authorized to perform: execute-api:Invoke",
    });
    expect(code).toBe(1);
    expect(report.error).toMatch(/execute-api:Invoke/);
    expect(out).toMatch(/execute-api:Invoke/);
  });

  it("exits 1 when the API does not answer within --timeout, naming the timeout", async () => {
    const { code, report } = await drillAgainst({ delayMs: 2_000 }, ["--timeout", "1"]);
    expect(code).toBe(1);
    expect(report.error).toMatch(/1 s|timed out|did not answer/);
  });

  it("fails the drill when the signature is wrong (other credentials), and still writes the report", async () => {
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "not-the-secret");
    const { code, report, server: api } = await drillAgainst({});
    expect(code).toBe(1);
    expect(api.requests[0]?.signature).toMatchObject({ invalid: expect.any(String) });
    expect(report.verdict).toBe("failed");
  });

  it("a dry run reads the plan, starts nothing and exits 0", async () => {
    const { code, report, server: api } = await drillAgainst({}, ["--dry-run"]);
    expect(code).toBe(0);
    expect(report.plan.steps.length).toBeGreaterThan(0);
    expect(api.operations.size).toBe(0);
  });
});

describe("flags", () => {
  const run = async (argv: string[]) => {
    const err: string[] = [];
    const code = await runDrillCli(argv, { out: () => {}, err: (line) => err.push(line) });
    return { code, err: err.join("\n") };
  };

  it.each([
    [["--hold", "5m"], "--env is required"],
    [["--env", "staging", "--fault", "throttle"], "--fault needs --local"],
    [
      ["--local", "--fault", "meteor"],
      '--fault must be one of primary-region-down, us-east-1-down, route53-api-down, web-tier-down, partition, slow-switchover, trigger-while-locked, throttle, slow-promotion, crash-mid-way; got "meteor"',
    ],
    [
      ["--env", "staging", "--hold", "soon"],
      '--hold must be a duration such as 5m, 90s or 1h (a bare number is minutes); got "soon"',
    ],
    [["--env", "staging", "--poll", "0"], "--poll must be more than 0 seconds"],
    [["--env", "staging", "--colour"], "Unknown option '--colour'"],
    [
      ["--local", "--api-url", "https://x.example.com"],
      "--api-url and --app-url are for a deployed stack",
    ],
  ])("%j exits 2: %s", async (argv, message) => {
    const { code, err } = await run(argv);
    expect(code).toBe(2);
    expect(err).toContain(message);
    expect(err).toContain("usage: npm run drill");
  });

  it("an unknown environment exits 2 naming the file, before any request", async () => {
    const { code, err } = await run([
      "--env",
      "no-such-env-zz9",
      "--api-url",
      "https://abc.execute-api.us-west-2.amazonaws.com",
    ]);
    expect(code).toBe(2);
    expect(err).toMatch(/no-such-env-zz9\.json/);
  });

  it("parses durations: 5m, 90s, 1.5h, and a bare number in the flag's unit", () => {
    expect(parseDuration("5m", "minutes")).toBe(300);
    expect(parseDuration("90s", "minutes")).toBe(90);
    expect(parseDuration("1.5h", "seconds")).toBe(5400);
    expect(parseDuration("5", "minutes")).toBe(300);
    expect(parseDuration("5", "seconds")).toBe(5);
    expect(parseDuration("-5m", "minutes")).toBeUndefined();
  });

  it("takes the workflow's form: --hold <minutes> --report-dir <dir>", () => {
    expect(
      parseDrillArgs(["--env", "staging", "--hold", "15", "--report-dir", "drill-report"]),
    ).toMatchObject({
      kind: "run",
      options: { env: "staging", holdSeconds: 900, reportDir: "drill-report", local: false },
    });
  });

  it("--local defaults to staging", () => {
    expect(parseDrillArgs(["--local"])).toMatchObject({
      kind: "run",
      options: { env: "staging", local: true },
    });
  });
});

it("no report directory is created for a usage error", async () => {
  const dir = join(reportDir, "never");
  await runDrillCli(["--env", "staging", "--hold", "x", "--report-dir", dir], {
    out: () => {},
    err: () => {},
  });
  expect(existsSync(dir)).toBe(false);
});
