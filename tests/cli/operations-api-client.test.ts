import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildSync, type Metafile } from "esbuild";
import { afterEach, describe, expect, it } from "vitest";
import { OperationsApiError } from "../../functions/shared/operations-api";
import {
  createOperationsApiClient,
  type OperationsApiClientOptions,
  regionOfApiHost,
} from "../../functions/shared/operations-api-client";
import {
  BUNDLE_OPTIONS,
  EXTERNAL_CREDENTIAL_PROVIDERS,
} from "../../src/constructs/automation/bundling";
import {
  type OperationsServer,
  type OperationsServerOptions,
  SIGNATURE_MISMATCH_MESSAGE,
  sigV4Problem,
  startOperationsServer,
  TEST_CREDENTIALS,
  TEST_REGION,
} from "../support/sigv4-server";

/**
 * The SigV4 client against the loopback operations API, which recomputes every signature with
 * node:crypto and refuses a wrong one: what is signed and how, and which error (kind and message)
 * each way a call can fail turns into.
 */

const servers: OperationsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(options: OperationsServerOptions = {}): Promise<OperationsServer> {
  const server = await startOperationsServer(options);
  servers.push(server);
  return server;
}

const staticCredentials =
  (credentials = TEST_CREDENTIALS) =>
  async () =>
    credentials;

function clientFor(server: OperationsServer, options: Partial<OperationsApiClientOptions> = {}) {
  return createOperationsApiClient({
    apiBaseUrl: server.url,
    appUrl: server.url,
    region: TEST_REGION,
    credentials: staticCredentials(),
    ...options,
  });
}

/** The OperationsApiError a promise rejects with. */
async function apiError(promise: Promise<unknown>): Promise<OperationsApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OperationsApiError);
  return error as OperationsApiError;
}

