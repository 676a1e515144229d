/**
 * The simulator names every resource as the synthesized stack does: both read the environment
 * file through src/config/load.ts and the names from functions/shared/resource-names.ts, and
 * this proves they agree, for prod and for the seed (primary us-east-1).
 */
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { ListExecutionsCommand, SFNClient } from "@aws-sdk/client-sfn";
import { afterEach, describe, expect, it } from "vitest";
import {
  autoFailoverRuleName,
  clusterIdentifier,
  DATABASE_NAME_PARAMETER,
  DEFAULT_DATABASE_NAME,
  deadLetterQueueName,
  drillReportBucketName,
  endpointHealthAlarmName,
  FUNCTION_NAMES,
  functionName,
  globalClusterIdentifier,
  ledgerTableName,
  primaryDownAlarmName,
  probeMissingAlarmName,
  probeRuleName,
  READER_ENDPOINT_PARAMETER,
  REGION_ROLE_PARAMETER,
  regionNamePrefix,
  resumeRuleName,
  stateMachineName,
  trafficFenceAlarmName,
  webTierName,
  writerEndpointParameterName,
} from "../../functions/shared/resource-names";
import type { AutomationSettings } from "../../functions/shared/settings";
import { loadEnvConfig } from "../../src/config/load";
import type { EnvConfig } from "../../src/config/schema";
import {
  autoFailoverVariableOf,
  DEFAULT_SIMULATED_ENV_FILE,
  handlerNameIn,
  primaryDownAlarmOf,
  RegionPair,
  simulatedSettings,
} from "../../src/simulation";
import { prodStack, seedConfig, seedStack } from "../support/scenario";
import { bindSimulatedAws, type SimulatedAws } from "../support/simulated-aws";
import type { SynthesizedStack } from "../support/synth";

const ROLES = ["primary", "secondary"] as const;
type Resources = SynthesizedStack["resource"][string];

/** Every resource of a type, as [logical id, resource]. */
function resourcesOf(stack: SynthesizedStack, type: string): [string, Resources[string]][] {
  return Object.entries(stack.resource[type] ?? {});
}

/** Names (`attribute`) of every resource of a type, sorted. */
function namesOf(stack: SynthesizedStack, type: string, attribute = "name"): string[] {
  return resourcesOf(stack, type)
    .map(([, resource]) => String(resource[attribute]))
    .sort();
}

/** The region of the provider a resource names (`aws.<alias>`). */
function regionOf(stack: SynthesizedStack, resource: Resources[string]): string {
  const alias = String(resource.provider).replace(/^aws\./, "");
  const provider = (stack.provider?.aws ?? []).find((candidate) => candidate.alias === alias);
  return String(provider?.region);
}

/**
 * The literal a `${<type>.<id>.<attribute>}` reference stands for: the attribute as the stack
 * sets it, when it is a literal.
 */
function referenced(stack: SynthesizedStack, reference: string): string {
  const match = /^\$\{(aws_[a-z0-9_]+)\.([^.]+)\.([a-z_]+)\}$/.exec(reference);
  if (!match) throw new Error(`not a resource reference: ${reference}`);
  const [, type = "", id = "", attribute = ""] = match;
  const value = stack.resource[type]?.[id]?.[attribute];
  if (typeof value !== "string" || value.includes("${")) {
    throw new Error(`${type}.${id}.${attribute} is not a literal: ${String(value)}`);
  }
  return value;
}

/** The SHOPSMART_DR_SETTINGS every synthesized function gets (one value for all). */
function synthesizedSettings(stack: SynthesizedStack): AutomationSettings {
  const values = new Set(
    resourcesOf(stack, "aws_lambda_function").map(([, resource]) => {
      const environment = resource.environment as { variables: Record<string, string> };
      return environment.variables.SHOPSMART_DR_SETTINGS;
    }),
  );
  expect(values.size).toBe(1);
  // A Terraform expression may quote inside the JSON string (`${join(",", ...)}`).
  const json = ([...values][0] ?? "").replace(/\$\{[^}]*\}/g, (expression) =>
    expression.replaceAll('"', '\\"'),
  );
  return JSON.parse(json) as AutomationSettings;
}

/** An ARN of the stack with the simulator's account for the caller-identity reference. */
function withSimulatedAccount(arn: string): string {
  return arn.replace(/\$\{data\.aws_caller_identity\.[^}]+\}/, "123456789012");
}

/** Every leaf of a JSON value, by dotted path. */
function leaves(value: unknown, path = ""): [string, unknown][] {
  if (typeof value !== "object" || value === null) return [[path, value]];
  return Object.entries(value).flatMap(([key, child]) =>
    leaves(child, path ? `${path}.${key}` : key),
  );
}

