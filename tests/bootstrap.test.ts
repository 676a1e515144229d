import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Testing } from "cdktf";
import { afterAll, describe, expect, it } from "vitest";
import { backendsToBootstrap, distinctBackends } from "../bootstrap/main";
import { StateBackendStack } from "../bootstrap/state-backend-stack";
import { loadEnvConfigs } from "../src/config/load";
import { listResources, policyStatements, synth } from "./support/synth";

const configs = loadEnvConfigs(resolve(__dirname, "../envs"));

describe("bootstrap", () => {
  it("creates one state backend for environments that share a bucket", () => {
    expect(distinctBackends(configs).map((b) => b.backend.bucket)).toEqual([
      "shopsmart-tfstate-example",
    ]);
  });

  it("fails when environments share a bucket but disagree on the rest of the backend", () => {
    const [dev, prod] = configs;
    const conflicting = {
      ...prod,
      stateBackend: { ...prod.stateBackend, lockTable: "other-lock" },
    };
    expect(() => distinctBackends([dev, conflicting])).toThrow(
      'envs/prod.json: stateBackend differs from envs/dev.json although both use bucket "shopsmart-tfstate-example"; ' +
        "give every environment that shares a bucket the same region, lockTable, replicaBucket and replicaRegion",
    );
  });

  describe("picks environments as synth does (SHOPSMART_ENVS_DIR, SHOPSMART_ENVS)", () => {
    const envsDir = mkdtempSync(join(tmpdir(), "shopsmart-bootstrap-envs-"));
    afterAll(() => rmSync(envsDir, { recursive: true, force: true }));
    copyFileSync(resolve(__dirname, "../envs/prod.json"), join(envsDir, "prod.json"));
    writeFileSync(join(envsDir, "dev.json"), '{ "environment": "dev" }');

    it("refuses a broken env file when bootstrapping every environment", () => {
      expect(() => backendsToBootstrap({ SHOPSMART_ENVS_DIR: envsDir })).toThrow(/dev\.json/);
    });

    it("with SHOPSMART_ENVS, needs only the selected files and warns about the others", () => {
      const { backends, warnings } = backendsToBootstrap({
        SHOPSMART_ENVS_DIR: envsDir,
        SHOPSMART_ENVS: "prod",
      });
      expect(backends.map((b) => [b.env, b.backend.bucket])).toEqual([
        ["prod", "shopsmart-tfstate-example"],
      ]);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(
        /^warning: .*dev\.json is invalid and was skipped: SHOPSMART_ENVS=prod selects only prod\./,
      );
    });

    it("names a selected environment that has no file", () => {
      expect(() =>
        backendsToBootstrap({ SHOPSMART_ENVS_DIR: envsDir, SHOPSMART_ENVS: "staging" }),
      ).toThrow(/SHOPSMART_ENVS: Unknown environment "staging"/);
    });
  });

  const [{ backend, project }] = distinctBackends(configs);
  const stack = new StateBackendStack(Testing.app(), { backend, project });
  const json = synth(stack);

  it("keeps its own state locally, at a path relative to the stack so synth is portable", () => {
    expect(stack.node.id).toBe("tfstate-shopsmart-tfstate-example");
    expect(json.terraform.backend).toEqual({
      local: { path: "../../../tfstate-shopsmart-tfstate-example.tfstate" },
    });
  });

  it("creates the bucket, replica and lock table named in the environment files, in their regions", () => {
    expect(json.provider?.aws.map((p) => [p.alias, p.region])).toEqual([
      ["primary", "us-east-2"],
      ["replica", "us-west-2"],
    ]);
    expect(listResources(json, "aws_s3_bucket").map((b) => [b.bucket, b.provider])).toEqual([
      ["shopsmart-tfstate-example", "aws.primary"],
      ["shopsmart-tfstate-example-replica", "aws.replica"],
    ]);
    expect(listResources(json, "aws_dynamodb_table")).toMatchObject([
      { name: "shopsmart-tfstate-lock", replica: [{ region_name: "us-west-2" }] },
    ]);
    expect(listResources(json, "aws_kms_key")).toHaveLength(2);
    expect(Object.keys(json.output ?? {}).sort()).toEqual([
      "lock_table",
      "replica_state_bucket",
      "state_bucket",
    ]);
  });

  it("lets S3 assume each replication role only for the state account and the source bucket, where S3 passes those keys", () => {
    for (const [direction, source] of [
      ["replication-to-replica", "state_state-bucket"],
      ["replication-to-primary", "state_replica-state-bucket"],
    ]) {
      const [trust] = policyStatements(json, `state/${direction}/trust`);
      expect(trust.condition).toEqual([
        {
          test: "StringEqualsIfExists",
          variable: "aws:SourceAccount",
          values: [
            expect.stringMatching(/^\$\{data\.aws_caller_identity\.account-primary\.account_id\}$/),
          ],
        },
        {
          test: "ArnLikeIfExists",
          variable: "aws:SourceArn",
          values: [
            expect.stringMatching(
              new RegExp(`^\\$\\{aws_s3_bucket\\.${source}_[0-9A-F]{8}\\.arn\\}$`),
            ),
          ],
        },
      ]);
    }
    expect(Object.keys(json.data?.aws_caller_identity ?? {})).toEqual([
      "account-primary",
      "account-replica",
    ]);
  });
});
