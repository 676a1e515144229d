import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { TerraformOutput, type TerraformStack } from "cdktf";
import { describe, expect, it } from "vitest";
import { PROBE_INTERVAL_SECONDS, VETO_RECHECK_SECONDS } from "../../functions/shared/dr-metrics";
import { parseSettings } from "../../functions/shared/settings";
import type { RegionRole } from "../../src/config/schema";
import {
  AUTOMATION_FUNCTIONS,
  Automation,
  type AutomationProps,
  FUNCTION_NAMES,
  type FunctionName,
  handlerEntries,
} from "../../src/constructs/automation";
import { PROJECT_ROOT } from "../../src/constructs/automation/bundling";
import { ACCESS_LOG_FORMAT } from "../../src/constructs/automation/http-api";
import {
  type AutomationResources,
  UNSCOPED_ACTIONS,
} from "../../src/constructs/automation/permissions";
import { workflowDefinition } from "../../src/constructs/automation/state-machine";
import {
  listResources,
  policyStatements,
  resourceAt,
  resourcesOf,
  type SynthesizedStack,
  stackWithProviders,
  synth,
  TEST_REGIONS,
} from "../support/synth";

const ACCOUNT = "111111111111";
const KEY = "arn:aws:kms:us-west-2:111111111111:key/secondary";
const TOPIC = "arn:aws:sns:us-west-2:111111111111:shop-test-secondary-alerts";
const FIXTURE = "tests/fixtures/automation/handler.ts";
/** The construct tests bundle a stand-in handler; the bundling tests cover the real ones. */
const FIXTURE_ENTRIES = Object.fromEntries(FUNCTION_NAMES.map((name) => [name, FIXTURE]));

type Overrides = Partial<AutomationProps>;

function automationRegion(role: RegionRole) {
  const region = TEST_REGIONS[role];
  return {
    region,
    clusterIdentifier: `shop-test-${role}`,
    clusterArn: `arn:aws:rds:${region}:${ACCOUNT}:cluster:shop-test-${role}`,
    autoScalingGroupName: `shop-test-${role}-web`,
    loadBalancer: {
      dnsName: `shop-test-${role}-1234567890.${region}.elb.amazonaws.com`,
      zoneId: "Z3AADJGX6KTTL2",
    },
    healthCheckId: `0f3b0c2e-${role}`,
    activeCapacity: { minSize: 3, desiredCapacity: 3, maxSize: 9 },
    standbyCapacity: { minSize: 1, desiredCapacity: 1, maxSize: 9 },
  };
}

function stackWithAutomation(overrides: Overrides | ((stack: TerraformStack) => Overrides) = {}) {
  const { stack, providers } = stackWithProviders();
  const props = typeof overrides === "function" ? overrides(stack) : overrides;
  const automation = new Automation(stack, "automation", {
    namePrefix: "shop-test",
    environment: "test",
    provider: providers.secondary,
    accountId: ACCOUNT,
    kmsKeyArn: KEY,
    regions: { primary: automationRegion("primary"), secondary: automationRegion("secondary") },
    globalClusterIdentifier: "shop-test-global",
    hostedZoneId: "Z0123456789ABCDEFGHIJ",
    recordName: "shop.example.com",
    parameterPath: "/shop/test/",
    alertTopic: { arn: TOPIC, kmsKeyArn: KEY },
    rpoSeconds: 300,
    rtoSeconds: 300,
    automaticFailover: { enabled: true, alarmMinutes: 2 },
    drill: { enabled: true, schedule: "cron(0 6 ? * WED *)", holdMinutes: 5 },
    handlerEntries: FIXTURE_ENTRIES,
    ...props,
  });
  return { stack, automation };
}

/** Attributes the tests read back, as outputs (their tokens resolve at synth). */
function attributes(automation: Automation): Record<string, string> {
  return {
    failover_api_url: automation.failoverApiUrl,
    failback_api_url: automation.failbackApiUrl,
    status_api_url: automation.statusApiUrl,
    failover_invoke_arn: automation.apiRouteInvokeArns.failover,
    operation_invoke_arn: automation.apiRouteInvokeArns.operation,
    state_machine_arn: automation.stateMachineArn,
    ledger_table_name: automation.ledgerTableName,
    flip_dns_arn: automation.functionArns["flip-dns"] as string,
  };
}

function synthAutomation(overrides: Overrides = {}) {
  const { stack, automation } = stackWithAutomation(overrides);
  for (const [name, value] of Object.entries(attributes(automation))) {
    new TerraformOutput(stack, name, { value });
  }
  const json = synth(stack);
  const attribute = (name: keyof ReturnType<typeof attributes>) => json.output?.[name]?.value;
  return { json, automation, attribute };
}

/** The Terraform address (`type.logicalId`) of the one resource of `type` at `path`. */
function address(json: SynthesizedStack, type: string, path: string): string {
  const [logicalId] = Object.entries(resourcesOf(json, type)).find(([, resource]) =>
    (resource["//"] as { metadata: { path: string } }).metadata.path.endsWith(`/${path}`),
  ) as [string, unknown];
  return `${type}.${logicalId}`;
}

/** `${type.logicalId.attribute}` of the one resource of `type` at `path`. */
function reference(json: SynthesizedStack, type: string, path: string, attribute: string): string {
  return `\${${address(json, type, path)}.${attribute}}`;
}

const fn = (json: SynthesizedStack, name: FunctionName) =>
  resourceAt(json, "aws_lambda_function", `function-${name}/function`);

/**
 * Every Allow statement of every policy document the construct synthesizes (the drill report
 * bucket's TLS-only Deny of `s3:*` is the one Deny).
 */
function allStatements(json: SynthesizedStack) {
  return Object.values(json.data?.aws_iam_policy_document ?? {})
    .flatMap(
      (document) =>
        (document.statement as { effect?: string; actions: string[]; resources?: string[] }[]) ??
        [],
    )
    .filter((statement) => statement.effect !== "Deny");
}

/** The actions of a function's role, by statement id. */
function actionsBySid(json: SynthesizedStack, name: FunctionName) {
  return Object.fromEntries(
    policyStatements(json, `function-${name}/permissions`).map((s) => [s.sid, s.actions]),
  );
}

