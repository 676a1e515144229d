import { spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { OperationRecord } from "../../functions/shared/operation";
import { operationProgressLines, readingOf } from "../../functions/shared/operation-progress";
import {
  type OperationsApi,
  OperationsApiError,
  type StatusResponse,
} from "../../functions/shared/operations-api";
import { createOperationsApiClient } from "../../functions/shared/operations-api-client";
import {
  type OperationsCliDependencies,
  parseOperationsArgs,
  runOperationsCli,
  USAGE,
  WATCH_TOLERATED_FAILURES,
} from "../../src/cli/operations";
import { AVAILABLE_LINE, UNKNOWN_ENVIRONMENT } from "../support/shipped-environments";
import {
  type OperationsServer,
  type OperationsServerOptions,
  startOperationsServer,
  TEST_CREDENTIALS,
  TEST_REGION,
} from "../support/sigv4-server";

/**
 * `npm run status|failover|failback`: flags, then each command against the loopback API that
 * verifies SigV4 (success, failure, 409, 403, slow), with the lines and the exit code a user gets;
 * last, the real scripts in a child process (exit codes, one-line errors, no stack trace).
 */

const ROOT = resolve(__dirname, "../..");
const LAUNCHER = join(ROOT, "src/app-bundle/run.cjs");

const servers: OperationsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(options: OperationsServerOptions = {}): Promise<OperationsServer> {
  const server = await startOperationsServer(options);
  servers.push(server);
  return server;
}

/** Runs the CLI in-process against `server`, signing with the test credentials, no waiting. */
async function cli(
  server: OperationsServer | undefined,
  argv: string[],
  overrides: Partial<OperationsCliDependencies> = {},
) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runOperationsCli(argv, {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    environment: server === undefined ? {} : { SHOPSMART_DR_API_URL: server.url },
    createApi: (options) =>
      createOperationsApiClient({
        ...options,
        region: TEST_REGION,
        credentials: async () => TEST_CREDENTIALS,
      }),
    sleep: async () => {},
    watchIntervalMs: 5_000,
    ...overrides,
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("flags", () => {
  const error = (argv: string[]) => {
    const parsed = parseOperationsArgs(argv);
    return parsed.kind === "error" ? parsed.message : `not an error: ${JSON.stringify(parsed)}`;
  };

  it("parses each command", () => {
    expect(parseOperationsArgs(["status", "--env", "staging"])).toEqual({
      kind: "run",
      args: { command: "status", env: "staging", json: false, timeoutMs: 30_000, watch: false },
    });
    expect(
      parseOperationsArgs([
        "failover",
        "--env",
        "prod",
        "--mode",
        "unplanned",
        "--reason",
        " us-east-2 is down ",
        "--watch",
        "--api-url",
        "https://x.example",
        "--timeout",
        "2.5",
        "--json",
      ]),
    ).toEqual({
      kind: "run",
      args: {
        command: "failover",
        env: "prod",
        mode: "unplanned",
        reason: "us-east-2 is down",
        dryRun: false,
        watch: true,
        json: true,
        timeoutMs: 2_500,
        apiUrl: "https://x.example",
      },
    });
    expect(
      parseOperationsArgs(["failback", "--env", "dev", "--reason", "ok", "--dry-run"]),
    ).toEqual({
      kind: "run",
      args: {
        command: "failback",
        env: "dev",
        reason: "ok",
        dryRun: true,
        watch: false,
        json: false,
        timeoutMs: 30_000,
      },
    });
    expect(parseOperationsArgs(["failover", "--help"])).toEqual({
      kind: "help",
      command: "failover",
    });
  });

  it("rejects what a command cannot run with, naming the fix", () => {
    expect(error([])).toBe('unknown command "": use status, failover or failback');
    expect(error(["drill"])).toBe('unknown command "drill": use status, failover or failback');
    expect(error(["status"])).toBe("--env is required (e.g. --env staging)");
    expect(error(["status", "--env", "staging", "--bogus"])).toMatch(/^Unknown option '--bogus'/);
    expect(error(["status", "--env", "staging", "extra"])).toMatch(/Unexpected argument 'extra'/);
    expect(error(["status", "--env", "staging", "--mode", "planned"])).toBe(
      "--mode: npm run status does not take it",
    );
    expect(error(["failover", "--env", "staging", "--mode", "planned"])).toBe(
      '--reason is required: say why (recorded with the operation), e.g. --reason "quarterly DR drill"',
    );
    expect(error(["failover", "--env", "staging", "--reason", "   ", "--mode", "planned"])).toMatch(
      /^--reason is required/,
    );
    expect(error(["failover", "--env", "staging", "--reason", "x"])).toBe(
      "--mode is required: planned (switchover, no data loss, both regions up) or unplanned " +
        "(allows data loss, for when the primary region is down)",
    );
    expect(error(["failover", "--env", "staging", "--reason", "x", "--mode", "fast"])).toBe(
      '--mode: got "fast"; expected planned or unplanned',
    );
    expect(error(["failback", "--env", "staging", "--reason", "x", "--mode", "planned"])).toBe(
      "--mode: a failback is always planned; drop --mode",
    );
    expect(error(["failback", "--env", "s", "--reason", "x", "--dry-run", "--watch"])).toBe(
      "--watch with --dry-run: a dry run starts nothing to watch; drop one",
    );
    for (const timeout of ["0", "-1", "abc", "601", "1e3"]) {
      expect(error(["status", "--env", "staging", `--timeout=${timeout}`])).toBe(
        `--timeout: got "${timeout}"; expected seconds, more than 0, at most 600`,
      );
    }
    expect(error(["status", "--env", "staging", "--operation", "op/../x"])).toMatch(
      /^--operation: got "op\/\.\.\/x"; expected an operation id/,
    );
  });

  it("a usage error exits 2 with the message and the command's usage, calling nothing", async () => {
    const result = await cli(undefined, ["failover", "--env", "staging", "--mode", "planned"], {
      resolveEndpoint: () => Promise.reject(new Error("must not be called")),
    });
    expect(result.code).toBe(2);
    expect(result.out).toBe("");
    expect(result.err).toBe(
      `--reason is required: say why (recorded with the operation), e.g. --reason "quarterly DR drill"\n${USAGE.failover}`,
    );
  });

  it("--help prints the usage on stdout and exits 0", async () => {
    const result = await cli(undefined, ["status", "--help"]);
    expect(result).toEqual({ code: 0, out: USAGE.status, err: "" });
  });

  it("an unknown environment exits 2 with the ones that exist", async () => {
    const result = await cli(undefined, [
      "status",
      "--env",
      UNKNOWN_ENVIRONMENT,
      "--api-url",
      "https://x.example",
    ]);
    expect(result.code).toBe(2);
    expect(result.err).toBe(
      `Unknown environment "${UNKNOWN_ENVIRONMENT}": there is no envs/${UNKNOWN_ENVIRONMENT}.json.\n${AVAILABLE_LINE}`,
    );
  });
});

describe("npm run status", () => {
  it("prints where the writer is, DNS, capacity and the latest operation; exit 0", async () => {
    const server = await serve();
    const result = await cli(server, ["status", "--env", "staging"]);
    expect(result.code).toBe(0);
    expect(result.err).toBe("");
    expect(result.out.split("\n")).toEqual([
      "staging: active region primary (us-east-2)",
      "  database  shopsmart-staging: available, writer primary (us-east-2), replication lag 1s",
      "            primary   shopsmart-staging-primary: available, writer",
      "            secondary shopsmart-staging-secondary: available, reader",
      "  dns       staging.shop.example.com: primary healthy, secondary healthy",
      "  capacity  primary 2/2 in service (min 2, max 4); secondary 1/1 in service (min 1, max 4)",
      "  latest    no operation yet",
    ]);
    expect(server.requests.map((r) => [r.method, r.url, r.signature])).toEqual([
      ["GET", "/status", "valid"],
    ]);
  });

  it("--json prints the API's answer unchanged", async () => {
    const server = await serve();
    const result = await cli(server, ["status", "--env", "staging", "--json"]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toMatchObject({
      environment: "staging",
      activeRegion: "primary",
      latestOperation: null,
    });
  });

  it("--operation --watch follows a running operation to its end", async () => {
    const server = await serve({ steps: ["FlipDns"] });
    const api = createOperationsApiClient({
      apiBaseUrl: server.url,
      region: TEST_REGION,
      credentials: async () => TEST_CREDENTIALS,
    });
    const started = await api.failback({ reason: "back" });
    if (started.dryRun) throw new Error("expected a started operation");
    const result = await cli(server, [
      "status",
      "--env",
      "staging",
      "--operation",
      started.operationId,
      "--watch",
    ]);
    expect(result.code).toBe(0);
    expect(result.out.split("\n")).toEqual([
      "[+00:10] FlipDns running",
      "[+00:20] FlipDns succeeded after 10s",
      `[+00:20] failback ${started.operationId} succeeded after 20s (RTO 20s, no data loss)`,
    ]);
  });

  it("--watch with nothing running says so and exits 0", async () => {
    const server = await serve();
    const result = await cli(server, ["status", "--env", "staging", "--watch"]);
    expect(result.code).toBe(0);
    expect(result.err).toBe("No operation is running: nothing to watch.");
  });
});

describe("npm run failover / failback", () => {
  const failover = ["failover", "--env", "staging", "--mode", "planned", "--reason", "drill"];

  it("starts the operation and says how to follow it; exit 0", async () => {
    const server = await serve();
    const result = await cli(server, failover);
    expect(result.code).toBe(0);
    const [operation] = server.operations.values();
    expect(operation).toMatchObject({ kind: "failover", mode: "planned", reason: "drill" });
    const id = operation?.operationId;
    expect(result.out.split("\n")).toEqual([
      `Started failover ${id} in staging.`,
      `  status: ${server.url}/operations/${id}`,
      `  follow: npm run status -- --env staging --operation ${id} --watch`,
    ]);
  });

  it("--watch, success: a line per step change, the measured RTO, exit 0", async () => {
    const server = await serve({ steps: ["ReadTopology", "PromoteDatabase", "FlipDns"] });
    const sleeps: number[] = [];
    const result = await cli(server, [...failover, "--watch"], {
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    expect(result.code).toBe(0);
    expect(result.err).toBe("");
    const id = [...server.operations.keys()][0];
    expect(result.out.split("\n")).toEqual([
      `Started failover ${id} in staging; watching it (Ctrl-C stops the watching, not the operation).`,
      "[+00:10] ReadTopology running",
      "[+00:20] ReadTopology succeeded after 10s",
      "[+00:20] PromoteDatabase running",
      "[+00:30] PromoteDatabase succeeded after 10s",
      "[+00:30] FlipDns running",
      "[+00:40] FlipDns succeeded after 10s",
      `[+00:40] failover ${id} succeeded after 40s (RTO 40s, no data loss)`,
    ]);
    // Polled every 5 s until it ended: 4 reads, 3 waits.
    expect(sleeps).toEqual([5_000, 5_000, 5_000]);
    expect(server.requests.filter((r) => r.url.startsWith("/operations/"))).toHaveLength(4);
    expect(server.activeRegion()).toBe("secondary");
  });

  it("--watch, failure: the failed step and its error, what to do, exit 1", async () => {
    const server = await serve({ steps: ["ReadTopology", "FlipDns"], failStep: "FlipDns" });
    const result = await cli(server, [...failover, "--watch"]);
    expect(result.code).toBe(1);
    const id = [...server.operations.keys()][0];
    expect(result.out.split("\n").slice(-2)).toEqual([
      "[+00:30] FlipDns failed after 10s: FlipDnsFailed: simulated failure of FlipDns",
      `[+00:30] failover ${id} failed after 30s: FlipDns: FlipDnsFailed: simulated failure of FlipDns`,
    ]);
    expect(result.err).toBe(
      `failover ${id} failed. Every step is idempotent: fix the cause named above, then run the ` +
        "same command again.",
    );
  });

  it("--watch --json: progress on stderr, the final record as JSON on stdout", async () => {
    const server = await serve({ steps: ["FlipDns"] });
    const result = await cli(server, [...failover, "--watch", "--json"]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toMatchObject({ status: "succeeded", rtoSeconds: 20 });
    expect(result.err).toContain("[+00:10] FlipDns running");
  });

  it("409: names the running operation and how to watch it, exit 1, nothing started", async () => {
    const server = await serve({ runningOperationId: "op-20260304T050607Z-0000aa" });
    const result = await cli(server, ["failback", "--env", "staging", "--reason", "back"]);
    expect(result.code).toBe(1);
    expect(result.out).toBe("");
    expect(result.err).toContain("another operation is running: op-20260304T050607Z-0000aa.");
    expect(result.err).toContain(
      "npm run status -- --env <env> --operation op-20260304T050607Z-0000aa --watch",
    );
    expect(server.operations.size).toBe(0);
  });

  it("403: which permission is missing, exit 1", async () => {
    const server = await serve({ forbidden: "Forbidden" });
    const result = await cli(server, failover);
    expect(result.code).toBe(1);
    const [warning, message] = result.err.split("\n");
    expect(warning).toMatch(/^warning: could not confirm .*GET \/status was refused/);
    expect(message).toBe(
      "POST /failover was refused (Forbidden): your identity may not invoke this route. Its IAM " +
        "policy needs execute-api:Invoke on arn:aws:execute-api:us-west-2:<account-id>:<api-id>/" +
        "$default/POST/failover (or <api-id>/*/* for every route); `aws sts get-caller-identity` " +
        "shows which identity signed.",
    );
  });

  it("slow: --timeout bounds each request; exit 1 with the URL and the limit", async () => {
    const server = await serve({ delayMs: 3_000 });
    const started = Date.now();
    const result = await cli(server, [...failover, "--timeout", "0.2"]);
    expect(result.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(2_000);
    // The environment check timed out first (a warning), then the POST itself.
    expect(result.err.split("\n")[0]).toMatch(/^warning: could not confirm/);
    expect(result.err.split("\n")[1]).toBe(
      `POST ${server.url}/failover did not answer within 200 ms: the API or its region may be ` +
        "degraded. Try again, or raise the timeout (--timeout <seconds> on the CLI).",
    );
  });

  it("--dry-run prints the plan; exit 0 without blockers, 1 with", async () => {
    const server = await serve();
    const clear = await cli(server, [...failover, "--dry-run"]);
    expect(clear.code).toBe(0);
    expect(clear.out.split("\n")).toEqual([
      "Dry run of failover (planned) in staging: nothing was changed.",
      "  primary -> secondary; writer now in primary; replication lag 1s",
      "  health: primary healthy, secondary healthy",
      "  would:",
      "    1. switch the writer to secondary",
      "    2. point DNS at secondary",
      "  no blockers: the same command without --dry-run would start it.",
    ]);
    // GET /status first: the URL came from SHOPSMART_DR_API_URL, so its environment is checked.
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      "GET /status",
      "POST /failover",
    ]);
    expect(JSON.parse(server.requests[1]?.body ?? "")).toEqual({
      mode: "planned",
      reason: "drill",
      dryRun: true,
    });

    const blockedServer = await serve({ planBlockers: ["us-east-2 did not answer"] });
    const blocked = await cli(blockedServer, [...failover, "--dry-run"]);
    expect(blocked.code).toBe(1);
    expect(blocked.out).toContain("  blocked, it would not start:\n    - us-east-2 did not answer");
    expect(blockedServer.operations.size).toBe(0);
  });

  it("the API's 400 is shown as it names the field, exit 1", async () => {
    const server = await serve();
    const long = "x".repeat(501);
    const result = await cli(server, ["failback", "--env", "staging", "--reason", long]);
    expect(result.code).toBe(1);
    expect(result.err).toBe(
      "POST /failback was rejected: reason is 501 characters long (after trimming): shorten it " +
        "to at most 500 (field reason)",
    );
  });
});

describe("a URL given by hand is checked against --env", () => {
  const failover = ["failover", "--env", "staging", "--mode", "planned", "--reason", "drill"];

  it("another environment's API: nothing started, exit 2", async () => {
    const server = await serve({ environment: "prod" });
    const result = await cli(server, failover);
    expect(result.code).toBe(2);
    expect(result.err).toBe(
      `${server.url} (from SHOPSMART_DR_API_URL) is the operations API of environment prod, not ` +
        "staging; nothing was started. Pass the staging API's URL, or --env prod if that is the " +
        "one you mean.",
    );
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual(["GET /status"]);
    expect(server.operations.size).toBe(0);
  });

  it("status warns about it", async () => {
    const server = await serve({ environment: "prod" });
    const result = await cli(server, ["status", "--env", "staging", "--api-url", server.url]);
    expect(result.code).toBe(0);
    expect(result.err).toBe(
      `warning: ${server.url} (from --api-url) is the operations API of environment prod, not staging.`,
    );
  });

  it("when GET /status cannot answer, goes ahead with a warning (an outage must not block)", async () => {
    const calls: string[] = [];
    const api: OperationsApi = {
      status: async () => {
        calls.push("status");
        throw new OperationsApiError("timeout", "GET /status did not answer within 30 s");
      },
      failover: async (request) => {
        calls.push(`failover ${request.mode}`);
        return { dryRun: false, operationId: "op-2", statusUrl: "https://x/operations/op-2" };
      },
      failback: () => Promise.reject(new Error("not used")),
      operation: () => Promise.reject(new Error("not used")),
      appHealth: () => Promise.reject(new Error("not used")),
    };
    const result = await cli(undefined, failover, {
      environment: { SHOPSMART_DR_API_URL: "https://abc.execute-api.us-west-2.amazonaws.com" },
      createApi: () => api,
    });
    expect(result.code).toBe(0);
    expect(calls).toEqual(["status", "failover planned"]);
    expect(result.err).toBe(
      "warning: could not confirm that https://abc.execute-api.us-west-2.amazonaws.com is the API " +
        "of staging (GET /status: GET /status did not answer within 30 s); going ahead.",
    );
  });

  it("outputs of the env's own stack are not checked", async () => {
    const server = await serve({ environment: "prod" });
    const result = await cli(server, failover, {
      environment: {},
      resolveEndpoint: async () => ({ apiBaseUrl: server.url, source: "terraform output in x" }),
    });
    expect(result.code).toBe(0);
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual(["POST /failover"]);
  });
});

describe("--watch through a degraded API", () => {
  const running = (steps: OperationRecord["steps"]): OperationRecord => ({
    operationId: "op-1",
    kind: "failover",
    mode: "unplanned",
    reason: "r",
    requestedAt: "2026-01-01T00:00:00Z",
    requestedBy: "me",
    status: "running",
    steps,
  });

  /** An API whose operation() answers from `script`: a record, or an error to throw. */
  function scripted(script: (OperationRecord | OperationsApiError)[]): OperationsApi {
    const fail = () => Promise.reject(new Error("not used"));
    return {
      failover: async () => ({ dryRun: false, operationId: "op-1", statusUrl: "u" }),
      failback: fail,
      status: async () => ({ environment: "staging" }) as StatusResponse,
      appHealth: fail,
      operation: async () => {
        const next = script.shift();
        if (next === undefined) throw new Error("polled too often");
        if (next instanceof OperationsApiError) throw next;
        return next;
      },
    };
  }
  const timeout = new OperationsApiError("timeout", "GET /operations/op-1 did not answer");
  const done: OperationRecord = {
    ...running([]),
    status: "succeeded",
    finishedAt: "2026-01-01T00:05:00Z",
    rtoSeconds: 300,
    dataLossSeconds: 3,
  };
  const args = ["failover", "--env", "staging", "--mode", "unplanned", "--reason", "r", "--watch"];

  it(`rides out up to ${WATCH_TOLERATED_FAILURES} failed polls in a row`, async () => {
    const api = scripted([running([]), timeout, timeout, timeout, done]);
    const result = await cli(undefined, args, {
      environment: { SHOPSMART_DR_API_URL: "https://abc.execute-api.us-west-2.amazonaws.com" },
      createApi: () => api,
    });
    expect(result.code).toBe(0);
    expect(result.err.split("\n")).toEqual([
      "could not read op-1 (GET /operations/op-1 did not answer); trying again in 5s (1/3)",
      "could not read op-1 (GET /operations/op-1 did not answer); trying again in 5s (2/3)",
      "could not read op-1 (GET /operations/op-1 did not answer); trying again in 5s (3/3)",
    ]);
    expect(result.out).toContain(
      "failover op-1 succeeded after 5m 00s (RTO 5m 00s, data loss up to 3s)",
    );
  });

  it("gives up after that, with the last error, exit 1; a 403 stops it at once", async () => {
    const api = scripted([running([]), timeout, timeout, timeout, timeout]);
    const result = await cli(undefined, args, {
      environment: { SHOPSMART_DR_API_URL: "https://abc.execute-api.us-west-2.amazonaws.com" },
      createApi: () => api,
    });
    expect(result.code).toBe(1);
    expect(result.err.split("\n").at(-1)).toBe("GET /operations/op-1 did not answer");

    const forbidden = new OperationsApiError("forbidden", "refused");
    const stopped = await cli(undefined, args, {
      environment: { SHOPSMART_DR_API_URL: "https://abc.execute-api.us-west-2.amazonaws.com" },
      createApi: () => scripted([forbidden, done]),
    });
    expect(stopped.code).toBe(1);
    expect(stopped.err).toBe("refused");
  });
});

describe("operationProgressLines", () => {
  const base: OperationRecord = {
    operationId: "op-9",
    kind: "failback",
    mode: "planned",
    reason: "r",
    requestedAt: "2026-01-01T00:00:00.000Z",
    requestedBy: "me",
    status: "running",
    steps: [{ name: "A", status: "running", startedAt: "2026-01-01T00:00:05.000Z" }],
  };

  it("prints only what changed since the previous reading", () => {
    expect(operationProgressLines(undefined, base)).toEqual(["[+00:05] A running"]);
    expect(operationProgressLines(base, base)).toEqual([]);
    // The drill stamps lines with its own clock, and compares with the compact reading it keeps.
    expect(operationProgressLines(undefined, base, { offsets: false })).toEqual(["A running"]);
    expect(operationProgressLines(readingOf(base), base)).toEqual([]);
    const retried = {
      ...base,
      steps: [
        { ...base.steps[0], name: "A", status: "running" as const, detail: "entered 3 times" },
      ],
    };
    // Detail alone (a polling loop counting up) is not a change worth a line.
    expect(operationProgressLines(base, retried)).toEqual([]);
  });

  it("a step that started and ended between two polls appears once, ended", () => {
    const next: OperationRecord = {
      ...base,
      steps: [
        {
          name: "A",
          status: "succeeded",
          startedAt: "2026-01-01T00:00:05.000Z",
          finishedAt: "2026-01-01T00:01:10.000Z",
        },
        {
          name: "B",
          status: "succeeded",
          startedAt: "2026-01-01T00:01:10.000Z",
          finishedAt: "2026-01-01T00:01:12.000Z",
          detail: "retried 1 times, last after Throttling",
        },
      ],
    };
    expect(operationProgressLines(base, next)).toEqual([
      "[+01:10] A succeeded after 1m 05s",
      "[+01:12] B succeeded after 2s (retried 1 times, last after Throttling)",
    ]);
  });

  it("ends with one line, once; unknown times show as such", () => {
    const failed: OperationRecord = {
      ...base,
      status: "failed",
      steps: [{ name: "A", status: "failed", error: "Boom: cause" }],
      error: "A: Boom: cause",
    };
    expect(operationProgressLines(base, failed)).toEqual([
      "[  ?  ] A failed: Boom: cause",
      "[  ?  ] failback op-9 failed: A: Boom: cause",
    ]);
    expect(operationProgressLines(failed, failed)).toEqual([]);
  });
});

describe("the npm scripts (child process)", () => {
  function run(args: string[], env: Record<string, string>) {
    return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
      const child = spawn(process.execPath, [LAUNCHER, "src/cli/operations.ts", ...args], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? "", HOME: "/nonexistent", ...env },
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.on("close", (code) => done({ code, stdout, stderr }));
    });
  }

  it("sign with the default chain's environment credentials; exit 0 / 1 / 2, one-line errors", async () => {
    const server = await serve();
    const env = {
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      AWS_SESSION_TOKEN: TEST_CREDENTIALS.sessionToken,
      AWS_REGION: TEST_REGION,
      SHOPSMART_DR_API_URL: server.url,
    };
    const [ok, conflict, usage] = await Promise.all([
      run(["status", "--env", "staging"], env),
      run(["failover", "--env", "staging", "--reason", "x", "--mode", "planned"], {
        ...env,
        // The wrong secret: the server refuses the signature.
        AWS_SECRET_ACCESS_KEY: "not/the/secret",
      }),
      run(["failback", "--env", "staging"], env),
    ]);
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("staging: active region primary (us-east-2)");

    expect(conflict.code).toBe(1);
    expect(conflict.stdout).toBe("");
    // The environment check's warning, then the POST's refusal: a line each.
    const lines = conflict.stderr.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^warning: could not confirm/);
    expect(lines[1]).toMatch(/^POST \/failover was refused \(The request signature/);
    expect(conflict.stderr).toContain("the credentials used to sign are wrong or expired");
    expect(conflict.stderr).not.toMatch(/\n\s+at /);

    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^--reason is required/);
    expect(server.requests.map((r) => r.signature)).toEqual(
      expect.arrayContaining(["valid", { invalid: "signature mismatch" }]),
    );
  });

  it("no credentials anywhere: says how to provide them, exit 1", async () => {
    const server = await serve();
    const result = await run(["status", "--env", "staging"], {
      AWS_REGION: TEST_REGION,
      SHOPSMART_DR_API_URL: server.url,
      AWS_CONFIG_FILE: "/nonexistent/config",
      AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials",
      // No instance metadata on loopback tests: fail fast instead of probing 169.254.169.254.
      AWS_EC2_METADATA_DISABLED: "true",
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^no AWS credentials to sign the request with \(/);
    expect(result.stderr).toContain("AWS_PROFILE=<profile>");
    expect(server.requests).toEqual([]);
  });
});
