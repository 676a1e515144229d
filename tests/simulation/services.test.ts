import { CloudWatchClient, GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { GetParameterCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RegionPair, SimulatedClock, simulatedSettings } from "../../src/simulation";
import { bindSimulatedAws, type SimulatedAws } from "../support/simulated-aws";

const settings = simulatedSettings();
const { primary, secondary } = settings.regions;

let clock: SimulatedClock;
let pair: RegionPair;
let aws: SimulatedAws;

beforeEach(() => {
  clock = new SimulatedClock({ start: Date.UTC(2026, 0, 5, 9, 0, 0) });
  pair = new RegionPair({ settings, clock, replicationLagMs: 1_200 });
  aws = bindSimulatedAws(pair);
});

afterEach(() => aws.restore());

describe("Step Functions", () => {
  const sfn = new SFNClient({ region: secondary.region });
  const start = (name: string, input: string) =>
    sfn.send(new StartExecutionCommand({ stateMachineArn: settings.stateMachineArn, name, input }));

  it("records executions; the same name and input while running is idempotent, anything else ExecutionAlreadyExists", async () => {
    const first = await start("op-20260105T090000Z-abc123", '{"kind":"failover"}');
    expect(first.executionArn).toBe(
      "arn:aws:states:us-west-2:123456789012:execution:shopsmart-prod-dr-operation:op-20260105T090000Z-abc123",
    );
    await expect(start("op-20260105T090000Z-abc123", '{"kind":"failover"}')).resolves.toMatchObject(
      {
        executionArn: first.executionArn,
      },
    );
    await expect(start("op-20260105T090000Z-abc123", '{"kind":"failback"}')).rejects.toMatchObject({
      name: "ExecutionAlreadyExists",
      message: `Execution Already Exists: '${first.executionArn}'`,
    });
    expect(pair.stepFunctions.executions).toHaveLength(1);
    expect(
      (await sfn.send(new DescribeExecutionCommand({ executionArn: first.executionArn }))).status,
    ).toBe("RUNNING");
    const { executions } = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: settings.stateMachineArn }),
    );
    expect(executions?.map((execution) => execution.name)).toEqual(["op-20260105T090000Z-abc123"]);
  });

  it("rejects invalid names and unknown state machines", async () => {
    await expect(start("has space", "{}")).rejects.toMatchObject({ name: "InvalidName" });
    await expect(
      sfn.send(
        new StartExecutionCommand({
          stateMachineArn: `${settings.stateMachineArn}-x`,
          name: "a",
          input: "{}",
        }),
      ),
    ).rejects.toMatchObject({ name: "StateMachineDoesNotExist" });
  });

  it("runs executions through an executor and serves their history", async () => {
    pair.stepFunctions.setExecutor(async (handle) => {
      handle.recordEvent({
        type: "ExecutionStarted",
        executionStartedEventDetails: { input: handle.execution.input },
      });
      await clock.sleep(60_000);
      handle.recordEvent({
        type: "ExecutionSucceeded",
        executionSucceededEventDetails: { output: '"done"' },
      });
      return { status: "SUCCEEDED", output: "done" };
    });
    clock.setAutoAdvance(true);
    const { executionArn } = await start("op-1", "{}");
    await pair.stepFunctions.settled();
    await expect(start("op-1", "{}")).rejects.toMatchObject({ name: "ExecutionAlreadyExists" });
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(described).toMatchObject({ status: "SUCCEEDED", output: '"done"' });
    expect(described.stopDate?.toISOString()).toBe("2026-01-05T09:01:00.000Z");
    const { events } = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, reverseOrder: true }),
    );
    expect(events?.map((event) => [event.id, event.type])).toEqual([
      [2, "ExecutionSucceeded"],
      [1, "ExecutionStarted"],
    ]);
  });
});

describe("SNS", () => {
  const sns = new SNSClient({ region: secondary.region });

  it("records published messages", async () => {
    await sns.send(
      new PublishCommand({
        TopicArn: settings.topicArn,
        Subject: "Failover succeeded",
        Message: "{}",
      }),
    );
    expect(pair.sns.published).toEqual([
      expect.objectContaining({
        topicArn: settings.topicArn,
        subject: "Failover succeeded",
        message: "{}",
        at: clock.now(),
      }),
    ]);
  });

  it("rejects a subject of 100 characters or more, or with a line break, and a topic of another region", async () => {
    await expect(
      sns.send(
        new PublishCommand({ TopicArn: settings.topicArn, Subject: "x".repeat(100), Message: "m" }),
      ),
    ).rejects.toMatchObject({
      name: "InvalidParameterException",
      message: "Invalid parameter: Subject",
    });
    await expect(
      sns.send(
        new PublishCommand({ TopicArn: settings.topicArn, Subject: "two\nlines", Message: "m" }),
      ),
    ).rejects.toMatchObject({ name: "InvalidParameterException" });
    await expect(
      sns.send(
        new PublishCommand({ TopicArn: settings.topicArn, Subject: "x".repeat(99), Message: "m" }),
      ),
    ).resolves.toBeDefined();
    await expect(
      new SNSClient({ region: primary.region }).send(
        new PublishCommand({ TopicArn: settings.topicArn, Message: "m" }),
      ),
    ).rejects.toMatchObject({ name: "NotFoundException", message: "Topic does not exist" });
  });
});

