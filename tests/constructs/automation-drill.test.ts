import { resolve } from "node:path";
import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { parseDrillSettings } from "../../functions/shared/drill-settings";
import { LOG_RETENTION_DAYS_EXPECTED } from "../../src/aws-formats";
import { loadEnvConfigs } from "../../src/config/load";
import {
  DrillAutomation,
  type DrillAutomationProps,
  drillDefinition,
  EVENTS_PER_ADVANCE,
  EXECUTION_HISTORY_LIMIT,
  HISTORY_RESERVE,
  MAX_ADVANCES,
} from "../../src/constructs/automation/drill";
import { STEP_RETRY } from "../../src/constructs/automation/state-machine";
import { checkStack } from "../../src/guardrails";
import { EnvironmentStack } from "../../src/stacks/environment-stack";
import { SHIPPED_ENVIRONMENTS } from "../support/shipped-environments";
import {
  policyStatements,
  resourceAt,
  resourcesOf,
  type SynthesizedStack,
  stackWithProviders,
  synth,
} from "../support/synth";

const configs = loadEnvConfigs(resolve(__dirname, "../../envs"));

function synthEnv(environment: string) {
  const config = configs.find((candidate) => candidate.environment === environment);
  if (!config) throw new Error(`no envs/${environment}.json`);
  const stack = new EnvironmentStack(Testing.app(), { config });
  return { config, stack, json: synth(stack) };
}

/** The Terraform address (`type.logicalId`) of the one resource of `type` at `path`. */
function address(json: SynthesizedStack, type: string, path: string): string {
  const [logicalId] = Object.entries(resourcesOf(json, type)).find(([, resource]) =>
    (resource["//"] as { metadata: { path: string } }).metadata.path.endsWith(`/${path}`),
  ) as [string, unknown];
  return `${type}.${logicalId}`;
}

function reference(json: SynthesizedStack, type: string, path: string, attribute: string) {
  return `\${${address(json, type, path)}.${attribute}}`;
}

/** The account id as synthesized: a reference to the secondary provider's caller identity. */
const ACCOUNT = `\${data.aws_caller_identity.account-secondary.account_id}`;

/** DrillAutomation's props in a bare test stack, apart from its provider. */
const BARE_PROPS = {
  region: "us-west-2",
  accountId: "111111111111",
  namePrefix: "shop-test",
  environment: "test",
  functionArn: "arn:aws:lambda:us-west-2:111111111111:function:shop-test-dr-run-drill",
  kmsKeyArn: "arn:aws:kms:us-west-2:111111111111:key/k",
  alertTopicArn: "arn:aws:sns:us-west-2:111111111111:shop-test-alerts",
  scheduleEnabled: false,
  scheduleExpression: "cron(0 6 ? * WED *)",
  holdMinutes: 5,
} satisfies Omit<DrillAutomationProps, "provider">;

