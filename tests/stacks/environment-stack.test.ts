import { resolve } from "node:path";
import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { loadEnvConfigs } from "../../src/config/load";
import { EnvironmentStack } from "../../src/stacks/environment-stack";
import { addresses, listResources, synth } from "../support/synth";

const configs = loadEnvConfigs(resolve(__dirname, "../../envs"));

function synthEnv(environment: string, stateLocation?: "primary" | "replica") {
  const config = configs.find((c) => c.environment === environment);
  if (!config) throw new Error(`no envs/${environment}.json`);
  const stack = new EnvironmentStack(Testing.app(), { config, stateLocation });
  return { stack, json: synth(stack) };
}

describe("EnvironmentStack", () => {
  it("ships dev, staging and prod", () => {
    expect(configs.map((c) => c.environment)).toEqual(["dev", "prod", "staging"]);
  });

  describe.each(["dev", "staging", "prod"])("%s", (environment) => {
    const { stack, json } = synthEnv(environment);

    it("is named <project>-<env>", () => {
      expect(stack.node.id).toBe(`shopsmart-${environment}`);
    });

    it("keeps state in the S3 backend under <project>/<env>/, encrypted and locked", () => {
      expect(json.terraform.backend).toEqual({
        s3: {
          bucket: "shopsmart-tfstate-example",
          key: `shopsmart/${environment}/terraform.tfstate`,
          region: "us-east-2",
          encrypt: true,
          dynamodb_table: "shopsmart-tfstate-lock",
        },
      });
    });

    it("configures a primary and a secondary aliased provider with default tags", () => {
      expect(json.provider?.aws).toEqual([
        {
          alias: "primary",
          region: "us-east-2",
          default_tags: [
            {
              tags: {
                "cost-center": "shop-platform",
                "dr-role": "primary",
                environment,
                project: "shopsmart",
              },
            },
          ],
        },
        {
          alias: "secondary",
          region: "us-west-2",
          default_tags: [
            {
              tags: {
                "cost-center": "shop-platform",
                "dr-role": "secondary",
                environment,
                project: "shopsmart",
              },
            },
          ],
        },
      ]);
    });

    it("pins the AWS provider version the construct library was generated for", () => {
      expect(json.terraform.required_providers).toEqual({
        aws: { source: "aws", version: "6.25.0" },
      });
    });

    it("builds networking and storage in both regions, every resource with an explicit provider", () => {
      const vpcs = listResources(json, "aws_vpc");
      expect(vpcs.map((v) => v.provider)).toEqual(["aws.primary", "aws.secondary"]);
      const buckets = listResources(json, "aws_s3_bucket").map((b) => b.provider);
      expect(buckets.filter((p) => p === "aws.primary")).toHaveLength(2);
      expect(buckets.filter((p) => p === "aws.secondary")).toHaveLength(2);
      for (const byName of Object.values(json.resource)) {
        for (const resource of Object.values(byName)) {
          expect(resource.provider).toMatch(/^aws\.(primary|secondary)$/);
        }
      }
    });
  });

  it("points the backend at the replica bucket and region when told the state region is down", () => {
    const { json } = synthEnv("prod", "replica");
    expect(json.terraform.backend).toEqual({
      s3: {
        bucket: "shopsmart-tfstate-example-replica",
        key: "shopsmart/prod/terraform.tfstate",
        region: "us-west-2",
        encrypt: true,
        dynamodb_table: "shopsmart-tfstate-lock",
      },
    });
  });

  it("uses one NAT gateway per AZ in prod and a single one in dev, as configured", () => {
    expect(listResources(synthEnv("prod").json, "aws_nat_gateway")).toHaveLength(6);
    expect(listResources(synthEnv("dev").json, "aws_nat_gateway")).toHaveLength(2);
  });

  it("keeps the prod stack's Terraform addresses stable (update with `npx vitest run -u` when a rename is deliberate)", async () => {
    const list = addresses(synthEnv("prod").json);
    await expect(`${list.join("\n")}\n`).toMatchFileSnapshot("./prod-addresses.txt");
  });
});
