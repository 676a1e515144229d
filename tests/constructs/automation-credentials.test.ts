/**
 * The bundles leave the SDK's later credential providers out (EXTERNAL_CREDENTIAL_PROVIDERS in
 * src/constructs/automation/bundling.ts). These tests pin why that is safe:
 * - in the SDK source, those packages are reached only through dynamic imports made by the
 *   default chain's links after the environment provider;
 * - a bundled client created with default configuration signs its request with the environment
 *   credentials and loads no SDK module from outside the bundle (run where no node_modules exist);
 * - if a later link were ever reached, its provider resolves through NODE_PATH (Lambda puts its
 *   own SDK there; here the project's node_modules stand in for it) and works.
 */
import { spawn } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { buildSync, type Metafile } from "esbuild";
import { unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BUNDLE_FILE,
  BUNDLE_OPTIONS,
  bundleFunctions,
  clearProcessCache,
  EXTERNAL_CREDENTIAL_PROVIDERS,
  PROJECT_ROOT,
} from "../../src/constructs/automation/bundling";
import { FUNCTION_NAMES, handlerEntry } from "../../src/constructs/automation/functions";

/** Packages only the external providers import: they must not be in any bundle either. */
const ONLY_BEHIND_EXTERNALS = [
  "@aws-sdk/nested-clients",
  "@aws-sdk/token-providers",
  "@aws-sdk/credential-provider-login",
];

const ACCESS_KEY_ID = "AKIDENVIRONMENT0001";
const SECRET_ACCESS_KEY = "environment/secret/key/for/the/test/0001";
const SESSION_TOKEN = "session-token-from-the-execution-role";
const REGION = "us-west-2";

/** Outside the project: no node_modules on the way up, so the bundle has only itself. */
const scratch = mkdtempSync(join(tmpdir(), "shopsmart-credentials-test-"));
/** Entries must sit inside the project (the bundler resolves from there). */
const projectScratch = mkdtempSync(join(PROJECT_ROOT, ".tmp-credentials-test-"));
let bundlePath: string;

/** A named profile with static keys in a shared credentials file of its own. */
const PROFILE_ENVIRONMENT = {
  AWS_PROFILE: "drill",
  AWS_SHARED_CREDENTIALS_FILE: join(scratch, "aws", "credentials"),
  AWS_CONFIG_FILE: join(scratch, "aws", "config"),
};

beforeAll(() => {
  // A handler like the real ones: the client comes from functions/shared/aws-clients (`{}`).
  const entry = join(projectScratch, "entry.ts");
  const clients = relative(projectScratch, join(PROJECT_ROOT, "functions/shared/aws-clients"));
  writeFileSync(
    entry,
    [
      'import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";',
      `import { awsClient } from "${clients.split("\\").join("/")}";`,
      "const ssm = awsClient(SSMClient);",
      "export async function handler(event: { name: string }): Promise<string | null> {",
      "  const output = await ssm.send(new GetParameterCommand({ Name: event.name }));",
      "  return output.Parameter?.Value ?? null;",
      "}",
      "",
    ].join("\n"),
  );
  clearProcessCache();
  const { credentials } = bundleFunctions(
    { credentials: relative(PROJECT_ROOT, entry) },
    { cacheDir: false },
  );
  mkdirSync(join(scratch, "aws"));
  writeFileSync(
    PROFILE_ENVIRONMENT.AWS_SHARED_CREDENTIALS_FILE,
    "[drill]\naws_access_key_id = AKIDPROFILE00000001\naws_secret_access_key = profile/secret/0001\n",
  );
  writeFileSync(PROFILE_ENVIRONMENT.AWS_CONFIG_FILE, "[profile drill]\n");

  const files = unzipSync(readFileSync(credentials.zipPath));
  const dir = join(scratch, "task");
  mkdirSync(dir);
  bundlePath = join(dir, BUNDLE_FILE);
  writeFileSync(bundlePath, files[BUNDLE_FILE] as Uint8Array);
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  rmSync(projectScratch, { recursive: true, force: true });
});

interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An SSM endpoint on loopback that answers every GetParameter. */
function ssmEndpoint(): Promise<{ server: Server; url: string; requests: RecordedRequest[] }> {
  const requests: RecordedRequest[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      requests.push({
        method: request.method ?? "",
        url: request.url ?? "",
        headers: request.headers,
        body,
      });
      const name = (JSON.parse(body || "{}") as { Name?: string }).Name ?? "";
      response.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
      response.end(
        JSON.stringify({
          Parameter: { Name: name, Type: "String", Value: "writer.example.internal", Version: 1 },
        }),
      );
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, url: `http://127.0.0.1:${port}`, requests });
    });
  });
}