describe("the scheduled drill", () => {
  const envs = Object.fromEntries(
    SHIPPED_ENVIRONMENTS.map((environment) => [environment, synthEnv(environment)]),
  );
  const prod = envs.prod as ReturnType<typeof synthEnv>;
  const { json } = prod;
  const key = reference(json, "aws_kms_key", "key-secondary/key", "arn");
  const runDrillArn = reference(
    json,
    "aws_lambda_function",
    "automation/function-run-drill/function",
    "arn",
  );
  const stateMachineArn = `arn:aws:states:us-west-2:${ACCOUNT}:stateMachine:shopsmart-prod-dr-drill`;

  describe("schedule", () => {
    it.each([
      ["dev", "DISABLED"],
      ["staging", "ENABLED"],
      ["prod", "DISABLED"],
    ])("is %s: %s, as envs/<env>.json's drill.enabled says", (environment, state) => {
      const { config, json: envJson } = envs[environment] as ReturnType<typeof synthEnv>;
      expect(config.drill.enabled).toBe(state === "ENABLED");
      expect(resourceAt(envJson, "aws_scheduler_schedule", "drill/schedule")).toMatchObject({
        provider: "aws.secondary",
        name: `shopsmart-${environment}-dr-drill`,
        group_name: "default",
        state,
        schedule_expression: config.drill.schedule,
        schedule_expression_timezone: "UTC",
        flexible_time_window: { mode: "OFF" },
        target: { input: JSON.stringify({ holdMinutes: config.drill.holdMinutes }) },
      });
    });

    it("starts the drill state machine with its own role, the automation key, a retry policy and a dead-letter queue", () => {
      expect(resourceAt(json, "aws_scheduler_schedule", "drill/schedule")).toMatchObject({
        schedule_expression: "cron(0 6 ? * TUE *)",
        kms_key_arn: key,
        target: {
          arn: reference(json, "aws_sfn_state_machine", "drill/state-machine", "arn"),
          role_arn: reference(json, "aws_iam_role", "drill/schedule-role", "arn"),
          input: '{"holdMinutes":10}',
          retry_policy: { maximum_event_age_in_seconds: 900, maximum_retry_attempts: 5 },
        },
        depends_on: [address(json, "aws_iam_role_policy", "drill/schedule-policy")],
      });
      expect(resourceAt(json, "aws_scheduler_schedule", "drill/schedule").target).toMatchObject({
        dead_letter_config: {
          arn: reference(json, "aws_sqs_queue", "drill/schedule-dead-letters/queue", "arn"),
        },
      });
    });

    it("parks a start Scheduler gave up on in an encrypted queue the schedule's role may send to, and pages on it", () => {
      const queueArn = reference(json, "aws_sqs_queue", "drill/schedule-dead-letters/queue", "arn");
      expect(resourceAt(json, "aws_sqs_queue", "drill/schedule-dead-letters/queue")).toMatchObject({
        name: "shopsmart-prod-dr-drill-dlq",
        kms_master_key_id: key,
        message_retention_seconds: 1_209_600,
      });
      expect(policyStatements(json, "drill/schedule-permissions").slice(-2)).toEqual([
        { sid: "SendDeadLetters", actions: ["sqs:SendMessage"], resources: [queueArn] },
        {
          sid: "EncryptDeadLetters",
          actions: ["kms:GenerateDataKey", "kms:Decrypt"],
          resources: [key],
        },
      ]);
      expect(
        resourceAt(json, "aws_cloudwatch_metric_alarm", "drill/schedule-dead-letters/alarm"),
      ).toMatchObject({
        alarm_name: "shopsmart-prod-dr-drill-dlq",
        namespace: "AWS/SQS",
        metric_name: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: "shopsmart-prod-dr-drill-dlq" },
        comparison_operator: "GreaterThanThreshold",
        threshold: 0,
        treat_missing_data: "notBreaching",
        alarm_actions: [expect.stringContaining("aws_sns_topic.monitoring_secondary-alerts")],
      });
    });

    it("lets only this account's default schedule group assume its role, which may only start the drill and park what fails", () => {
      expect(policyStatements(json, "drill/schedule-trust")).toEqual([
        {
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["scheduler.amazonaws.com"] }],
          condition: [
            { test: "StringEquals", variable: "aws:SourceAccount", values: [ACCOUNT] },
            {
              test: "ArnEquals",
              variable: "aws:SourceArn",
              values: [`arn:aws:scheduler:us-west-2:${ACCOUNT}:schedule-group/default`],
            },
          ],
        },
      ]);
      expect(policyStatements(json, "drill/schedule-permissions").slice(0, 3)).toEqual([
        { sid: "StartDrill", actions: ["states:StartExecution"], resources: [stateMachineArn] },
        {
          sid: "UseStateMachineKey",
          actions: ["kms:Decrypt", "kms:GenerateDataKey"],
          resources: [key],
          condition: [
            {
              test: "StringEquals",
              variable: "kms:EncryptionContext:aws:states:stateMachineArn",
              values: [stateMachineArn],
            },
          ],
        },
        {
          sid: "DecryptSchedule",
          actions: ["kms:Decrypt"],
          resources: [key],
          condition: [
            {
              test: "StringEquals",
              variable: "kms:EncryptionContext:aws:scheduler:schedule-arn",
              values: [
                `arn:aws:scheduler:us-west-2:${ACCOUNT}:schedule/default/shopsmart-prod-dr-drill`,
              ],
            },
          ],
        },
      ]);
      expect(resourceAt(json, "aws_iam_role", "drill/schedule-role")).toMatchObject({
        name: "shopsmart-prod-dr-drill-schedule",
      });
    });
  });

  describe("state machine", () => {
    const machine = resourceAt(json, "aws_sfn_state_machine", "drill/state-machine");

    it("is a STANDARD workflow in the secondary region, logged, encrypted with the automation key", () => {
      expect(machine).toMatchObject({
        provider: "aws.secondary",
        name: "shopsmart-prod-dr-drill",
        type: "STANDARD",
        role_arn: reference(json, "aws_iam_role", "drill/role", "arn"),
        logging_configuration: {
          level: "ALL",
          include_execution_data: false,
          log_destination: `${reference(json, "aws_cloudwatch_log_group", "drill/log-group", "arn")}:*`,
        },
        tracing_configuration: { enabled: false },
        encryption_configuration: {
          type: "CUSTOMER_MANAGED_KMS_KEY",
          kms_key_id: key,
          kms_data_key_reuse_period_seconds: 300,
        },
      });
      expect(resourceAt(json, "aws_cloudwatch_log_group", "drill/log-group")).toMatchObject({
        name: "/aws/vendedlogs/states/shopsmart-prod-dr-drill",
        retention_in_days: 90,
        kms_key_id: key,
      });
    });

    it("loops start -> (wait -> advance)* -> report -> verdict, every task on run-drill", () => {
      const definition = JSON.parse(machine.definition as string);
      expect(definition).toEqual(drillDefinition(runDrillArn));
      const { States } = definition;
      expect(States.Start).toMatchObject({
        Type: "Task",
        Resource: runDrillArn,
        Parameters: { action: "start", "input.$": "$" },
        Retry: [STEP_RETRY],
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "StartFailed" }],
        Next: "Done?",
      });
      expect(States["Done?"]).toEqual({
        Type: "Choice",
        Choices: [
          { Variable: "$.done", BooleanEquals: true, Next: "Report" },
          { Variable: "$.advances", NumericGreaterThanEquals: 2500, Next: "PollLimit" },
        ],
        Default: "Wait",
      });
      expect(States.Wait).toEqual({ Type: "Wait", SecondsPath: "$.waitSeconds", Next: "Advance" });
      expect(States.Advance).toMatchObject({
        Parameters: { action: "advance", "drill.$": "$.drill", "advances.$": "$.advances" },
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "Report" }],
        Next: "Done?",
      });
      expect(States.Report).toMatchObject({
        Resource: runDrillArn,
        Parameters: { action: "report", "drill.$": "$.drill", "error.$": "$.error" },
        Next: "Passed?",
      });
      expect(States["Passed?"]).toEqual({
        Type: "Choice",
        Choices: [
          { Variable: "$.verdict", StringEquals: "passed", Next: "Passed" },
          { Variable: "$.verdict", StringEquals: "missed-target", Next: "MissedTarget" },
        ],
        Default: "Failed",
      });
      expect(States.Passed).toEqual({ Type: "Succeed" });
      expect(States.MissedTarget).toEqual({
        Type: "Fail",
        Error: "DrillMissedTarget",
        CausePath: "$.summary",
      });
      expect(States.Failed).toEqual({ Type: "Fail", Error: "DrillFailed", CausePath: "$.summary" });
      // The retrier covers the Lambda service's own transient errors.
      expect(STEP_RETRY.ErrorEquals).toEqual(
        expect.arrayContaining(["Lambda.ServiceException", "Lambda.TooManyRequestsException"]),
      );
    });

    it("stops polling with a report before the 25,000-event execution history is full", () => {
      expect(MAX_ADVANCES).toBe(2500);
      expect(MAX_ADVANCES * EVENTS_PER_ADVANCE + HISTORY_RESERVE).toBeLessThanOrEqual(
        EXECUTION_HISTORY_LIMIT,
      );
      // The longest drill the driver allows (two attempts of 30 minutes per switch, two 5-minute
      // verifications, polled every 10 s; the hold is one Wait) fits three times over.
      const longestDrillPolls = ((2 * 1800 + 300) * 2) / 10 + 1;
      expect(longestDrillPolls * 3).toBeLessThan(MAX_ADVANCES);
    });

    it("may invoke run-drill and deliver its logs, and only this state machine assumes its role", () => {
      expect(policyStatements(json, "automation/drill/trust")).toEqual([
        {
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["states.amazonaws.com"] }],
          condition: [
            { test: "StringEquals", variable: "aws:SourceAccount", values: [ACCOUNT] },
            { test: "ArnLike", variable: "aws:SourceArn", values: [stateMachineArn] },
          ],
        },
      ]);
      const statements = policyStatements(json, "automation/drill/permissions");
      expect(statements.map((statement) => statement.sid)).toEqual([
        "InvokeRunDrill",
        "DeliverLogs",
        "UseStateMachineKey",
        "EncryptDeliveredLogs",
      ]);
      expect(statements[0]).toEqual({
        sid: "InvokeRunDrill",
        actions: ["lambda:InvokeFunction"],
        resources: [runDrillArn, `${runDrillArn}:*`],
      });
    });
  });

  describe("run-drill", () => {
    const fn = resourceAt(json, "aws_lambda_function", "automation/function-run-drill/function");

    it("is deployed in every environment, with 120 s and the drill settings", () => {
      for (const environment of SHIPPED_ENVIRONMENTS) {
        const envJson = (envs[environment] as ReturnType<typeof synthEnv>).json;
        expect(
          resourceAt(envJson, "aws_lambda_function", "automation/function-run-drill/function"),
        ).toMatchObject({ function_name: `shopsmart-${environment}-dr-run-drill`, timeout: 120 });
      }
      const { variables } = fn.environment as { variables: Record<string, string> };
      // Terraform fills the references in at apply time; stand in realistic values to parse.
      const settings = (variables.SHOPSMART_DR_DRILL as string)
        .replace(ACCOUNT, "111122223333")
        .replace(key, "arn:aws:kms:us-west-2:111122223333:key/secondary");
      expect(parseDrillSettings(settings)).toEqual({
        reportBucket: "shopsmart-prod-drills-111122223333",
        reportKmsKeyArn: "arn:aws:kms:us-west-2:111122223333:key/secondary",
        appUrl: "https://shop.example.com/",
        healthPath: "/health",
        metricNamespace: "ShopSmart/DR",
        holdMinutes: 10,
        pollSeconds: 10,
      });
      expect(variables.SHOPSMART_DR_SETTINGS).toContain('"environment":"prod"');
    });

    it("may call the API's routes, write reports, use the key through S3 and SNS, and put ShopSmart/DR metrics", () => {
      const routes = Object.values(resourcesOf(json, "aws_apigatewayv2_route")).map(
        (route) => route.route_key as string,
      );
      expect(routes.sort()).toEqual([
        "GET /operations/{id}",
        "GET /status",
        "POST /failback",
        "POST /failover",
      ]);
      const statements = policyStatements(json, "automation/function-run-drill/permissions");
      const bySid = Object.fromEntries(statements.map((statement) => [statement.sid, statement]));
      expect(bySid.InvokeOperationsApi?.actions).toEqual(["execute-api:Invoke"]);
      expect(bySid.InvokeOperationsApi?.resources).toHaveLength(4);
      for (const arn of bySid.InvokeOperationsApi?.resources ?? []) {
        expect(arn).toMatch(
          /^\$\{aws_apigatewayv2_api\..+\.execution_arn\}\/\$default\/(GET|POST)\/.+$/,
        );
      }
      expect(bySid.WriteReports).toEqual({
        sid: "WriteReports",
        actions: ["s3:PutObject"],
        resources: [`arn:aws:s3:::shopsmart-prod-drills-${ACCOUNT}/drills/prod/*`],
      });
      expect(bySid.UseReportKeyThroughS3).toEqual({
        sid: "UseReportKeyThroughS3",
        actions: ["kms:GenerateDataKey"],
        resources: [key],
        condition: [
          {
            test: "StringEquals",
            variable: "kms:ViaService",
            values: ["s3.us-west-2.amazonaws.com"],
          },
          {
            test: "StringLike",
            variable: "kms:EncryptionContext:aws:s3:arn",
            values: [
              `arn:aws:s3:::shopsmart-prod-drills-${ACCOUNT}`,
              `arn:aws:s3:::shopsmart-prod-drills-${ACCOUNT}/drills/prod/*`,
            ],
          },
        ],
      });
      expect(bySid.PublishDrillMetrics).toEqual({
        sid: "PublishDrillMetrics",
        actions: ["cloudwatch:PutMetricData"],
        resources: ["*"],
        condition: [
          { test: "StringEquals", variable: "cloudwatch:namespace", values: ["ShopSmart/DR"] },
        ],
      });
      expect(bySid.Notify?.resources).toEqual([
        reference(json, "aws_sns_topic", "monitoring/secondary-alerts/topic", "arn"),
      ]);
    });
  });

  describe("report bucket", () => {
    it("is KMS-encrypted, versioned, private, TLS-only and expires reports after a year", () => {
      const bucket = reference(json, "aws_s3_bucket", "drill/reports/bucket", "id");
      expect(resourceAt(json, "aws_s3_bucket", "drill/reports/bucket")).toMatchObject({
        provider: "aws.secondary",
        bucket: `shopsmart-prod-drills-${ACCOUNT}`,
        force_destroy: false,
      });
      expect(
        resourceAt(
          json,
          "aws_s3_bucket_server_side_encryption_configuration",
          "drill/reports/encryption",
        ),
      ).toMatchObject({
        bucket,
        rule: [
          {
            apply_server_side_encryption_by_default: {
              sse_algorithm: "aws:kms",
              kms_master_key_id: key,
            },
            bucket_key_enabled: true,
          },
        ],
      });
      expect(
        resourceAt(json, "aws_s3_bucket_versioning", "drill/reports/versioning"),
      ).toMatchObject({
        versioning_configuration: { status: "Enabled" },
      });
      expect(
        resourceAt(json, "aws_s3_bucket_public_access_block", "drill/reports/public-access-block"),
      ).toMatchObject({
        block_public_acls: true,
        block_public_policy: true,
        ignore_public_acls: true,
        restrict_public_buckets: true,
      });
      expect(policyStatements(json, "drill/reports/policy-document")[0]).toMatchObject({
        sid: "DenyInsecureTransport",
        effect: "Deny",
      });
      const lifecycle = resourceAt(
        json,
        "aws_s3_bucket_lifecycle_configuration",
        "drill/reports/lifecycle",
      );
      expect(lifecycle.rule).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ id: "expire-current-objects", expiration: [{ days: 365 }] }),
          expect.objectContaining({
            id: "expire-noncurrent-versions",
            noncurrent_version_expiration: [{ noncurrent_days: 30 }],
          }),
        ]),
      );
    });
  });

  describe("outputs and guardrails", () => {
    it("outputs the drill state machine's ARN and the report bucket", () => {
      expect(json.output?.drill_state_machine_arn?.value).toBe(
        reference(json, "aws_sfn_state_machine", "drill/state-machine", "arn"),
      );
      expect(json.output?.drill_report_bucket?.value).toBe(
        reference(json, "aws_s3_bucket", "drill/reports/bucket", "bucket"),
      );
    });

    it("passes every guardrail without a suppression", () => {
      for (const environment of SHIPPED_ENVIRONMENTS) {
        const { stack } = envs[environment] as ReturnType<typeof synthEnv>;
        const report = checkStack(stack, { production: environment === "prod" });
        expect(report.violations, environment).toEqual([]);
        const drillPaths = report.suppressed.filter(
          (finding) =>
            finding.constructPath.includes("/automation/drill") ||
            finding.constructPath.includes("function-run-drill"),
        );
        expect(drillPaths, environment).toEqual([]);
      }
    });
  });

  describe("validation", () => {
    function drillWith(overrides: Partial<DrillAutomationProps>) {
      const { stack, providers } = stackWithProviders();
      return () =>
        new DrillAutomation(stack, "drill", {
          provider: providers.secondary,
          ...BARE_PROPS,
          scheduleEnabled: true,
          ...overrides,
        });
    }

    it("builds with valid props", () => {
      expect(drillWith({})).not.toThrow();
    });

    it("fails with every problem at once: schedule, hold, report and log retention", () => {
      expect(
        drillWith({
          scheduleExpression: "rate(7 days)",
          holdMinutes: -1,
          reportRetentionDays: 0,
          logRetentionDays: 8,
        }),
      ).toThrow(
        [
          "Invalid props for test/drill:",
          '  - scheduleExpression: got "rate(7 days)"; expected the form cron(minutes hours day-of-month month day-of-week year)',
          "  - holdMinutes: got -1; expected a literal number of minutes from 0 to 1440",
          "  - reportRetentionDays: got 0; expected a whole number of days >= 1",
          `  - logRetentionDays: got 8; expected ${LOG_RETENTION_DAYS_EXPECTED}`,
        ].join("\n"),
      );
    });
  });
});