describe("signing", () => {
  it("signs every route for execute-api in the API's region, with the session token", async () => {
    const server = await serve();
    const api = clientFor(server);
    const started = await api.failover({ mode: "planned", reason: "quarterly drill" });
    expect(started.dryRun).toBe(false);
    if (started.dryRun) return;
    await api.operation(started.operationId);
    await api.status();
    await api.failback({ reason: "dry", dryRun: true });

    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      "POST /failover",
      `GET /operations/${started.operationId}`,
      "GET /status",
      "POST /failback",
    ]);
    for (const request of server.requests) {
      expect(request.signature).toBe("valid");
      expect(request.headers.authorization).toMatch(
        new RegExp(
          `^AWS4-HMAC-SHA256 Credential=${TEST_CREDENTIALS.accessKeyId}/\\d{8}/${TEST_REGION}/execute-api/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$`,
        ),
      );
      expect(request.headers["x-amz-security-token"]).toBe(TEST_CREDENTIALS.sessionToken);
    }
    expect(JSON.parse(server.requests[0]?.body ?? "")).toEqual({
      mode: "planned",
      reason: "quarterly drill",
    });
    expect(server.requests[0]?.headers["content-type"]).toBe("application/json");
  });

  it("the server's check fails for another secret, region, body or path (it can fail)", async () => {
    const server = await serve();
    await clientFor(server).failover({ mode: "planned", reason: "x", dryRun: true });
    const [request] = server.requests;
    if (request === undefined) throw new Error("no request recorded");
    const expected = { credentials: TEST_CREDENTIALS, region: TEST_REGION, service: "execute-api" };
    expect(sigV4Problem(request, expected)).toBeUndefined();
    expect(
      sigV4Problem(request, {
        ...expected,
        credentials: { ...TEST_CREDENTIALS, secretAccessKey: "another secret" },
      }),
    ).toBe("signature mismatch");
    expect(sigV4Problem(request, { ...expected, region: "us-east-2" })).toBe(
      "signed for region us-west-2, not us-east-2",
    );
    expect(sigV4Problem(request, { ...expected, service: "lambda" })).toBe(
      "signed for service execute-api, not lambda",
    );
    const tamperedBody = request.body.replace('"x"', '"y"');
    expect(sigV4Problem({ ...request, body: tamperedBody }, expected)).toBe(
      "X-Amz-Content-Sha256 does not match the body",
    );
    const { "x-amz-content-sha256": _hash, ...withoutHash } = request.headers;
    expect(sigV4Problem({ ...request, headers: withoutHash, body: tamperedBody }, expected)).toBe(
      "signature mismatch",
    );
    expect(sigV4Problem({ ...request, url: "/failback" }, expected)).toBe("signature mismatch");
    expect(sigV4Problem(request, { ...expected, now: new Date(Date.now() + 3_600_000) })).toMatch(
      /too far from the server's clock$/,
    );
  });

  it("a request signed with the wrong secret is refused with 403, as forbidden", async () => {
    const server = await serve();
    const api = clientFor(server, {
      credentials: staticCredentials({ ...TEST_CREDENTIALS, secretAccessKey: "wrong/secret" }),
    });
    const error = await apiError(api.status());
    expect(error.kind).toBe("forbidden");
    expect(error.statusCode).toBe(403);
    expect(error.message).toContain(SIGNATURE_MISMATCH_MESSAGE);
    expect(error.message).toContain("the credentials used to sign are wrong or expired");
    expect(error.message).toContain("aws sso login");
    expect(server.requests[0]?.signature).toEqual({ invalid: "signature mismatch" });
  });

  it("signs for the region in an execute-api host name when none is given", async () => {
    expect(regionOfApiHost("abc123.execute-api.eu-central-1.amazonaws.com")).toBe("eu-central-1");
    expect(regionOfApiHost("abc123.execute-api.cn-north-1.amazonaws.com.cn")).toBe("cn-north-1");
    expect(regionOfApiHost("api.example.com")).toBeUndefined();
    expect(regionOfApiHost("127.0.0.1")).toBeUndefined();

    // A loopback host has no region in it: AWS_REGION, and without it, a clear error.
    const server = await serve();
    const previous = process.env.AWS_REGION;
    try {
      process.env.AWS_REGION = TEST_REGION;
      const api = clientFor(server, { region: undefined });
      await expect(api.status()).resolves.toMatchObject({ environment: "staging" });
      delete process.env.AWS_REGION;
      const error = await apiError(api.status());
      expect(error.kind).toBe("unexpected");
      expect(error.message).toContain("Set AWS_REGION to the API's region");
    } finally {
      if (previous === undefined) delete process.env.AWS_REGION;
      else process.env.AWS_REGION = previous;
    }
  });

  it("missing credentials: says how to provide them, sends nothing", async () => {
    const server = await serve();
    const api = clientFor(server, {
      credentials: async () => {
        throw new Error("Could not load credentials from any providers");
      },
    });
    const error = await apiError(api.status());
    expect(error.kind).toBe("credentials");
    expect(error.message).toBe(
      "no AWS credentials to sign the request with (Could not load credentials from any " +
        "providers). Provide them in one of the ways the AWS CLI accepts: " +
        "AWS_PROFILE=<profile> (after `aws sso login --profile <profile>` for an SSO profile), " +
        "or AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN in the environment. " +
        "`aws sts get-caller-identity` shows whether any work.",
    );
    expect(server.requests).toEqual([]);
  });

  it("uses the SDK's default chain when no credentials are given (environment variables)", async () => {
    const server = await serve();
    const saved = { ...process.env };
    try {
      process.env.AWS_ACCESS_KEY_ID = TEST_CREDENTIALS.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = TEST_CREDENTIALS.secretAccessKey;
      process.env.AWS_SESSION_TOKEN = TEST_CREDENTIALS.sessionToken;
      const api = createOperationsApiClient({ apiBaseUrl: server.url, region: TEST_REGION });
      await expect(api.status()).resolves.toMatchObject({ activeRegion: "primary" });
      expect(server.requests[0]?.signature).toBe("valid");
    } finally {
      for (const key of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  });
});