/**
 * Requires the bundle in a fresh Node process with only `env`, calls its handler once and
 * reports the result and every module id required (through Module.prototype.require).
 */
function runBundle(
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = `
    const Module = require("node:module");
    const required = [];
    const original = Module.prototype.require;
    Module.prototype.require = function (id) { required.push(id); return original.apply(this, arguments); };
    require(process.env.BUNDLE).handler({ name: "/shopsmart/test/db/writer-endpoint" }).then(
      (value) => process.stdout.write(JSON.stringify({ value, required })),
      (error) => { process.stderr.write(String(error && error.stack || error)); process.exit(1); },
    );`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", script], {
      cwd: scratch,
      env: { PATH: process.env.PATH ?? "", HOME: scratch, BUNDLE: bundlePath, ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const sha256Hex = (data: string) => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string) =>
  createHmac("sha256", key).update(data).digest();

/**
 * Signature Version 4 of a received request, computed here from its signed headers and body with
 * the given secret: equal to the request's own signature only if it was signed with that secret.
 */
function sigV4Signature(request: RecordedRequest, secretAccessKey: string): string {
  const authorization = String(request.headers.authorization);
  const scope = /Credential=[^/]+\/([^,]+),/.exec(authorization)?.[1] ?? "";
  const signedHeaders = (/SignedHeaders=([^,]+),/.exec(authorization)?.[1] ?? "").split(";");
  const [date, region, service] = scope.split("/") as [string, string, string];
  const [path, query = ""] = request.url.split("?");
  const canonicalQuery = query.split("&").filter(Boolean).sort().join("&");
  const canonicalHeaders = signedHeaders
    .map((name) => `${name}:${String(request.headers[name]).trim().replace(/\s+/g, " ")}\n`)
    .join("");
  const canonicalRequest = [
    request.method,
    path,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders.join(";"),
    sha256Hex(request.body),
  ].join("\n");
  const stringToSign = [
    "AWS4-HMAC-SHA256",
    String(request.headers["x-amz-date"]),
    scope,
    sha256Hex(canonicalRequest),
  ].join("\n");
  const signingKey = hmac(
    hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), service),
    "aws4_request",
  );
  return createHmac("sha256", signingKey).update(stringToSign).digest("hex");
}

function signatureOf(request: RecordedRequest): string {
  return /Signature=([0-9a-f]{64})$/.exec(String(request.headers.authorization))?.[1] ?? "";
}