describe("Automation", () => {
  const { json, automation, attribute } = synthAutomation();

  describe("functions", () => {
    it("ends a probe-primary run before the next one starts, and lets each of its probes time out first", () => {
      const timeout = fn(json, "probe-primary").timeout as number;
      expect(timeout).toBeLessThan(PROBE_INTERVAL_SECONDS);
      // The probes, the rereads of Route 53's veto and the publishing.
      expect(timeout).toBeGreaterThan(
        VETO_RECHECK_SECONDS + automation.settings.detection.probeTimeoutSeconds * 2,
      );
    });

    it("deploys one Node.js 24 (nodejs24.x: nodejs20.x is deprecated) arm64 function per handler, 256 MB, with its timeout", () => {
      const timeouts: Record<FunctionName, number> = {
        "read-topology": 60,
        "read-traffic": 60,
        "plan-operation": 30,
        "promote-database": 60,
        "check-writer": 30,
        "scale-capacity": 60,
        "flip-dns": 90,
        finish: 60,
        "operations-api": 60,
        "auto-failover": 60,
        "probe-primary": 55,
        "run-drill": 120,
      };
      expect(listResources(json, "aws_lambda_function")).toHaveLength(FUNCTION_NAMES.length);
      for (const name of FUNCTION_NAMES) {
        expect(fn(json, name), name).toMatchObject({
          provider: "aws.secondary",
          function_name: `shop-test-dr-${name}`,
          runtime: "nodejs24.x",
          architectures: ["arm64"],
          handler: "index.handler",
          memory_size: 256,
          timeout: timeouts[name],
          kms_key_arn: KEY,
          role: reference(json, "aws_iam_role", `function-${name}/role`, "arn"),
          tracing_config: { mode: "PassThrough" },
        });
      }
    });

    it("deploys every entry of the function table as the entry says: description, timeout, role, environment", () => {
      expect(Object.keys(AUTOMATION_FUNCTIONS)).toEqual([...FUNCTION_NAMES]);
      // Statement ids and variable names do not depend on the resources' values.
      const resources = new Proxy({} as AutomationResources, {
        get: (_, field) =>
          String(field).endsWith("Arns")
            ? Object.assign(["a", "b"], { primary: "a", secondary: "b" })
            : "x",
      });
      const context = {
        drillSettings: automation.drillSettings,
        autoFailover: { alarmName: "a", alarmRegion: "us-west-2", ruleName: "r" },
      };
      for (const name of FUNCTION_NAMES) {
        const spec = AUTOMATION_FUNCTIONS[name];
        const deployed = fn(json, name);
        expect(deployed.description, name).toBe(spec.description);
        expect(deployed.timeout, name).toBe(spec.timeoutSeconds);
        expect(
          policyStatements(json, `function-${name}/permissions`).map((s) => s.sid),
          name,
        ).toEqual(["WriteOwnLogs", ...spec.permissions(resources).map((s) => s.sid)]);
        expect(
          Object.keys((deployed.environment as { variables: Record<string, string> }).variables),
          name,
        ).toEqual([
          "SHOPSMART_DR_SETTINGS",
          "NODE_OPTIONS",
          ...Object.keys(spec.environment?.(context) ?? {}),
        ]);
      }
    });

    it("bundles each entry's handler from functions/handlers/<name>.ts by default", () => {
      for (const [name, entry] of Object.entries(handlerEntries())) {
        expect(entry).toBe(`functions/handlers/${name}.ts`);
        expect(existsSync(join(PROJECT_ROOT, entry)), entry).toBe(true);
      }
    });

    it("deploys each function's zip as a stack asset, with the zip's SHA-256 as source_code_hash", () => {
      for (const name of FUNCTION_NAMES) {
        const bundle = automation.bundles[name];
        const zip = readFileSync(bundle?.zipPath as string);
        expect(fn(json, name)).toMatchObject({
          filename: expect.stringMatching(
            new RegExp(`^assets/[^/]+/${bundle?.zipSha256Hex}/${name}\\.zip$`),
          ),
          source_code_hash: createHash("sha256").update(zip).digest("base64"),
        });
      }
    });

    it("writes the settings the Lambdas validate, and source maps on", () => {
      const variables = (fn(json, "flip-dns").environment as { variables: Record<string, string> })
        .variables;
      expect(variables.NODE_OPTIONS).toBe("--enable-source-maps");
      const ledger = reference(json, "aws_dynamodb_table", "ledger", "name");
      const endpoint = reference(json, "aws_apigatewayv2_api", "http-api/api", "api_endpoint");
      // Terraform fills these in at apply time; stand in realistic values for parsing.
      const settingsJson = variables.SHOPSMART_DR_SETTINGS.replace(
        ledger,
        "shop-test-dr-operations",
      ).replace(endpoint, "https://a1b2c3d4e5.execute-api.us-west-2.amazonaws.com");
      expect(parseSettings(settingsJson)).toEqual({
        environment: "test",
        namePrefix: "shop-test",
        primaryRecordRegion: "primary",
        healthPath: "/health",
        detection: { quorum: 2, minimumIntervalMinutes: 30, probeTimeoutSeconds: 5 },
        globalClusterIdentifier: "shop-test-global",
        regions: { primary: automationRegion("primary"), secondary: automationRegion("secondary") },
        hostedZoneId: "Z0123456789ABCDEFGHIJ",
        recordName: "shop.example.com",
        parameterPath: "/shop/test/",
        ledgerTableName: "shop-test-dr-operations",
        stateMachineArn: `arn:aws:states:us-west-2:${ACCOUNT}:stateMachine:shop-test-dr-operation`,
        topicArn: TOPIC,
        readTopologyFunctionName: "shop-test-dr-read-topology",
        readTrafficFunctionName: "shop-test-dr-read-traffic",
        rpoSeconds: 300,
        rtoSeconds: 300,
        apiBaseUrl: "https://a1b2c3d4e5.execute-api.us-west-2.amazonaws.com",
      });
      // Every function gets the same settings.
      for (const name of FUNCTION_NAMES) {
        const own = (fn(json, name).environment as { variables: Record<string, string> }).variables;
        expect(own.SHOPSMART_DR_SETTINGS, name).toBe(variables.SHOPSMART_DR_SETTINGS);
      }
    });

    it("keeps every function's environment within Lambda's 4 KB", () => {
      for (const name of FUNCTION_NAMES) {
        const { variables } = fn(json, name).environment as { variables: Record<string, string> };
        // Unresolved references are shorter than some values they stand for: allow 200 bytes each.
        const references = JSON.stringify(variables).match(/\$\{/g)?.length ?? 0;
        const bytes = Object.entries(variables).reduce(
          (sum, [key, value]) => sum + key.length + value.length,
          0,
        );
        expect(bytes + references * 200, name).toBeLessThan(4096);
      }
    });

    it("tells auto-failover which alarm and rule start it: the primary-down alarm, in the automation's region", () => {
      const { variables } = fn(json, "auto-failover").environment as {
        variables: Record<string, string>;
      };
      expect(JSON.parse(variables.SHOPSMART_DR_AUTO_FAILOVER)).toEqual({
        alarmName: "shop-test-dr-primary-down",
        alarmRegion: "us-west-2",
        ruleName: "shop-test-dr-auto-failover",
      });
    });

    it("passes the detection settings and the PRIMARY record's region to the functions", () => {
      const { automation: custom } = synthAutomation({
        automaticFailover: { enabled: true, quorum: 3, minimumIntervalMinutes: 0 },
        activeRegion: "secondary",
      });
      expect(custom.settings).toMatchObject({
        primaryRecordRegion: "secondary",
        detection: { quorum: 3, minimumIntervalMinutes: 0, probeTimeoutSeconds: 5 },
      });
    });

    it("gives each function a KMS-encrypted log group with retention, created before the function", () => {
      for (const name of FUNCTION_NAMES) {
        expect(
          resourceAt(json, "aws_cloudwatch_log_group", `function-${name}/log-group`),
        ).toMatchObject({
          provider: "aws.secondary",
          name: `/aws/lambda/shop-test-dr-${name}`,
          retention_in_days: 90,
          kms_key_id: KEY,
        });
        expect(fn(json, name).depends_on).toEqual([
          address(json, "aws_cloudwatch_log_group", `function-${name}/log-group`),
          address(json, "aws_iam_role_policy", `function-${name}/policy`),
        ]);
      }
    });

    it("exposes the function names and ARNs", () => {
      expect(automation.functionNames).toEqual(
        Object.fromEntries(FUNCTION_NAMES.map((name) => [name, `shop-test-dr-${name}`])),
      );
      expect(attribute("flip_dns_arn")).toBe(
        reference(json, "aws_lambda_function", "function-flip-dns/function", "arn"),
      );
    });
  });

  describe("least privilege", () => {
    it("gives every function its own role, assumable by Lambda only", () => {
      for (const name of FUNCTION_NAMES) {
        expect(resourceAt(json, "aws_iam_role", `function-${name}/role`)).toMatchObject({
          name: `shop-test-dr-${name}`,
        });
        expect(policyStatements(json, `function-${name}/trust`)).toEqual([
          {
            actions: ["sts:AssumeRole"],
            principals: [{ type: "Service", identifiers: ["lambda.amazonaws.com"] }],
          },
        ]);
      }
    });

    it("grants no wildcard action, and a * resource only to actions AWS cannot scope", () => {
      const statements = allStatements(json);
      expect(statements.length).toBeGreaterThan(30);
      for (const statement of statements) {
        for (const action of statement.actions) expect(action).not.toContain("*");
        if (statement.resources?.includes("*")) {
          expect(statement.resources).toEqual(["*"]);
          for (const action of statement.actions)
            expect(Object.keys(UNSCOPED_ACTIONS)).toContain(action);
        }
      }
    });

    it("lets each function write only its own log group", () => {
      for (const name of FUNCTION_NAMES) {
        expect(policyStatements(json, `function-${name}/permissions`)[0]).toEqual({
          sid: "WriteOwnLogs",
          actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
          resources: [
            `${reference(json, "aws_cloudwatch_log_group", `function-${name}/log-group`, "arn")}:*`,
          ],
        });
      }
    });

    it("gives each step exactly the actions it calls", () => {
      const logs = ["logs:CreateLogStream", "logs:PutLogEvents"];
      const describeRds = {
        DescribeGlobalCluster: ["rds:DescribeGlobalClusters"],
        DescribeClusters: ["rds:DescribeDBClusters"],
      };
      const ledger = {
        UseLedger: [
          "dynamodb:DeleteItem",
          "dynamodb:GetItem",
          "dynamodb:PutItem",
          "dynamodb:UpdateItem",
        ],
        UseLedgerKeyThroughDynamoDb: [
          "kms:Decrypt",
          "kms:DescribeKey",
          "kms:Encrypt",
          "kms:GenerateDataKey",
        ],
      };
      const expected: Record<FunctionName, Record<string, string[]>> = {
        "read-topology": {
          WriteOwnLogs: logs,
          ...describeRds,
          ReadReplicationLag: ["cloudwatch:GetMetricData"],
        },
        "read-traffic": {
          WriteOwnLogs: logs,
          UseLedger: ["dynamodb:GetItem"],
          UseLedgerKeyThroughDynamoDb: ledger.UseLedgerKeyThroughDynamoDb,
          ReadEndpointHealth: ["route53:GetHealthCheckStatus"],
          ReadCapacity: ["autoscaling:DescribeAutoScalingGroups"],
        },
        "plan-operation": { WriteOwnLogs: logs },
        "promote-database": {
          WriteOwnLogs: logs,
          ...describeRds,
          PromoteCluster: [
            "rds:FailoverGlobalCluster",
            "rds:RemoveFromGlobalCluster",
            "rds:SwitchoverGlobalCluster",
          ],
          RepointWriterEndpoint: ["ssm:GetParameter", "ssm:PutParameter"],
        },
        "check-writer": { WriteOwnLogs: logs, ...describeRds },
        "scale-capacity": {
          ...ledger,
          WriteOwnLogs: logs,
          ScaleGroups: ["autoscaling:UpdateAutoScalingGroup"],
          ReadCapacity: ["autoscaling:DescribeAutoScalingGroups"],
        },
        "flip-dns": {
          WriteOwnLogs: logs,
          UseLedger: ["dynamodb:GetItem", "dynamodb:PutItem"],
          UseLedgerKeyThroughDynamoDb: ledger.UseLedgerKeyThroughDynamoDb,
          PublishTrafficFences: ["cloudwatch:PutMetricData"],
        },
        finish: {
          WriteOwnLogs: logs,
          ...ledger,
          Notify: ["sns:Publish"],
          UseTopicKeyThroughSns: ["kms:Decrypt", "kms:GenerateDataKey"],
        },
        "operations-api": {
          WriteOwnLogs: logs,
          ...ledger,
          StartOperations: ["states:StartExecution"],
          ReadOperations: ["states:DescribeExecution", "states:GetExecutionHistory"],
          UseStateMachineKey: ["kms:Decrypt", "kms:GenerateDataKey"],
          InvokeReaders: ["lambda:InvokeFunction"],
        },
        "auto-failover": {
          WriteOwnLogs: logs,
          ...ledger,
          StartOperations: ["states:StartExecution"],
          ReadOperations: ["states:DescribeExecution"],
          UseStateMachineKey: ["kms:Decrypt", "kms:GenerateDataKey"],
          ReadTriggerAlarm: ["cloudwatch:DescribeAlarms"],
          Notify: ["sns:Publish"],
          UseTopicKeyThroughSns: ["kms:Decrypt", "kms:GenerateDataKey"],
        },
        "probe-primary": {
          WriteOwnLogs: logs,
          ReadPrimaryCluster: ["rds:DescribeDBClusters"],
          ReadRoute53HealthMetric: ["cloudwatch:GetMetricData"],
          UseLedger: ["dynamodb:GetItem"],
          UseLedgerKeyThroughDynamoDb: ledger.UseLedgerKeyThroughDynamoDb,
          PublishDetectionSignals: ["cloudwatch:PutMetricData"],
        },
        "run-drill": {
          WriteOwnLogs: logs,
          InvokeOperationsApi: ["execute-api:Invoke"],
          WriteReports: ["s3:PutObject"],
          UseReportKeyThroughS3: ["kms:GenerateDataKey"],
          PublishDrillMetrics: ["cloudwatch:PutMetricData"],
          Notify: ["sns:Publish"],
          UseTopicKeyThroughSns: ["kms:Decrypt", "kms:GenerateDataKey"],
        },
      };
      for (const name of FUNCTION_NAMES)
        expect(actionsBySid(json, name), name).toEqual(expected[name]);
    });

    it("scopes database, capacity and DNS actions to the named resources", () => {
      const clusters = [
        `arn:aws:rds:us-east-2:${ACCOUNT}:cluster:shop-test-primary`,
        `arn:aws:rds:us-west-2:${ACCOUNT}:cluster:shop-test-secondary`,
      ];
      const promote = policyStatements(json, "function-promote-database/permissions");
      expect(promote.find((s) => s.sid === "PromoteCluster")?.resources).toEqual([
        `arn:aws:rds::${ACCOUNT}:global-cluster:shop-test-global`,
        ...clusters,
      ]);
      expect(promote.find((s) => s.sid === "DescribeClusters")?.resources).toEqual(clusters);
      expect(promote.find((s) => s.sid === "RepointWriterEndpoint")?.resources).toEqual([
        `arn:aws:ssm:us-east-2:${ACCOUNT}:parameter/shop/test/db/writer-endpoint`,
        `arn:aws:ssm:us-west-2:${ACCOUNT}:parameter/shop/test/db/writer-endpoint`,
      ]);

      const scale = policyStatements(json, "function-scale-capacity/permissions");
      expect(scale.find((s) => s.sid === "ScaleGroups")?.resources).toEqual([
        `arn:aws:autoscaling:us-east-2:${ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/shop-test-primary-web`,
        `arn:aws:autoscaling:us-west-2:${ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/shop-test-secondary-web`,
      ]);

      const traffic = policyStatements(json, "function-read-traffic/permissions");
      expect(traffic.find((s) => s.sid === "ReadEndpointHealth")?.resources).toEqual([
        "arn:aws:route53:::healthcheck/0f3b0c2e-primary",
        "arn:aws:route53:::healthcheck/0f3b0c2e-secondary",
      ]);

      const probe = policyStatements(json, "function-probe-primary/permissions");
      expect(probe.find((s) => s.sid === "ReadPrimaryCluster")?.resources).toEqual([clusters[0]]);
    });

    it("lets no function call the Route 53 API except read-traffic's best-effort health reading", () => {
      const route53 = FUNCTION_NAMES.flatMap((name) =>
        policyStatements(json, `function-${name}/permissions`)
          .filter((s) => s.actions.some((action) => action.startsWith("route53:")))
          .map((s) => `${name}: ${s.actions.join(", ")}`),
      );
      expect(route53).toEqual(["read-traffic: route53:GetHealthCheckStatus"]);
    });

    it("scopes metric publishing to the DR namespace and the trigger alarm to the primary-down alarm", () => {
      const namespace = [
        { test: "StringEquals", variable: "cloudwatch:namespace", values: ["ShopSmart/DR"] },
      ];
      for (const [name, sid] of [
        ["flip-dns", "PublishTrafficFences"],
        ["probe-primary", "PublishDetectionSignals"],
      ] as const) {
        expect(
          policyStatements(json, `function-${name}/permissions`).find((s) => s.sid === sid),
        ).toEqual({
          sid,
          actions: ["cloudwatch:PutMetricData"],
          resources: ["*"],
          condition: namespace,
        });
      }
      const trigger = policyStatements(json, "function-auto-failover/permissions");
      expect(trigger.find((s) => s.sid === "ReadTriggerAlarm")?.resources).toEqual([
        `arn:aws:cloudwatch:us-west-2:${ACCOUNT}:alarm:shop-test-dr-primary-down`,
      ]);
    });

    it("lets the functions that only touch the traffic fences reach that one ledger item", () => {
      const leadingKeys = [
        {
          test: "ForAllValues:StringEquals",
          variable: "dynamodb:LeadingKeys",
          values: ["TRAFFIC#FENCES"],
        },
      ];
      for (const [name, actions] of [
        ["flip-dns", ["dynamodb:GetItem", "dynamodb:PutItem"]],
        ["read-traffic", ["dynamodb:GetItem"]],
        ["probe-primary", ["dynamodb:GetItem"]],
      ] as const) {
        const ledger = policyStatements(json, `function-${name}/permissions`).find(
          (s) => s.sid === "UseLedger",
        );
        expect(ledger, name).toMatchObject({ actions, condition: leadingKeys });
      }
      // The lock holders keep the whole table.
      const finish = policyStatements(json, "function-finish/permissions").find(
        (s) => s.sid === "UseLedger",
      );
      expect(finish?.condition).toBeUndefined();
    });

    it("scopes the ledger, topic, state machine and readers, and keys only through their services", () => {
      const table = reference(json, "aws_dynamodb_table", "ledger", "arn");
      const stateMachine = `arn:aws:states:us-west-2:${ACCOUNT}:stateMachine:shop-test-dr-operation`;
      const api = policyStatements(json, "function-operations-api/permissions");
      const bySid = (sid: string) => api.find((s) => s.sid === sid);
      expect(bySid("UseLedger")?.resources).toEqual([table]);
      expect(bySid("UseLedgerKeyThroughDynamoDb")).toMatchObject({
        resources: [KEY],
        condition: [
          {
            test: "StringEquals",
            variable: "kms:ViaService",
            values: ["dynamodb.us-west-2.amazonaws.com"],
          },
        ],
      });
      expect(bySid("StartOperations")?.resources).toEqual([stateMachine]);
      expect(bySid("ReadOperations")?.resources).toEqual([
        `arn:aws:states:us-west-2:${ACCOUNT}:execution:shop-test-dr-operation:*`,
      ]);
      expect(bySid("UseStateMachineKey")).toMatchObject({
        resources: [KEY],
        condition: [
          {
            test: "StringEquals",
            variable: "kms:EncryptionContext:aws:states:stateMachineArn",
            values: [stateMachine],
          },
        ],
      });
      expect(bySid("InvokeReaders")?.resources).toEqual([
        `arn:aws:lambda:us-west-2:${ACCOUNT}:function:shop-test-dr-read-topology`,
        `arn:aws:lambda:us-west-2:${ACCOUNT}:function:shop-test-dr-read-traffic`,
      ]);

      const finish = policyStatements(json, "function-finish/permissions");
      expect(finish.find((s) => s.sid === "Notify")?.resources).toEqual([TOPIC]);
      expect(finish.find((s) => s.sid === "UseTopicKeyThroughSns")?.condition).toEqual([
        {
          test: "StringEquals",
          variable: "kms:ViaService",
          values: ["sns.us-west-2.amazonaws.com"],
        },
      ]);
    });
  });

  describe("ledger", () => {
    it("is an on-demand, point-in-time-recoverable, KMS-encrypted table keyed by pk, in the secondary region", () => {
      expect(resourceAt(json, "aws_dynamodb_table", "ledger")).toMatchObject({
        provider: "aws.secondary",
        name: "shop-test-dr-operations",
        billing_mode: "PAY_PER_REQUEST",
        hash_key: "pk",
        attribute: [{ name: "pk", type: "S" }],
        point_in_time_recovery: { enabled: true },
        server_side_encryption: { enabled: true, kms_key_arn: KEY },
        deletion_protection_enabled: true,
      });
      expect(attribute("ledger_table_name")).toBe(
        reference(json, "aws_dynamodb_table", "ledger", "name"),
      );
    });

    it("allows deletion when deletionProtection is off", () => {
      const { json: unprotected } = synthAutomation({ deletionProtection: false });
      expect(
        resourceAt(unprotected, "aws_dynamodb_table", "ledger").deletion_protection_enabled,
      ).toBe(false);
    });
  });

  describe("workflow", () => {
    const stateMachine = resourceAt(json, "aws_sfn_state_machine", "workflow/state-machine");

    it("is a STANDARD state machine encrypted with the automation key, logging every transition without data", () => {
      expect(stateMachine).toMatchObject({
        provider: "aws.secondary",
        name: "shop-test-dr-operation",
        type: "STANDARD",
        role_arn: reference(json, "aws_iam_role", "workflow/role", "arn"),
        logging_configuration: {
          level: "ALL",
          include_execution_data: false,
          log_destination: `${reference(json, "aws_cloudwatch_log_group", "workflow/log-group", "arn")}:*`,
        },
        encryption_configuration: {
          type: "CUSTOMER_MANAGED_KMS_KEY",
          kms_key_id: KEY,
          kms_data_key_reuse_period_seconds: 300,
        },
        tracing_configuration: { enabled: false },
      });
      expect(resourceAt(json, "aws_cloudwatch_log_group", "workflow/log-group")).toMatchObject({
        name: "/aws/vendedlogs/states/shop-test-dr-operation",
        retention_in_days: 90,
        kms_key_id: KEY,
      });
    });

    it("runs the workflow definition over the deployed step functions", () => {
      const arn = (name: FunctionName) =>
        reference(json, "aws_lambda_function", `function-${name}/function`, "arn");
      expect(JSON.parse(stateMachine.definition as string)).toEqual(
        workflowDefinition({
          readTopology: arn("read-topology"),
          readTraffic: arn("read-traffic"),
          planOperation: arn("plan-operation"),
          promoteDatabase: arn("promote-database"),
          checkWriter: arn("check-writer"),
          scaleCapacity: arn("scale-capacity"),
          flipDns: arn("flip-dns"),
          finish: arn("finish"),
        }),
      );
      expect(attribute("state_machine_arn")).toBe(
        reference(json, "aws_sfn_state_machine", "workflow/state-machine", "arn"),
      );
    });

    it("may invoke the step functions and nothing else, and only this state machine assumes its role", () => {
      const steps: FunctionName[] = [
        "read-topology",
        "read-traffic",
        "plan-operation",
        "promote-database",
        "check-writer",
        "scale-capacity",
        "flip-dns",
        "finish",
      ];
      const arns = steps.map((name) =>
        reference(json, "aws_lambda_function", `function-${name}/function`, "arn"),
      );
      const [invoke] = policyStatements(json, "workflow/permissions");
      expect(invoke).toEqual({
        sid: "InvokeSteps",
        actions: ["lambda:InvokeFunction"],
        resources: [...arns, ...arns.map((arn) => `${arn}:*`)],
      });
      expect(policyStatements(json, "workflow/trust")).toEqual([
        {
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["states.amazonaws.com"] }],
          condition: [
            { test: "StringEquals", variable: "aws:SourceAccount", values: [ACCOUNT] },
            {
              test: "ArnLike",
              variable: "aws:SourceArn",
              values: [`arn:aws:states:us-west-2:${ACCOUNT}:stateMachine:shop-test-dr-operation`],
            },
          ],
        },
      ]);
    });
  });

  describe("HTTP API", () => {
    it("is an HTTP API in the secondary region whose four routes all require SigV4", () => {
      expect(resourceAt(json, "aws_apigatewayv2_api", "http-api/api")).toMatchObject({
        provider: "aws.secondary",
        name: "shop-test-dr-operations",
        protocol_type: "HTTP",
      });
      const routes = listResources(json, "aws_apigatewayv2_route");
      expect(routes.map((route) => route.route_key).sort()).toEqual([
        "GET /operations/{id}",
        "GET /status",
        "POST /failback",
        "POST /failover",
      ]);
      const integration = reference(
        json,
        "aws_apigatewayv2_integration",
        "http-api/integration",
        "id",
      );
      for (const route of routes) {
        expect(route).toMatchObject({
          authorization_type: "AWS_IAM",
          target: `integrations/${integration}`,
        });
      }
    });

    it("proxies to operations-api with payload format 2.0", () => {
      expect(
        resourceAt(json, "aws_apigatewayv2_integration", "http-api/integration"),
      ).toMatchObject({
        integration_type: "AWS_PROXY",
        integration_method: "POST",
        integration_uri: reference(
          json,
          "aws_lambda_function",
          "function-operations-api/function",
          "invoke_arn",
        ),
        payload_format_version: "2.0",
      });
    });

    it("throttles every route and writes JSON access logs naming the caller to an encrypted log group", () => {
      const logGroup = resourceAt(json, "aws_cloudwatch_log_group", "http-api/access-logs");
      expect(logGroup).toMatchObject({
        name: "/aws/vendedlogs/apigateway/shop-test-dr-operations",
        retention_in_days: 90,
        kms_key_id: KEY,
      });
      const stage = resourceAt(json, "aws_apigatewayv2_stage", "http-api/stage");
      expect(stage).toMatchObject({
        name: "$default",
        auto_deploy: true,
        default_route_settings: { throttling_burst_limit: 10, throttling_rate_limit: 5 },
        access_log_settings: {
          destination_arn: reference(
            json,
            "aws_cloudwatch_log_group",
            "http-api/access-logs",
            "arn",
          ),
          format: ACCESS_LOG_FORMAT,
        },
      });
      expect(JSON.parse(ACCESS_LOG_FORMAT)).toMatchObject({
        requestId: "$context.requestId",
        caller: "$context.identity.userArn",
        routeKey: "$context.routeKey",
        status: "$context.status",
      });
    });

    it("takes the throttle from apiThrottle", () => {
      const { json: custom } = synthAutomation({
        apiThrottle: { burstLimit: 4, rateLimitPerSecond: 1 },
      });
      expect(
        resourceAt(custom, "aws_apigatewayv2_stage", "http-api/stage").default_route_settings,
      ).toMatchObject({
        throttling_burst_limit: 4,
        throttling_rate_limit: 1,
      });
    });

    it("lets API Gateway invoke operations-api for its own routes only", () => {
      const executionArn = reference(json, "aws_apigatewayv2_api", "http-api/api", "execution_arn");
      const permissions = listResources(json, "aws_lambda_permission").filter(
        (permission) => permission.principal === "apigateway.amazonaws.com",
      );
      expect(permissions.map((p) => p.source_arn).sort()).toEqual(
        ["GET/operations/*", "GET/status", "POST/failback", "POST/failover"].map(
          (route) => `${executionArn}/*/${route}`,
        ),
      );
      for (const permission of permissions) {
        expect(permission).toMatchObject({
          action: "lambda:InvokeFunction",
          function_name: reference(
            json,
            "aws_lambda_function",
            "function-operations-api/function",
            "function_name",
          ),
        });
      }
    });

    it("exposes the URLs the stack outputs and the ARNs operators are granted", () => {
      const endpoint = reference(json, "aws_apigatewayv2_api", "http-api/api", "api_endpoint");
      const executionArn = reference(json, "aws_apigatewayv2_api", "http-api/api", "execution_arn");
      expect(attribute("failover_api_url")).toBe(`${endpoint}/failover`);
      expect(attribute("failback_api_url")).toBe(`${endpoint}/failback`);
      expect(attribute("status_api_url")).toBe(`${endpoint}/status`);
      expect(attribute("failover_invoke_arn")).toBe(`${executionArn}/$default/POST/failover`);
      expect(attribute("operation_invoke_arn")).toBe(`${executionArn}/$default/GET/operations/*`);
    });
  });

  describe("detection", () => {
    it("runs probe-primary every minute from a schedule rule in the automation region, retrying only within its minute", () => {
      const rule = resourceAt(json, "aws_cloudwatch_event_rule", "detection/probe-rule");
      expect(rule).toMatchObject({
        provider: "aws.secondary",
        name: "shop-test-dr-probe-primary",
        schedule_expression: "rate(1 minute)",
        state: "ENABLED",
      });
      expect(rule.event_pattern).toBeUndefined();
      expect(resourceAt(json, "aws_cloudwatch_event_target", "detection/probe-target")).toEqual(
        expect.objectContaining({
          provider: "aws.secondary",
          rule: reference(json, "aws_cloudwatch_event_rule", "detection/probe-rule", "name"),
          arn: reference(json, "aws_lambda_function", "function-probe-primary/function", "arn"),
          retry_policy: { maximum_event_age_in_seconds: 60, maximum_retry_attempts: 2 },
        }),
      );
      expect(resourceAt(json, "aws_lambda_permission", "detection/probe-invoke")).toMatchObject({
        provider: "aws.secondary",
        action: "lambda:InvokeFunction",
        function_name: reference(
          json,
          "aws_lambda_function",
          "function-probe-primary/function",
          "function_name",
        ),
        principal: "events.amazonaws.com",
        source_arn: reference(json, "aws_cloudwatch_event_rule", "detection/probe-rule", "arn"),
        source_account: ACCOUNT,
      });
      expect(automation.probeRuleName).toBe("shop-test-dr-probe-primary");
    });

    it("raises the primary-down alarm in the automation region after alarmMinutes of down verdicts, never on missing data", () => {
      expect(
        resourceAt(json, "aws_cloudwatch_metric_alarm", "detection/primary-down-alarm"),
      ).toMatchObject({
        provider: "aws.secondary",
        alarm_name: "shop-test-dr-primary-down",
        namespace: "ShopSmart/DR",
        metric_name: "PrimaryDown",
        dimensions: { Environment: "shop-test" },
        statistic: "Maximum",
        period: 60,
        evaluation_periods: 2,
        datapoints_to_alarm: 2,
        comparison_operator: "GreaterThanOrEqualToThreshold",
        threshold: 1,
        treat_missing_data: "notBreaching",
        alarm_actions: [TOPIC],
        ok_actions: [TOPIC],
      });
      expect(automation.primaryDownAlarmName).toBe("shop-test-dr-primary-down");
    });

    it("pages when probe-primary falls silent for five minutes", () => {
      expect(
        resourceAt(json, "aws_cloudwatch_metric_alarm", "detection/probe-missing-alarm"),
      ).toMatchObject({
        provider: "aws.secondary",
        alarm_name: "shop-test-dr-probe-missing",
        namespace: "ShopSmart/DR",
        metric_name: "PrimaryDown",
        dimensions: { Environment: "shop-test" },
        statistic: "SampleCount",
        period: 60,
        evaluation_periods: 5,
        datapoints_to_alarm: 5,
        comparison_operator: "LessThanThreshold",
        threshold: 1,
        treat_missing_data: "breaching",
        alarm_actions: [TOPIC],
      });
    });

    it("takes the damping from automaticFailover.alarmMinutes, 3 minutes by default", () => {
      const alarmOf = (automaticFailover: AutomationProps["automaticFailover"]) =>
        resourceAt(
          synthAutomation({ automaticFailover }).json,
          "aws_cloudwatch_metric_alarm",
          "detection/primary-down-alarm",
        );
      expect(alarmOf({ enabled: true })).toMatchObject({
        evaluation_periods: 3,
        datapoints_to_alarm: 3,
      });
      expect(alarmOf({ enabled: false, alarmMinutes: 5 })).toMatchObject({
        evaluation_periods: 5,
        datapoints_to_alarm: 5,
      });
    });
  });

  describe("automatic failover", () => {
    const pattern = {
      source: ["aws.cloudwatch"],
      "detail-type": ["CloudWatch Alarm State Change"],
      detail: { alarmName: ["shop-test-dr-primary-down"], state: { value: ["ALARM"] } },
    };

    it("starts auto-failover from one rule on the primary-down alarm, on the automation region's default bus", () => {
      const rule = resourceAt(json, "aws_cloudwatch_event_rule", "automatic-failover/rule");
      expect(rule).toMatchObject({
        provider: "aws.secondary",
        name: "shop-test-dr-auto-failover",
        state: "ENABLED",
      });
      expect(rule.event_bus_name).toBeUndefined();
      expect(JSON.parse(rule.event_pattern as string)).toEqual(pattern);
      const functionArn = reference(
        json,
        "aws_lambda_function",
        "function-auto-failover/function",
        "arn",
      );
      expect(
        resourceAt(json, "aws_cloudwatch_event_target", "automatic-failover/target"),
      ).toMatchObject({
        provider: "aws.secondary",
        arn: functionArn,
      });
      expect(resourceAt(json, "aws_lambda_permission", "automatic-failover/invoke")).toMatchObject({
        principal: "events.amazonaws.com",
        source_arn: reference(json, "aws_cloudwatch_event_rule", "automatic-failover/rule", "arn"),
        source_account: ACCOUNT,
      });
      expect(automation.autoFailoverRuleName).toBe("shop-test-dr-auto-failover");
    });

    it("creates every resource of the construct in the automation region: no forwarding, nothing in us-east-1", () => {
      const elsewhere = Object.entries(json.resource).flatMap(([type, byName]) =>
        Object.entries(byName)
          .filter(([, resource]) => resource.provider !== "aws.secondary")
          .map(([name]) => `${type}.${name}`),
      );
      expect(elsewhere).toEqual([]);
      expect(listResources(json, "aws_cloudwatch_event_rule").map((rule) => rule.name)).toEqual([
        "shop-test-dr-probe-primary",
        "shop-test-dr-auto-failover",
        "shop-test-dr-auto-failover-resume",
      ]);
      expect(listResources(json, "aws_iam_role").map((role) => role.name)).not.toContain(
        "shop-test-dr-auto-failover-forward",
      );
    });

    it("starts a deferred trigger when an execution of the workflow ends (the resume rule)", () => {
      const rule = resourceAt(json, "aws_cloudwatch_event_rule", "automatic-failover/resume-rule");
      expect(rule).toMatchObject({
        provider: "aws.secondary",
        name: "shop-test-dr-auto-failover-resume",
      });
      expect(JSON.parse(rule.event_pattern as string)).toEqual({
        source: ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        detail: {
          stateMachineArn: [
            `arn:aws:states:us-west-2:${ACCOUNT}:stateMachine:shop-test-dr-operation`,
          ],
          status: ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"],
        },
      });
      expect(
        resourceAt(json, "aws_cloudwatch_event_target", "automatic-failover/resume-target"),
      ).toMatchObject({
        arn: reference(json, "aws_lambda_function", "function-auto-failover/function", "arn"),
        retry_policy: { maximum_event_age_in_seconds: 900, maximum_retry_attempts: 12 },
        dead_letter_config: {
          arn: reference(json, "aws_sqs_queue", "automatic-failover/dead-letters/queue", "arn"),
        },
      });
      expect(
        resourceAt(json, "aws_lambda_permission", "automatic-failover/resume-invoke"),
      ).toMatchObject({
        principal: "events.amazonaws.com",
        source_arn: reference(
          json,
          "aws_cloudwatch_event_rule",
          "automatic-failover/resume-rule",
          "arn",
        ),
      });
    });

    it("retries each target for 15 minutes, then parks the event in a dead-letter queue of the automation region that only its rules may fill", () => {
      for (const [target, queue, provider, key, topic, rules] of [
        [
          "automatic-failover/target",
          "automatic-failover/dead-letters",
          "aws.secondary",
          KEY,
          TOPIC,
          [
            reference(json, "aws_cloudwatch_event_rule", "automatic-failover/rule", "arn"),
            `arn:aws:events:us-west-2:${ACCOUNT}:rule/shop-test-dr-auto-failover-resume`,
          ],
        ],
      ] as const) {
        const queueArn = reference(json, "aws_sqs_queue", `${queue}/queue`, "arn");
        expect(resourceAt(json, "aws_cloudwatch_event_target", target), target).toMatchObject({
          retry_policy: { maximum_event_age_in_seconds: 900, maximum_retry_attempts: 12 },
          dead_letter_config: { arn: queueArn },
        });
        expect(resourceAt(json, "aws_sqs_queue", `${queue}/queue`), queue).toMatchObject({
          provider,
          kms_master_key_id: key,
        });
        expect(policyStatements(json, `${queue}/policy-document`)[0], queue).toEqual({
          sid: "AllowRuleDeadLetters",
          principals: [{ type: "Service", identifiers: ["events.amazonaws.com"] }],
          actions: ["sqs:SendMessage"],
          resources: [queueArn],
          condition: [{ test: "ArnEquals", variable: "aws:SourceArn", values: [...rules] }],
        });
        expect(resourceAt(json, "aws_cloudwatch_metric_alarm", `${queue}/alarm`)).toMatchObject({
          provider,
          metric_name: "ApproximateNumberOfMessagesVisible",
          threshold: 0,
          alarm_actions: [topic],
        });
      }
    });

    it("creates no auto-failover rule, permission, function or role when disabled, but keeps the detection", () => {
      const { json: off, automation: manual } = synthAutomation({
        automaticFailover: { enabled: false },
      });
      expect(listResources(off, "aws_cloudwatch_event_rule").map((rule) => rule.name)).toEqual([
        "shop-test-dr-probe-primary",
      ]);
      expect(listResources(off, "aws_cloudwatch_event_target").map((t) => t.target_id)).toEqual([
        "probe-primary",
      ]);
      expect(
        listResources(off, "aws_lambda_permission")
          .filter((p) => p.principal === "events.amazonaws.com")
          .map((p) => p.statement_id),
      ).toEqual(["eventbridge-probe-primary"]);
      expect(listResources(off, "aws_lambda_function").map((f) => f.function_name)).not.toContain(
        "shop-test-dr-auto-failover",
      );
      expect(
        listResources(off, "aws_iam_role")
          .map((r) => r.name)
          .filter((n) => String(n).includes("auto-failover")),
      ).toEqual([]);
      expect(
        listResources(off, "aws_cloudwatch_metric_alarm").map((alarm) => alarm.alarm_name),
      ).toEqual(
        expect.arrayContaining(["shop-test-dr-primary-down", "shop-test-dr-probe-missing"]),
      );
      expect(manual.autoFailoverRuleName).toBeUndefined();
      expect(manual.functionNames["auto-failover"]).toBeUndefined();
      expect(manual.primaryDownAlarmName).toBe("shop-test-dr-primary-down");
    });
  });

  describe("tracing", () => {
    it("traces functions and the state machine, with X-Ray permissions, when enabled", () => {
      const { json: traced } = synthAutomation({ tracingEnabled: true });
      expect(fn(traced, "finish").tracing_config).toEqual({ mode: "Active" });
      expect(
        resourceAt(traced, "aws_sfn_state_machine", "workflow/state-machine").tracing_configuration,
      ).toEqual({
        enabled: true,
      });
      expect(policyStatements(traced, "function-finish/permissions").map((s) => s.sid)).toContain(
        "SendTraces",
      );
      expect(policyStatements(traced, "workflow/permissions").map((s) => s.sid)).toContain(
        "SendTraces",
      );
    });
  });

  describe("validation", () => {
    it("fails with every problem at once: names, regions, sizes, throttle, retention and targets", () => {
      expect(() =>
        stackWithAutomation({
          namePrefix: "Shop_Test",
          accountId: "12345",
          regions: {
            primary: automationRegion("primary"),
            secondary: {
              ...automationRegion("secondary"),
              region: "us-east-2",
              standbyCapacity: { minSize: 2, desiredCapacity: 1, maxSize: 9 },
            },
          },
          parameterPath: "shop/test",
          rpoSeconds: 0,
          apiThrottle: { burstLimit: 0, rateLimitPerSecond: 0 },
          logRetentionDays: 10,
        }),
      ).toThrow(
        "Invalid props for test/automation:\n" +
          '  - namePrefix: got "Shop_Test"; expected at most 40 lower-case letters, digits and hyphens, not starting or ending with a hyphen (role, function and rule names append up to 24 characters)\n' +
          '  - accountId: got "12345"; expected a 12-digit AWS account id\n' +
          '  - regions.secondary.region: got "us-east-2"; expected a region other than regions.primary.region (us-east-2)\n' +
          '  - regions.secondary.region: got "us-east-2"; expected the region of provider (us-west-2): the automation runs in the secondary region\n' +
          '  - regions.secondary.standbyCapacity: got {"minSize":2,"desiredCapacity":1,"maxSize":9}; expected minSize <= desiredCapacity <= maxSize\n' +
          '  - parameterPath: got "shop/test"; expected a literal SSM path starting and ending with "/", e.g. "/shopsmart/prod/" (it scopes the promote step\'s role)\n' +
          "  - rpoSeconds: got 0; expected a literal whole number of seconds >= 1\n" +
          "  - apiThrottle.burstLimit: got 0; expected a whole number of requests from 1 to 5000 (API Gateway's account default)\n" +
          "  - apiThrottle.rateLimitPerSecond: got 0; expected requests per second above 0 and at most 10000 (API Gateway's account default)\n" +
          "  - logRetentionDays: got 10; expected a CloudWatch Logs retention: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653",
      );
    });

    it("fails on a drill poll interval or health path run-drill could not use", () => {
      expect(() =>
        stackWithAutomation({
          drill: {
            enabled: true,
            schedule: "cron(0 6 ? * WED *)",
            holdMinutes: 5,
            pollSeconds: 0.5,
            healthPath: "health",
          },
        }),
      ).toThrow(
        "Invalid props for test/automation:\n" +
          "  - drill.pollSeconds: got 0.5; expected a whole number of seconds >= 1\n" +
          `  - drill.healthPath: got "health"; expected a literal URL path starting with '/' of letters, digits, '_', '.', '/' and '-', at most 255 characters, e.g. /health`,
      );
    });

    it("fails when a handler file does not exist", () => {
      expect(() =>
        stackWithAutomation({
          handlerEntries: { ...FIXTURE_ENTRIES, "flip-dns": "functions/handlers/flip-dnz.ts" },
        }),
      ).toThrow(
        "Invalid props for test/automation:\n" +
          '  - handlerEntries.flip-dns: got "functions/handlers/flip-dnz.ts"; expected an existing handler file, relative to the project root',
      );
    });

    it("reserves no concurrency unless asked (a reservation can fail the apply on a small account), and the asked number on every function", () => {
      expect(
        listResources(json, "aws_lambda_function").map((f) => f.reserved_concurrent_executions),
      ).toEqual(Array(FUNCTION_NAMES.length).fill(undefined));
      const { json: reserved } = synthAutomation({ reservedConcurrency: 5 });
      expect(
        listResources(reserved, "aws_lambda_function").map((f) => f.reserved_concurrent_executions),
      ).toEqual(Array(FUNCTION_NAMES.length).fill(5));
    });

    it("fails on a reserved concurrency Lambda cannot reserve", () => {
      expect(() => stackWithAutomation({ reservedConcurrency: 0 })).toThrow(
        "Invalid props for test/automation:\n" +
          "  - reservedConcurrency: got 0; expected a whole number of executions >= 1, or leave it out for the unreserved pool",
      );
    });

    it("fails on damping, quorum and interval the detection cannot use, naming each field", () => {
      expect(() =>
        stackWithAutomation({
          automaticFailover: {
            enabled: true,
            alarmMinutes: 1441,
            quorum: 4,
            minimumIntervalMinutes: -1,
          },
        }),
      ).toThrow(
        "Invalid props for test/automation:\n" +
          "  - automaticFailover.alarmMinutes: got 1441; expected a whole number of minutes from 1 to 1440 (CloudWatch evaluates at most one day)\n" +
          "  - automaticFailover.quorum: got 4; expected a whole number from 1 to 3, the detection signals (endpoint, database, route53) that must say the primary is down\n" +
          "  - automaticFailover.minimumIntervalMinutes: got -1; expected a whole number of minutes >= 0",
      );
    });
  });
});
