import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  apiBaseUrlOf,
  countStateResources,
  parseStateResourceCount,
  parseTerraformOutputs,
  resolveOperationsEndpoint,
} from "../../src/cli/operations-api-endpoint";
import { UserInputError } from "../../src/errors";
import { AVAILABLE_LINE, UNKNOWN_ENVIRONMENT } from "../support/shipped-environments";

/**
 * Where the CLIs find the operations API: --api-url, then SHOPSMART_DR_API_URL, then the stack's
 * Terraform outputs; and the message for each way that can fail (unknown env, no terraform, stack
 * not synthesized or not initialized, terraform failing, not deployed). Terraform is a fake on
 * PATH that prints canned outputs.
 */

const ROOT = resolve(__dirname, "../..");
const API = "https://a1b2c3.execute-api.us-west-2.amazonaws.com";
const scratch = mkdtempSync(join(tmpdir(), "shopsmart-endpoint-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function failure(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UserInputError);
  return (error as Error).message;
}

describe("the URL from a flag or the environment", () => {
  it("--api-url wins over SHOPSMART_DR_API_URL, which wins over the outputs", async () => {
    const never = () => Promise.reject(new Error("outputs must not be read"));
    await expect(
      resolveOperationsEndpoint({
        env: "staging",
        apiUrl: `${API}/`,
        environment: { SHOPSMART_DR_API_URL: "https://other.example" },
        readOutputs: never,
      }),
    ).resolves.toEqual({ apiBaseUrl: API, healthPath: "/health", source: "--api-url" });
    await expect(
      resolveOperationsEndpoint({
        env: "staging",
        environment: {
          SHOPSMART_DR_API_URL: `${API}/status`,
          SHOPSMART_DR_APP_URL: "https://shop.example.com/",
        },
        readOutputs: never,
      }),
    ).resolves.toEqual({
      apiBaseUrl: API,
      appUrl: "https://shop.example.com/",
      healthPath: "/health",
      source: "SHOPSMART_DR_API_URL",
    });
  });

  it("accepts a route URL the stack prints and strips it back to the API", () => {
    expect(apiBaseUrlOf("--api-url", `${API}/failover`)).toBe(API);
    expect(apiBaseUrlOf("--api-url", `${API}/failback/`)).toBe(API);
    expect(apiBaseUrlOf("--api-url", "http://127.0.0.1:8080")).toBe("http://127.0.0.1:8080");
  });

  it("rejects what is not an http(s) URL, saying what is expected", () => {
    expect(() => apiBaseUrlOf("--api-url", "a1b2c3.execute-api")).toThrow(
      '--api-url: got "a1b2c3.execute-api"; expected the operations API\'s URL, e.g. ' +
        "https://<api-id>.execute-api.<region>.amazonaws.com",
    );
    expect(() => apiBaseUrlOf("--api-url", "ftp://x")).toThrow(UserInputError);
    expect(() => apiBaseUrlOf("--api-url", `${API}/status?x=1`)).toThrow(
      "without a query or fragment",
    );
  });

  it("an unknown environment is refused even with a URL", async () => {
    expect(
      await failure(
        resolveOperationsEndpoint({ env: UNKNOWN_ENVIRONMENT, apiUrl: API, environment: {} }),
      ),
    ).toBe(
      `Unknown environment "${UNKNOWN_ENVIRONMENT}": there is no envs/${UNKNOWN_ENVIRONMENT}.json.\n${AVAILABLE_LINE}`,
    );
  });
});

describe("the URL from the stack's outputs", () => {
  it("status_api_url minus /status, and app_url", async () => {
    const endpoint = await resolveOperationsEndpoint({
      env: "prod",
      environment: {},
      readOutputs: async (env) => {
        expect(env).toBe("prod");
        return { status_api_url: `${API}/status`, app_url: "https://shop.example.com/" };
      },
    });
    expect(endpoint).toEqual({
      apiBaseUrl: API,
      appUrl: "https://shop.example.com/",
      healthPath: "/health",
      source: "terraform output in cdktf.out/stacks/shopsmart-prod",
    });
  });

  it("not deployed (no output): deploy first, or pass --api-url", async () => {
    expect(
      await failure(
        resolveOperationsEndpoint({
          env: "staging",
          environment: {},
          readOutputs: async () => ({}),
        }),
      ),
    ).toBe(
      "The shopsmart-staging stack has no status_api_url output (read from " +
        "cdktf.out/stacks/shopsmart-staging): it is not deployed yet. Deploy it first " +
        "(`cdktf deploy shopsmart-staging`), or pass --api-url " +
        "https://<api-id>.execute-api.<region>.amazonaws.com (or set SHOPSMART_DR_API_URL).",
    );
  });

  it("parses `terraform output -json`, keeping the string outputs", () => {
    expect(
      parseTerraformOutputs(
        JSON.stringify({
          status_api_url: { sensitive: false, type: "string", value: `${API}/status` },
          count: { sensitive: false, type: "number", value: 3 },
        }),
      ),
    ).toEqual({ status_api_url: `${API}/status` });
    expect(parseTerraformOutputs("{}")).toEqual({});
  });
});

describe("terraform output, run for real (fake terraform on PATH)", () => {
  const envsDir = join(scratch, "envs");
  mkdirSync(envsDir);
  copyFileSync(join(ROOT, "envs/staging.json"), join(envsDir, "staging.json"));
  const outdir = join(scratch, "out");
  const stackDir = join(outdir, "stacks/shopsmart-staging");
  const bin = join(scratch, "bin");
  mkdirSync(bin);
  writeFileSync(
    join(bin, "terraform"),
    [
      "#!/bin/sh",
      'echo "$@" > "$FAKE_TERRAFORM_ARGS"',
      'if [ -n "$FAKE_TERRAFORM_FAIL" ]; then echo "Error: $FAKE_TERRAFORM_FAIL" >&2; exit 1; fi',
      `printf '%s' "$FAKE_TERRAFORM_OUTPUT"`,
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  const argsFile = join(scratch, "terraform-args");
  const environment = (extra: Record<string, string> = {}) => ({
    PATH: bin,
    SHOPSMART_ENVS_DIR: envsDir,
    CDKTF_OUTDIR: outdir,
    FAKE_TERRAFORM_ARGS: argsFile,
    ...extra,
  });
  const resolveWith = (extra: Record<string, string> = {}) =>
    resolveOperationsEndpoint({ env: "staging", environment: environment(extra) });

  it("terraform missing: install it, or pass --api-url", async () => {
    expect(await failure(resolveWith({ PATH: "" }))).toMatch(
      /^terraform is not installed \(not found on PATH\), so the operations API URL cannot be read from the staging stack's outputs\. Install Terraform 1\.11 or newer .*, or pass --api-url https:\/\/<api-id>\.execute-api\.<region>\.amazonaws\.com \(or set SHOPSMART_DR_API_URL\)\.$/,
    );
  });

  it("not synthesized, then not initialized: the commands that fix it", async () => {
    expect(await failure(resolveWith())).toBe(
      `${stackDir} does not exist, so the operations API URL cannot be read from the staging ` +
        "stack's outputs. Run `npm run synth` and `npm run state -- staging init`, or pass " +
        "--api-url https://<api-id>.execute-api.<region>.amazonaws.com (or set SHOPSMART_DR_API_URL).",
    );
    mkdirSync(stackDir, { recursive: true });
    writeFileSync(join(stackDir, "cdk.tf.json"), "{}");
    expect(await failure(resolveWith())).toMatch(
      new RegExp(
        `^${stackDir.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} is not initialized, so Terraform cannot read the staging stack's outputs\\. Run \`npm run state -- staging init\` once, or pass --api-url`,
      ),
    );
  });

  it("initialized: reads the outputs with terraform -chdir=<stack dir> output -json", async () => {
    mkdirSync(join(stackDir, ".terraform"), { recursive: true });
    writeFileSync(
      join(stackDir, ".terraform/terraform.tfstate"),
      JSON.stringify({
        version: 3,
        backend: { type: "s3", config: { bucket: "b", key: "k", region: "us-east-2" } },
      }),
    );
    const outputs = JSON.stringify({
      status_api_url: { value: `${API}/status`, type: "string", sensitive: false },
      app_url: { value: "https://staging.shop.example.com/", type: "string", sensitive: false },
    });
    await expect(resolveWith({ FAKE_TERRAFORM_OUTPUT: outputs })).resolves.toEqual({
      apiBaseUrl: API,
      appUrl: "https://staging.shop.example.com/",
      healthPath: "/health",
      source: `terraform output in ${stackDir}`,
    });
    expect(readFileSync(argsFile, "utf8").trim()).toBe(`-chdir=${stackDir} output -json -no-color`);

    const failed = await failure(
      resolveWith({ FAKE_TERRAFORM_FAIL: "No valid credential sources found" }),
    );
    expect(failed).toContain(
      `\`terraform output -json\` failed in ${stackDir} (exit 1):\nError: No valid credential sources found\n`,
    );
    expect(failed).toContain(
      "SHOPSMART_STATE_LOCATION=replica npm run state -- staging init -reconfigure",
    );
  });

  it("counts the state's managed resources with terraform -chdir=<stack dir> state pull", async () => {
    const count = (extra: Record<string, string>) =>
      countStateResources({ env: "staging", environment: environment(extra) });
    const state = JSON.stringify({
      version: 4,
      serial: 7,
      outputs: {},
      resources: [
        { mode: "managed", type: "aws_rds_global_cluster", name: "global", instances: [] },
        { mode: "managed", type: "aws_vpc", name: "primary", instances: [] },
        { mode: "data", type: "aws_caller_identity", name: "current", instances: [] },
      ],
    });
    await expect(count({ FAKE_TERRAFORM_OUTPUT: state })).resolves.toBe(2);
    expect(readFileSync(argsFile, "utf8").trim()).toBe(`-chdir=${stackDir} state pull`);
    // What terraform prints while the backend holds no state: nothing.
    await expect(count({ FAKE_TERRAFORM_OUTPUT: "" })).resolves.toBe(0);
    expect(await failure(count({ FAKE_TERRAFORM_FAIL: "AccessDenied" }))).toBe(
      `\`terraform state pull\` failed in ${stackDir} (exit 1):\nError: AccessDenied`,
    );
    expect(await failure(count({ FAKE_TERRAFORM_OUTPUT: "Terraform v1.11.4" }))).toMatch(
      /printed something that is not a state \(Terraform v1\.11\.4\): check the terraform on PATH$/,
    );
  });
});

describe("parseStateResourceCount", () => {
  it("reads no output as no state, and refuses JSON that is not a state", () => {
    expect(parseStateResourceCount("\n")).toBe(0);
    expect(parseStateResourceCount('{"version":4,"resources":[]}')).toBe(0);
    expect(() => parseStateResourceCount('{"version":4}')).toThrow(/no resources list/);
    expect(() => parseStateResourceCount("null")).toThrow(/no resources list/);
  });
});