describe("the operation lifecycle", () => {
  it("success: 202, the steps as they run, then succeeded with RTO; status follows", async () => {
    const server = await serve({ steps: ["ReadTopology", "PromoteDatabase", "FlipDns"] });
    const api = clientFor(server);
    const started = await api.failover({ mode: "planned", reason: "drill" });
    if (started.dryRun) throw new Error("expected a started operation");
    expect(started.operationId).toMatch(/^op-20260304T050607Z-[0-9a-f]{6}$/);
    expect(started.statusUrl).toBe(`${server.url}/operations/${started.operationId}`);

    const seen: string[] = [];
    for (let poll = 0; poll < 10; poll++) {
      const record = await api.operation(started.operationId);
      seen.push(`${record.status}:${record.steps.map((s) => `${s.name}=${s.status}`).join(",")}`);
      if (record.status !== "running") {
        expect(record).toMatchObject({ status: "succeeded", rtoSeconds: 40, dataLossSeconds: 0 });
        break;
      }
    }
    expect(seen).toEqual([
      "running:ReadTopology=running",
      "running:ReadTopology=succeeded,PromoteDatabase=running",
      "running:ReadTopology=succeeded,PromoteDatabase=succeeded,FlipDns=running",
      "succeeded:ReadTopology=succeeded,PromoteDatabase=succeeded,FlipDns=succeeded",
    ]);
    const status = await api.status();
    expect(status.activeRegion).toBe("secondary");
    expect(status.latestOperation?.operationId).toBe(started.operationId);
    await expect(api.appHealth()).resolves.toEqual({
      statusCode: 200,
      region: "us-west-2",
      role: "secondary",
      database: "reachable",
      writer: "here",
      writable: true,
    });
  });

  it("failure: the failed step carries its error, the operation fails, the region stays", async () => {
    const server = await serve({ steps: ["ReadTopology", "FlipDns"], failStep: "FlipDns" });
    const api = clientFor(server);
    const started = await api.failover({ mode: "unplanned", reason: "region down" });
    if (started.dryRun) throw new Error("expected a started operation");
    let record = await api.operation(started.operationId);
    while (record.status === "running") record = await api.operation(started.operationId);
    expect(record.status).toBe("failed");
    expect(record.steps.at(-1)).toMatchObject({
      name: "FlipDns",
      status: "failed",
      error: "FlipDnsFailed: simulated failure of FlipDns",
    });
    expect((await api.status()).activeRegion).toBe("primary");
  });

  it("409 names the running operation and how to watch it", async () => {
    const server = await serve({ runningOperationId: "op-20260304T050607Z-00abcd" });
    const error = await apiError(clientFor(server).failback({ reason: "back" }));
    expect(error.kind).toBe("conflict");
    expect(error.statusCode).toBe(409);
    expect(error.operationId).toBe("op-20260304T050607Z-00abcd");
    expect(error.message).toBe(
      "another operation is running: op-20260304T050607Z-00abcd. Only one runs at a time; watch " +
        "it with `npm run status -- --env <env> --operation op-20260304T050607Z-00abcd --watch` " +
        "(or GET /operations/op-20260304T050607Z-00abcd) and try again once it has finished.",
    );
  });

  it("a second trigger while the first runs gets 409", async () => {
    const server = await serve();
    const api = clientFor(server);
    const first = await api.failover({ mode: "planned", reason: "one" });
    if (first.dryRun) throw new Error("expected a started operation");
    const error = await apiError(api.failover({ mode: "planned", reason: "two" }));
    expect(error.operationId).toBe(first.operationId);
  });

  it("dry run: the plan, nothing started", async () => {
    const server = await serve({ planBlockers: ["the primary region is unreachable"] });
    const answer = await clientFor(server).failover({
      mode: "planned",
      reason: "check",
      dryRun: true,
    });
    expect(answer.dryRun).toBe(true);
    if (!answer.dryRun) return;
    expect(answer.plan).toMatchObject({ kind: "failover", target: "secondary" });
    expect(answer.plan.blockers).toEqual(["the primary region is unreachable"]);
    expect(server.operations.size).toBe(0);
  });

  it("400 carries the server's message and the field", async () => {
    const server = await serve();
    const error = await apiError(clientFor(server).failover({ mode: "planned", reason: "   " }));
    expect(error.kind).toBe("bad-request");
    expect(error.field).toBe("reason");
    expect(error.message).toBe(
      "POST /failover was rejected: reason is blank: say why, in 1 to 500 characters (field reason)",
    );
  });

  it("403 from IAM names the action and the route's ARN", async () => {
    const server = await serve({
      forbidden:
        "User: arn:aws:sts::123456789012:assumed-role/dev/me is not authorized to perform: " +
        "execute-api:Invoke on resource: arn:aws:execute-api:us-west-2:***:abc/$default/POST/failover",
    });
    const error = await apiError(clientFor(server).failover({ mode: "planned", reason: "x" }));
    expect(error.kind).toBe("forbidden");
    expect(error.message).toContain("your identity may not invoke this route");
    expect(error.message).toContain(
      "needs execute-api:Invoke on arn:aws:execute-api:us-west-2:<account-id>:<api-id>/$default/POST/failover",
    );
    const operation = await apiError(clientFor(server).operation("op-1"));
    expect(operation.message).toContain("$default/GET/operations/*");
  });

  it("an unsigned request gets API Gateway's bare 403", async () => {
    const server = await serve();
    const response = await fetch(`${server.url}/status`);
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ message: "Forbidden" });
  });

  it("404 for an unknown operation", async () => {
    const server = await serve();
    const error = await apiError(clientFor(server).operation("op-missing"));
    expect(error.kind).toBe("not-found");
    expect(error.message).toContain("no operation op-missing");
  });

  it("slow: a timeout names the request and the limit", async () => {
    const server = await serve({ delayMs: 2_000 });
    const error = await apiError(clientFor(server, { requestTimeoutMs: 150 }).status());
    expect(error.kind).toBe("timeout");
    expect(error.message).toBe(
      `GET ${server.url}/status did not answer within 150 ms: the API or its region may be ` +
        "degraded. Try again, or raise the timeout (--timeout <seconds> on the CLI).",
    );
  });

  it("slow but within the timeout: answered", async () => {
    const server = await serve({ delayMs: 100 });
    await expect(clientFor(server, { requestTimeoutMs: 5_000 }).status()).resolves.toMatchObject({
      environment: "staging",
    });
  });
});