describe("SSM", () => {
  it("holds the app parameters per region; PutParameter needs Overwrite for an existing name", async () => {
    const ssm = new SSMClient({ region: secondary.region });
    const Name = `${settings.parameterPath}db/writer-endpoint`;
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name }));
    expect(Parameter).toMatchObject({ Value: pair.rds.globalWriterEndpoint, Version: 1 });
    await expect(
      ssm.send(new PutParameterCommand({ Name, Value: "x", Type: "String" })),
    ).rejects.toMatchObject({
      name: "ParameterAlreadyExists",
    });
    await expect(
      ssm.send(new PutParameterCommand({ Name, Value: "detached", Overwrite: true })),
    ).resolves.toMatchObject({
      Version: 2,
    });
    expect(pair.snapshot().database.writerEndpointParameter).toEqual({
      primary: pair.rds.globalWriterEndpoint,
      secondary: "detached",
    });
    await expect(ssm.send(new GetParameterCommand({ Name: "/nope" }))).rejects.toMatchObject({
      name: "ParameterNotFound",
    });
  });
});

describe("Lambda", () => {
  it("invokes a registered function; its error comes back as FunctionError Unhandled", async () => {
    pair.registerFunction(settings.readTopologyFunctionName, async (event) => ({ echoed: event }));
    pair.registerFunction(settings.readTrafficFunctionName, async () => {
      throw Object.assign(new Error("boom"), { name: "Retryable.Timeout" });
    });
    const lambda = new LambdaClient({ region: secondary.region });
    const ok = await lambda.send(
      new InvokeCommand({
        FunctionName: settings.readTopologyFunctionName,
        Payload: JSON.stringify({ a: 1 }),
      }),
    );
    expect(ok.StatusCode).toBe(200);
    expect(JSON.parse(Buffer.from(ok.Payload as Uint8Array).toString())).toEqual({
      echoed: { a: 1 },
    });
    const failed = await lambda.send(
      new InvokeCommand({ FunctionName: settings.readTrafficFunctionName }),
    );
    expect(failed.FunctionError).toBe("Unhandled");
    expect(JSON.parse(new TextDecoder().decode(failed.Payload))).toMatchObject({
      errorType: "Retryable.Timeout",
      errorMessage: "boom",
    });
    await expect(lambda.send(new InvokeCommand({ FunctionName: "nope" }))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
      $metadata: { httpStatusCode: 404 },
    });
  });
});

describe("CloudWatch", () => {
  const window = () => ({
    StartTime: new Date(clock.now() - 5 * 60_000),
    EndTime: new Date(clock.now()),
  });
  const query = (region: string, cluster: string, metric = "AuroraGlobalDBReplicationLag") =>
    new CloudWatchClient({ region }).send(
      new GetMetricDataCommand({
        ...window(),
        MetricDataQueries: [
          {
            Id: "lag",
            Expression: `SELECT MAX(${metric}) FROM "AWS/RDS" WHERE DBClusterIdentifier = '${cluster}'`,
            Period: 60,
          },
        ],
      }),
    );
  const metricStat = (region: string, dimensions: { Name: string; Value: string }[]) =>
    new CloudWatchClient({ region }).send(
      new GetMetricDataCommand({
        ...window(),
        MetricDataQueries: [
          {
            Id: "lag",
            MetricStat: {
              Metric: {
                Namespace: "AWS/RDS",
                MetricName: "AuroraGlobalDBRPOLag",
                Dimensions: dimensions,
              },
              Period: 60,
              Stat: "Maximum",
            },
          },
        ],
      }),
    );

  it("reports the secondary's replication and RPO lag in ms to a Metrics Insights query, newest first, and nothing once it is no longer a secondary", async () => {
    const { MetricDataResults } = await query(secondary.region, secondary.clusterIdentifier);
    expect(MetricDataResults?.[0]).toMatchObject({
      Id: "lag",
      StatusCode: "Complete",
      Values: [1200, 1200, 1200, 1200, 1200],
    });
    expect(MetricDataResults?.[0]?.Timestamps?.[0]?.toISOString()).toBe("2026-01-05T08:59:00.000Z");
    expect(
      (await query(secondary.region, secondary.clusterIdentifier, "AuroraGlobalDBRPOLag"))
        .MetricDataResults?.[0]?.Values,
    ).toEqual([1200, 1200, 1200, 1200, 1200]);
    expect(
      (await query(primary.region, primary.clusterIdentifier)).MetricDataResults?.[0]?.Values,
    ).toEqual([]);
    pair.regionDown("secondary");
    pair.regionUp("secondary");
    pair.setReplicationLag(40_000);
    expect(
      (await query(secondary.region, secondary.clusterIdentifier)).MetricDataResults?.[0]
        ?.Values?.[0],
    ).toBe(40_000);
  });

  it("publishes the lag under DBClusterIdentifier and SourceRegion only: a metric named by the cluster alone has no data", async () => {
    const cluster = { Name: "DBClusterIdentifier", Value: secondary.clusterIdentifier };
    expect((await metricStat(secondary.region, [cluster])).MetricDataResults?.[0]?.Values).toEqual(
      [],
    );
    expect(
      (
        await metricStat(secondary.region, [
          cluster,
          { Name: "SourceRegion", Value: primary.region },
        ])
      ).MetricDataResults?.[0]?.Values?.length,
    ).toBeGreaterThan(0);
  });

  it("fails on a query shape it does not model rather than answering it wrongly", async () => {
    await expect(
      new CloudWatchClient({ region: secondary.region }).send(
        new GetMetricDataCommand({
          ...window(),
          MetricDataQueries: [{ Id: "sum", Expression: "SUM(METRICS())", Period: 60 }],
        }),
      ),
    ).rejects.toThrow(/is not modelled/);
  });
});