const environments: [string, () => SynthesizedStack, () => EnvConfig][] = [
  ["prod", prodStack, () => loadEnvConfig(DEFAULT_SIMULATED_ENV_FILE)],
  ["seed", seedStack, seedConfig],
];

let aws: SimulatedAws | undefined;
afterEach(() => {
  aws?.restore();
  aws = undefined;
});

describe.each(environments)("the simulated %s environment", (_name, stackOf, configOf) => {
  const settings = () => simulatedSettings({ config: configOf() });
  const prefix = () => settings().namePrefix;

  it("sets every setting the stack sets to a literal to the same value", () => {
    const simulated = new Map(leaves(settings()));
    const literal = leaves(synthesizedSettings(stackOf())).filter(
      ([, value]) => !String(value).includes("${"),
    );
    expect(literal.length).toBeGreaterThan(20);
    for (const [path, value] of literal) expect([path, simulated.get(path)]).toEqual([path, value]);
  });

  it("names the ledger table, the global cluster, the clusters and the Auto Scaling groups as the resources the stack's settings reference", () => {
    const stack = stackOf();
    const synthesized = synthesizedSettings(stack);
    const simulated = settings();
    expect(simulated.ledgerTableName).toBe(referenced(stack, synthesized.ledgerTableName));
    expect(simulated.ledgerTableName).toBe(ledgerTableName(prefix()));
    expect(simulated.globalClusterIdentifier).toBe(
      referenced(stack, synthesized.globalClusterIdentifier),
    );
    expect(simulated.globalClusterIdentifier).toBe(globalClusterIdentifier(prefix()));
    for (const role of ROLES) {
      const region = synthesized.regions[role];
      expect(simulated.regions[role].clusterIdentifier).toBe(
        referenced(stack, region.clusterIdentifier),
      );
      expect(simulated.regions[role].clusterIdentifier).toBe(clusterIdentifier(prefix(), role));
      expect(simulated.regions[role].autoScalingGroupName).toBe(
        referenced(stack, region.autoScalingGroupName),
      );
      expect(simulated.regions[role].autoScalingGroupName).toBe(
        webTierName(regionNamePrefix(prefix(), role)),
      );
    }
  });

  it("publishes to the stack's secondary alert topic", () => {
    const stack = stackOf();
    const topic = /^\$\{aws_sns_topic\.([^.]+)\.arn\}$/.exec(synthesizedSettings(stack).topicArn);
    const resource = stack.resource.aws_sns_topic?.[topic?.[1] ?? ""];
    const simulated = settings().topicArn.split(":");
    expect(simulated.slice(3, 4)).toEqual([regionOf(stack, resource ?? {})]);
    expect(simulated.at(-1)).toBe(resource?.name);
  });

  it("runs the stack's failover state machine, one of the two the names module names", () => {
    const stack = stackOf();
    const synthesized = synthesizedSettings(stack);
    expect(settings().stateMachineArn).toBe(withSimulatedAccount(synthesized.stateMachineArn));
    const workflow = resourcesOf(stack, "aws_sfn_state_machine").find(([id]) =>
      id.startsWith("automation_workflow_"),
    );
    expect(settings().stateMachineArn.split(":").at(-1)).toBe(workflow?.[1].name);
    expect(namesOf(stack, "aws_sfn_state_machine")).toEqual(
      [stateMachineName(prefix(), "drill"), stateMachineName(prefix(), "operation")].sort(),
    );
  });

  it("names every function as the stack deploys it", () => {
    const stack = stackOf();
    const deployed = namesOf(stack, "aws_lambda_function", "function_name");
    const automatic = configOf().automaticFailover.enabled;
    expect(deployed).toEqual(
      FUNCTION_NAMES.filter((fn) => automatic || fn !== "auto-failover")
        .map((fn) => functionName(prefix(), fn))
        .sort(),
    );
    const simulated = settings();
    expect(deployed).toContain(simulated.readTopologyFunctionName);
    expect(deployed).toContain(simulated.readTrafficFunctionName);
    expect(handlerNameIn(simulated.readTopologyFunctionName)).toBe("read-topology");
    expect(handlerNameIn(simulated.readTrafficFunctionName)).toBe("read-traffic");
  });

  it("finds the stack's DR alarms under the names module's names", () => {
    const stack = stackOf();
    const alarms = namesOf(stack, "aws_cloudwatch_metric_alarm", "alarm_name");
    const expected = [
      primaryDownAlarmName(prefix()),
      probeMissingAlarmName(prefix()),
      ...ROLES.map((role) => trafficFenceAlarmName(prefix(), role)),
      ...ROLES.map((role) => endpointHealthAlarmName(prefix(), role)),
    ];
    for (const name of expected) expect(alarms).toContain(name);
    const secondary = settings().regions.secondary.region;
    expect(primaryDownAlarmOf(stack, secondary).alarmName).toBe(primaryDownAlarmName(prefix()));
    const variable = autoFailoverVariableOf(stack);
    if (variable !== undefined) {
      expect(JSON.parse(variable)).toMatchObject({
        alarmName: primaryDownAlarmName(prefix()),
        alarmRegion: secondary,
      });
    }
  });

  it("seeds the writer-endpoint parameter the stack creates in each region", () => {
    const stack = stackOf();
    const simulated = settings();
    const name = writerEndpointParameterName(simulated.parameterPath);
    const parameters = resourcesOf(stack, "aws_ssm_parameter").filter(
      ([, resource]) => resource.name === name,
    );
    expect(parameters.map(([, resource]) => regionOf(stack, resource)).sort()).toEqual(
      ROLES.map((role) => simulated.regions[role].region).sort(),
    );
    const pair = new RegionPair({ settings: simulated });
    for (const role of ROLES) {
      expect(pair.ssm.value(simulated.regions[role].region, name)).toBe(
        pair.rds.globalWriterEndpoint,
      );
    }
  });

  it("names the EventBridge rules, the dead-letter queues and the drill report bucket as the names module does", () => {
    const stack = stackOf();
    const automatic = configOf().automaticFailover.enabled;
    const rules = automatic
      ? [probeRuleName(prefix()), autoFailoverRuleName(prefix()), resumeRuleName(prefix())]
      : [probeRuleName(prefix())];
    expect(namesOf(stack, "aws_cloudwatch_event_rule")).toEqual(rules.sort());
    const drill = stateMachineName(prefix(), "drill");
    expect(namesOf(stack, "aws_scheduler_schedule")).toEqual([drill]);
    const queues = [deadLetterQueueName(drill)];
    if (automatic) queues.push(deadLetterQueueName(autoFailoverRuleName(prefix())));
    expect(namesOf(stack, "aws_sqs_queue")).toEqual(queues.sort());
    expect(namesOf(stack, "aws_s3_bucket", "bucket").map(withSimulatedAccount)).toContain(
      drillReportBucketName(prefix(), "123456789012"),
    );
  });

  it("seeds the reader-endpoint, database-name and region-role parameters the stack creates in each region", () => {
    const stack = stackOf();
    const simulated = settings();
    const pair = new RegionPair({ settings: simulated });
    const path = simulated.parameterPath;
    for (const relative of [
      READER_ENDPOINT_PARAMETER,
      DATABASE_NAME_PARAMETER,
      REGION_ROLE_PARAMETER,
    ]) {
      const name = `${path}${relative}`;
      const parameters = resourcesOf(stack, "aws_ssm_parameter").filter(
        ([, resource]) => resource.name === name,
      );
      expect(parameters.map(([, resource]) => regionOf(stack, resource)).sort()).toEqual(
        ROLES.map((role) => simulated.regions[role].region).sort(),
      );
      for (const [, resource] of parameters) {
        const region = regionOf(stack, resource);
        const value = pair.ssm.value(region, name);
        expect(value).toBeDefined();
        // Where the stack writes a literal, the simulator seeds the same.
        if (!String(resource.value).includes("${")) expect(value).toBe(resource.value);
      }
    }
    for (const role of ROLES) {
      const region = simulated.regions[role].region;
      expect(pair.ssm.value(region, `${path}${DATABASE_NAME_PARAMETER}`)).toBe(
        DEFAULT_DATABASE_NAME,
      );
      expect(pair.ssm.value(region, `${path}${REGION_ROLE_PARAMETER}`)).toBe(role);
      expect(pair.ssm.value(region, `${path}${READER_ENDPOINT_PARAMETER}`)).toBe(
        pair.rds.cluster(role).readerEndpoint,
      );
    }
  });

  it("answers for the synthesized ledger table and state machine through the SDK", async () => {
    const stack = stackOf();
    const synthesized = synthesizedSettings(stack);
    const pair = new RegionPair({ settings: settings() });
    aws = bindSimulatedAws(pair);
    const region = pair.settings.regions.secondary.region;
    await expect(
      new DynamoDBClient({ region }).send(
        new GetItemCommand({
          TableName: referenced(stack, synthesized.ledgerTableName),
          Key: { pk: { S: "LOCK" } },
        }),
      ),
    ).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } });
    await expect(
      new SFNClient({ region }).send(
        new ListExecutionsCommand({
          stateMachineArn: withSimulatedAccount(synthesized.stateMachineArn),
        }),
      ),
    ).resolves.toMatchObject({ executions: [] });
  });
});