describe("other failures", () => {
  /** A server that answers every request with `status` and `body` as given. */
  async function answering(status: number, body: string) {
    const http = createServer((_request, response) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(body);
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    servers.push({
      url,
      requests: [],
      operations: new Map(),
      activeRegion: () => "primary",
      close: () => new Promise((resolve) => http.close(() => resolve())),
    });
    return createOperationsApiClient({
      apiBaseUrl: url,
      appUrl: url,
      region: TEST_REGION,
      credentials: staticCredentials(),
    });
  }

  it("5xx: server, with the handler's message and where to look", async () => {
    const api = await answering(502, '{"error":"read-topology failed: Timeout"}');
    const error = await apiError(api.status());
    expect(error).toMatchObject({ kind: "server", statusCode: 502 });
    expect(error.message).toBe(
      "GET /status failed on the server (HTTP 502): read-topology failed: Timeout. The " +
        "operations-api function's log group in the secondary region has the details; retry " +
        "once the cause is fixed.",
    );
  });

  it("a 2xx that is not JSON: unexpected", async () => {
    const api = await answering(200, "<html>hello</html>");
    const error = await apiError(api.status());
    expect(error.kind).toBe("unexpected");
    expect(error.message).toContain("is not a JSON object");
  });

  it("nothing listening: network, naming the host", async () => {
    const http = createServer();
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const port = (http.address() as AddressInfo).port;
    await new Promise((resolve) => http.close(resolve));
    const api = createOperationsApiClient({
      apiBaseUrl: `http://127.0.0.1:${port}`,
      appUrl: `http://127.0.0.1:${port}`,
      region: TEST_REGION,
      credentials: staticCredentials(),
    });
    const error = await apiError(api.status());
    expect(error.kind).toBe("network");
    expect(error.message).toContain(`cannot reach 127.0.0.1:${port} (ECONNREFUSED)`);
    const health = await apiError(api.appHealth());
    expect(health.kind).toBe("network");
    expect(health.message).toContain("(ECONNREFUSED)");
  });

  it("appHealth returns a non-2xx answer instead of throwing, and needs no signature", async () => {
    const api = await answering(503, '{"status":"degraded","region":"us-east-2","role":"primary"}');
    await expect(api.appHealth()).resolves.toEqual({
      statusCode: 503,
      region: "us-east-2",
      role: "primary",
    });
    const server = await serve();
    await clientFor(server, {
      credentials: async () => Promise.reject(new Error("none")),
    }).appHealth();
    expect(server.requests.map((r) => [r.url, r.signature])).toEqual([["/health", "unsigned"]]);
  });

  it("appHealth of an app that never answers: timeout", async () => {
    const http = createServer(() => {
      // never answers
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    try {
      const api = createOperationsApiClient({
        apiBaseUrl: url,
        appUrl: url,
        requestTimeoutMs: 100,
      });
      const error = await apiError(api.appHealth());
      expect(error.kind).toBe("timeout");
      expect(error.message).toContain(`GET ${url}/health did not answer within 100 ms`);
    } finally {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    }
  });

  it("a base URL that is not a URL: says what it should look like", async () => {
    const api = createOperationsApiClient({ apiBaseUrl: "abc.execute-api", region: TEST_REGION });
    const error = await apiError(api.status());
    expect(error.message).toContain("is not an absolute URL");
  });
});

describe("bundled as in the drill Lambda", () => {
  it("signs with the environment credentials, loading nothing from outside the bundle", async () => {
    // The Lambda bundle settings, this module as the entry; run where no node_modules exist.
    const outdir = mkdtempSync(join(tmpdir(), "shopsmart-client-bundle-"));
    try {
      const result = buildSync({
        ...BUNDLE_OPTIONS,
        entryPoints: { index: "functions/shared/operations-api-client.ts" },
        sourcemap: false,
      });
      const bundle = result.outputFiles?.find((file) => file.path.endsWith("index.js"));
      if (bundle === undefined) throw new Error("esbuild wrote no index.js");
      // Lean: the signer, SHA-256 and the environment link of the chain, well under 100 KB.
      expect(bundle.contents.byteLength).toBeLessThan(100_000);
      const inputs = Object.keys((result.metafile as Metafile).inputs);
      for (const external of EXTERNAL_CREDENTIAL_PROVIDERS) {
        expect(inputs.some((input) => input.includes(`node_modules/${external}/`))).toBe(false);
      }
      const bundlePath = join(outdir, "index.js");
      writeFileSync(bundlePath, bundle.contents);

      const server = await serve();
      const script = `
        const Module = require("node:module");
        const required = [];
        const original = Module.prototype.require;
        Module.prototype.require = function (id) { required.push(id); return original.apply(this, arguments); };
        const { createOperationsApiClient } = require(process.env.BUNDLE);
        createOperationsApiClient({ apiBaseUrl: process.env.API }).status().then(
          (status) => process.stdout.write(JSON.stringify({ environment: status.environment, required })),
          (error) => { process.stderr.write(String(error && error.stack || error)); process.exit(1); },
        );`;
      // Not spawnSync: the server answering it runs on this process's event loop.
      const child = await new Promise<{ status: number | null; stdout: string; stderr: string }>(
        (done) => {
          const running = spawn(process.execPath, ["-e", script], {
            cwd: outdir,
            env: {
              PATH: process.env.PATH ?? "",
              HOME: outdir,
              BUNDLE: bundlePath,
              API: server.url,
              AWS_REGION: TEST_REGION,
              AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
              AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
              AWS_SESSION_TOKEN: TEST_CREDENTIALS.sessionToken,
            },
          });
          let stdout = "";
          let stderr = "";
          running.stdout.on("data", (chunk: Buffer) => {
            stdout += chunk.toString();
          });
          running.stderr.on("data", (chunk: Buffer) => {
            stderr += chunk.toString();
          });
          running.on("close", (status) => done({ status, stdout, stderr }));
        },
      );
      expect(child.stderr).toBe("");
      expect(child.status).toBe(0);
      const { environment, required } = JSON.parse(child.stdout) as {
        environment: string;
        required: string[];
      };
      expect(environment).toBe("staging");
      expect(required[0]).toBe(bundlePath);
      expect(required.slice(1).filter((id) => !id.startsWith("node:"))).toEqual([]);
      expect(server.requests.map((r) => r.signature)).toEqual(["valid"]);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
