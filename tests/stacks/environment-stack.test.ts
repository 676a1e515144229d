import { resolve } from "node:path";
import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { loadEnvConfigs } from "../../src/config/load";
import type { EnvConfig } from "../../src/config/schema";
import { EnvironmentStack } from "../../src/stacks/environment-stack";
import { SHIPPED_ENVIRONMENTS } from "../support/shipped-environments";
import { addresses, listResources, resourcesOf, synth } from "../support/synth";

const configs = loadEnvConfigs(resolve(__dirname, "../../envs"));

function synthEnv(
  environment: string,
  stateLocation?: "primary" | "replica",
  locking?: EnvConfig["stateBackend"]["locking"],
) {
  const shipped = configs.find((c) => c.environment === environment);
  if (!shipped) throw new Error(`no envs/${environment}.json`);
  const config =
    locking === undefined
      ? shipped
      : { ...shipped, stateBackend: { ...shipped.stateBackend, locking } };
  const stack = new EnvironmentStack(Testing.app(), { config, stateLocation });
  return { stack, json: synth(stack) };
}

describe("EnvironmentStack", () => {
  it("builds one stack per env file in envs/", () => {
    expect(configs.map((c) => c.environment)).toEqual(SHIPPED_ENVIRONMENTS);
  });

  describe.each(SHIPPED_ENVIRONMENTS)("%s", (environment) => {
    const { stack, json } = synthEnv(environment);

    it("is named <project>-<env>", () => {
      expect(stack.node.id).toBe(`shopsmart-${environment}`);
    });

    it("keeps state in the S3 backend under <project>/<env>/, encrypted and locked with an S3 lock file", () => {
      expect(json.terraform.backend).toEqual({
        s3: {
          bucket: "shopsmart-tfstate-example",
          key: `shopsmart/${environment}/terraform.tfstate`,
          region: "us-east-2",
          encrypt: true,
          use_lockfile: true,
        },
      });
    });

    it("configures a primary and a secondary aliased provider with default tags, and us-east-1 for health metrics", () => {
      const tags = (drRole: string) => [
        {
          tags: {
            "cost-center": "shop-platform",
            "dr-role": drRole,
            environment,
            project: "shopsmart",
          },
        },
      ];
      expect(json.provider?.aws).toEqual([
        { alias: "primary", region: "us-east-2", default_tags: tags("primary") },
        { alias: "secondary", region: "us-west-2", default_tags: tags("secondary") },
        { alias: "health-metrics", region: "us-east-1", default_tags: tags("health-metrics") },
      ]);
      // The database password comes from Secrets Manager in an ephemeral block: no random provider.
      expect(Object.keys(json.provider ?? {})).toEqual(["aws"]);
    });

    it("pins the provider versions the construct libraries were generated for", () => {
      expect(json.terraform.required_providers).toEqual({
        aws: { source: "aws", version: "6.25.0" },
      });
    });

    it("requires Terraform 1.11, the first with write-only arguments", () => {
      expect(json.terraform.required_version).toBe(">= 1.11");
    });

    it("gives every AWS resource an explicit provider, and uses us-east-1 only for the Route 53 health-check alarms that notify", () => {
      for (const [type, byName] of Object.entries(json.resource)) {
        if (!type.startsWith("aws_")) continue;
        for (const [name, resource] of Object.entries(byName)) {
          expect(resource.provider, `${type}.${name}`).toMatch(
            /^aws\.(primary|secondary|health-metrics)$/,
          );
        }
      }
      const inHealthRegion = Object.entries(json.resource).flatMap(([type, byName]) =>
        Object.values(byName)
          .filter((r) => r.provider === "aws.health-metrics")
          .map(() => type),
      );
      // Nothing of the recovery path: no rule, forwarder or queue, whether automatic failover
      // is on (staging, prod) or off (dev).
      expect([...new Set(inHealthRegion)].sort()).toEqual([
        "aws_cloudwatch_metric_alarm",
        "aws_kms_alias",
        "aws_kms_key",
        "aws_sns_topic",
        "aws_sns_topic_policy",
        "aws_sns_topic_subscription",
      ]);
      const healthAlarms = listResources(json, "aws_cloudwatch_metric_alarm")
        .filter((alarm) => alarm.provider === "aws.health-metrics")
        .map((alarm) => alarm.alarm_name);
      expect(healthAlarms).toEqual([
        `shopsmart-${environment}-primary-endpoint-health`,
        `shopsmart-${environment}-secondary-endpoint-health`,
      ]);
    });

    it("guards each failover record with the calculated check of its region, over the endpoint check and a fence in the secondary region", () => {
      const checks = resourcesOf(json, "aws_route53_health_check");
      const records = listResources(json, "aws_route53_record").filter(
        (record) => record.failover_routing_policy !== undefined,
      );
      expect(records).toHaveLength(2);
      for (const record of records) {
        const [, name] = /aws_route53_health_check\.([^.]+)\.id/.exec(
          String(record.health_check_id),
        ) ?? [undefined, ""];
        expect(checks[name]).toMatchObject({ type: "CALCULATED", child_health_threshold: 2 });
      }
      const fences = listResources(json, "aws_route53_health_check").filter(
        (check) => check.type === "CLOUDWATCH_METRIC",
      );
      expect(fences.map((fence) => fence.cloudwatch_alarm_region)).toEqual([
        "us-west-2",
        "us-west-2",
      ]);
    });

    it("builds every regional part in both regions", () => {
      for (const type of [
        "aws_vpc",
        "aws_lb",
        "aws_autoscaling_group",
        "aws_rds_cluster",
        "aws_backup_vault",
        "aws_kms_key",
      ]) {
        const providers = listResources(json, type).map((r) => r.provider);
        expect(providers, type).toContain("aws.primary");
        expect(providers, type).toContain("aws.secondary");
      }
    });

    it("sends each load balancer's access logs to its region's log bucket, once the log delivery policy exists, and protects it outside dev", () => {
      for (const role of ["primary", "secondary"] as const) {
        const [loadBalancer] = listResources(json, "aws_lb").filter(
          (lb) => lb.provider === `aws.${role}`,
        );
        expect(loadBalancer.access_logs).toEqual({
          bucket: expect.stringMatching(
            new RegExp(`aws_s3_bucket\\.storage_${role}-access-logs_bucket.*\\.bucket\\}$`),
          ),
          prefix: "load-balancer",
          enabled: true,
        });
        expect(loadBalancer.depends_on).toEqual([
          expect.stringMatching(
            new RegExp(`^aws_s3_bucket_policy\\.storage_${role}-access-logs_policy`),
          ),
        ]);
        expect(loadBalancer.enable_deletion_protection).toBe(environment !== "dev");
      }
    });

    it("leaves the writer endpoint parameter to the failover automation after its first value", () => {
      const writerEndpoints = listResources(json, "aws_ssm_parameter").filter(
        (parameter) => parameter.name === `/shopsmart/${environment}/db/writer-endpoint`,
      );
      expect(writerEndpoints.map((parameter) => parameter.provider)).toEqual([
        "aws.primary",
        "aws.secondary",
      ]);
      for (const parameter of writerEndpoints) {
        expect(parameter.lifecycle).toEqual({ ignore_changes: ["value"] });
      }
      const otherAppSettings = listResources(json, "aws_ssm_parameter").filter(
        (parameter) =>
          String(parameter.description).startsWith("App setting") &&
          !writerEndpoints.includes(parameter),
      );
      expect(otherAppSettings).toHaveLength(10);
      expect(otherAppSettings.filter((parameter) => parameter.lifecycle !== undefined)).toEqual([]);
    });

    it("outputs the dashboard URL and the failover API URLs", () => {
      expect(json.output?.dashboard_url.value).toMatch(
        /^https:\/\/console\.aws\.amazon\.com\/cloudwatch\/home\?region=us-east-2#dashboards:name=/,
      );
      for (const [output, path] of [
        ["failover_api_url", "/failover"],
        ["failback_api_url", "/failback"],
        ["status_api_url", "/status"],
      ]) {
        expect(json.output?.[output].value).toMatch(
          new RegExp(`aws_apigatewayv2_api\\..*\\.api_endpoint\\}${path}$`),
        );
      }
    });
  });

  it("adds no third provider when one of the pair is us-east-1", () => {
    const prod = configs.find((c) => c.environment === "prod");
    if (!prod) throw new Error("no prod");
    const config = {
      ...prod,
      regions: { primary: "us-east-1" as const, secondary: "us-west-2" as const },
    };
    const json = synth(new EnvironmentStack(Testing.app(), { config }));
    expect(json.provider?.aws.map((p) => p.alias)).toEqual(["primary", "secondary"]);
    const alarmProviders = listResources(json, "aws_cloudwatch_metric_alarm").map(
      (r) => r.provider,
    );
    expect(alarmProviders).not.toContain("aws.health-metrics");
  });

  it("points the backend at the replica bucket and region when told the state region is down", () => {
    const { json } = synthEnv("prod", "replica");
    expect(json.terraform.backend).toEqual({
      s3: {
        bucket: "shopsmart-tfstate-example-replica",
        key: "shopsmart/prod/terraform.tfstate",
        region: "us-west-2",
        encrypt: true,
        use_lockfile: true,
      },
    });
  });

  it("locks with the lock file and the DynamoDB table while a state moves off the table, and with the table alone when told", () => {
    const lock = (locking: EnvConfig["stateBackend"]["locking"]) => {
      const { backend } = synthEnv("prod", "primary", locking).json.terraform;
      const { use_lockfile, dynamodb_table } = (backend as { s3: Record<string, unknown> }).s3;
      return { use_lockfile, dynamodb_table };
    };
    expect(lock("lockfile-and-table")).toEqual({
      use_lockfile: true,
      dynamodb_table: "shopsmart-tfstate-lock",
    });
    expect(lock("table")).toEqual({
      use_lockfile: undefined,
      dynamodb_table: "shopsmart-tfstate-lock",
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