/** The construct also works alone in a bare stack (no Automation around it). */
describe("DrillAutomation alone", () => {
  it("alarms to the alert topic when a drill execution fails, and stays quiet between drills", () => {
    const { stack, providers } = stackWithProviders();
    new DrillAutomation(stack, "drill", { provider: providers.secondary, ...BARE_PROPS });
    const alarms = Object.values(synth(stack).resource.aws_cloudwatch_metric_alarm ?? {});
    expect(alarms).toEqual([
      expect.objectContaining({ alarm_name: "shop-test-dr-drill-dlq" }),
      expect.objectContaining({
        alarm_name: "shop-test-dr-drill-failed",
        namespace: "AWS/States",
        metric_name: "ExecutionsFailed",
        dimensions: {
          StateMachineArn: "arn:aws:states:us-west-2:111111111111:stateMachine:shop-test-dr-drill",
        },
        comparison_operator: "GreaterThanOrEqualToThreshold",
        threshold: 1,
        treat_missing_data: "notBreaching",
        alarm_actions: ["arn:aws:sns:us-west-2:111111111111:shop-test-alerts"],
      }),
    ]);
  });

  it("synthesizes a schedule, a state machine and a bucket", () => {
    const { stack, providers } = stackWithProviders();
    new DrillAutomation(stack, "drill", {
      provider: providers.secondary,
      ...BARE_PROPS,
      tracingEnabled: true,
    });
    const json = synth(stack);
    expect(resourceAt(json, "aws_scheduler_schedule", "drill/schedule").state).toBe("DISABLED");
    expect(resourceAt(json, "aws_sfn_state_machine", "drill/state-machine")).toMatchObject({
      tracing_configuration: { enabled: true },
    });
    expect(policyStatements(json, "drill/permissions").map((statement) => statement.sid)).toContain(
      "SendTraces",
    );
  });
});