describe("bundled SDK clients and the default credential chain", () => {
  it("sign with the environment credentials Lambda sets, loading nothing from outside the bundle", async () => {
    const endpoint = await ssmEndpoint();
    try {
      const result = await runBundle({
        AWS_REGION: REGION,
        AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
        AWS_SESSION_TOKEN: SESSION_TOKEN,
        AWS_ENDPOINT_URL: endpoint.url,
      });
      expect(result.stderr.includes("Error"), result.stderr).toBe(false);
      expect(result.code).toBe(0);
      const { value, required } = JSON.parse(result.stdout) as {
        value: string;
        required: string[];
      };
      expect(value).toBe("writer.example.internal");
      // The bundle itself, then only Node built-ins: no SDK package from outside the bundle.
      expect(required[0]).toBe(bundlePath);
      expect(required.slice(1).filter((id) => !id.startsWith("node:"))).toEqual([]);

      expect(endpoint.requests).toHaveLength(1);
      const [request] = endpoint.requests as [RecordedRequest];
      expect(request.method).toBe("POST");
      expect(request.headers["x-amz-target"]).toBe("AmazonSSM.GetParameter");
      expect(JSON.parse(request.body)).toEqual({ Name: "/shopsmart/test/db/writer-endpoint" });
      expect(String(request.headers.authorization)).toMatch(
        new RegExp(
          `^AWS4-HMAC-SHA256 Credential=${ACCESS_KEY_ID}/\\d{8}/${REGION}/ssm/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$`,
        ),
      );
      expect(request.headers["x-amz-security-token"]).toBe(SESSION_TOKEN);
      expect(signatureOf(request)).toBe(sigV4Signature(request, SECRET_ACCESS_KEY));
      expect(signatureOf(request)).not.toBe(sigV4Signature(request, "some other secret"));
    } finally {
      endpoint.server.close();
    }
  });

  it("reach a left-out provider through NODE_PATH when the chain gets past the environment", async () => {
    // AWS_PROFILE makes the chain skip the environment provider and load the profile through
    // @aws-sdk/credential-provider-ini: require()d from NODE_PATH, as Lambda's own SDK would be.
    const endpoint = await ssmEndpoint();
    try {
      const result = await runBundle({
        AWS_REGION: REGION,
        ...PROFILE_ENVIRONMENT,
        AWS_ENDPOINT_URL: endpoint.url,
        NODE_PATH: join(PROJECT_ROOT, "node_modules"),
      });
      expect(result.code, result.stderr).toBe(0);
      const { value, required } = JSON.parse(result.stdout) as {
        value: string;
        required: string[];
      };
      expect(value).toBe("writer.example.internal");
      expect(required).toContain("@aws-sdk/credential-provider-ini");
      const [request] = endpoint.requests as [RecordedRequest];
      expect(String(request.headers.authorization)).toContain(`Credential=AKIDPROFILE00000001/`);
      expect(signatureOf(request)).toBe(sigV4Signature(request, "profile/secret/0001"));
    } finally {
      endpoint.server.close();
    }
  });
  it("really are left out: without NODE_PATH the profile provider is not found", async () => {
    const endpoint = await ssmEndpoint();
    try {
      const result = await runBundle({
        AWS_REGION: REGION,
        ...PROFILE_ENVIRONMENT,
        AWS_ENDPOINT_URL: endpoint.url,
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("Cannot find module '@aws-sdk/credential-provider-ini'");
      expect(endpoint.requests).toHaveLength(0);
    } finally {
      endpoint.server.close();
    }
  });
});

describe("the left-out providers", () => {
  const entryPoints = Object.fromEntries(
    FUNCTION_NAMES.map((name) => [`${name}/index`, handlerEntry(name)]),
  );
  const result = buildSync({ ...BUNDLE_OPTIONS, entryPoints });
  const metafile = result.metafile as Metafile;

  it("are the bundle options' only externals besides Node built-ins", () => {
    expect(BUNDLE_OPTIONS.external).toEqual([...EXTERNAL_CREDENTIAL_PROVIDERS]);
  });

  it("are imported only dynamically, by the default chain's links in credential-provider-node", () => {
    const edges: string[] = [];
    for (const [importer, input] of Object.entries(metafile.inputs)) {
      for (const imported of input.imports) {
        if ((EXTERNAL_CREDENTIAL_PROVIDERS as readonly string[]).includes(imported.path)) {
          const from = /node_modules\/(@[^/]+\/[^/]+)\//.exec(importer)?.[1] ?? importer;
          edges.push(`${from} -> ${imported.path} (${imported.kind})`);
          expect(imported.external).toBe(true);
        }
      }
    }
    expect([...new Set(edges)].sort()).toEqual(
      EXTERNAL_CREDENTIAL_PROVIDERS.map(
        (name) => `@aws-sdk/credential-provider-node -> ${name} (dynamic-import)`,
      ).sort(),
    );
  });

  it("and the packages behind them are in no bundle, while the environment provider is in every one that has an AWS client", () => {
    // plan-operation is pure (it builds the plan from the readings it is given): no client at all.
    for (const name of FUNCTION_NAMES.filter((fn) => fn !== "plan-operation")) {
      const output = metafile.outputs[`.lambda-bundles/${name}/index.js`];
      expect(output, name).toBeDefined();
      const packages = new Set(
        Object.keys(output?.inputs ?? {}).map(
          (input) => /^node_modules\/(@[^/]+\/[^/]+)\//.exec(input)?.[1] ?? "",
        ),
      );
      for (const left of [...EXTERNAL_CREDENTIAL_PROVIDERS, ...ONLY_BEHIND_EXTERNALS]) {
        expect(packages.has(left), `${name} bundles ${left}`).toBe(false);
      }
      expect(packages.has("@aws-sdk/credential-provider-env"), name).toBe(true);
      expect(packages.has("@aws-sdk/credential-provider-node"), name).toBe(true);
    }
  });

  it("are loaded with require(), which follows NODE_PATH, not import(), which does not", () => {
    const code = new TextDecoder().decode(
      result.outputFiles?.find((file) => file.path.endsWith("/check-writer/index.js"))?.contents,
    );
    for (const name of EXTERNAL_CREDENTIAL_PROVIDERS) {
      expect(code).toContain(`require("${name}")`);
      expect(code).not.toContain(`import("${name}")`);
    }
  });
});
