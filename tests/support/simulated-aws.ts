/**
 * Binds a {@link RegionPair} to aws-sdk-client-mock: every command the failover Lambdas send is
 * answered by the simulation, routed by the region the client was configured with
 * (`await getClient().config.region()`), so handlers and orchestration run unchanged. A command
 * the simulation does not model rejects with SimulatorUnsupportedError instead of returning
 * undefined.
 *
 *   const pair = new RegionPair({ settings: simulatedSettings() });
 *   const aws = bindSimulatedAws(pair);
 *   const restoreEnv = setLambdaEnvironment(pair); // SHOPSMART_DR_SETTINGS, AWS_REGION
 *   ...
 *   aws.restore(); restoreEnv();
 */
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
  UpdateAutoScalingGroupCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  GetMetricStatisticsCommand,
  PutMetricDataCommand,
} from "@aws-sdk/client-cloudwatch";
import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import {
  DescribeDBClustersCommand,
  DescribeGlobalClustersCommand,
  FailoverGlobalClusterCommand,
  RDSClient,
  RemoveFromGlobalClusterCommand,
  SwitchoverGlobalClusterCommand,
} from "@aws-sdk/client-rds";
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  GetHealthCheckStatusCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from "@aws-sdk/client-route-53";
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import {
  GetParameterCommand,
  GetParametersCommand,
  PutParameterCommand,
  SSMClient,
} from "@aws-sdk/client-ssm";
import { type AwsStub, mockClient } from "aws-sdk-client-mock";
import {
  installSimulatedDataPlane,
  type RegionPair,
  type ServiceName,
  SimulatorUnsupportedError,
} from "../../src/simulation";

// biome-ignore lint/suspicious/noExplicitAny: command classes of different clients share no type
type CommandClass = new (input: any) => any;

/**
 * The commands the failover Lambdas send (the contract's Lambda table, as functions/ uses them),
 * plus the read-backs tests use, per service.
 */
export const SIMULATED_COMMANDS: Readonly<Record<ServiceName, readonly CommandClass[]>> = {
  rds: [
    DescribeGlobalClustersCommand,
    DescribeDBClustersCommand,
    SwitchoverGlobalClusterCommand,
    FailoverGlobalClusterCommand,
    RemoveFromGlobalClusterCommand,
  ],
  autoscaling: [
    DescribeAutoScalingGroupsCommand,
    UpdateAutoScalingGroupCommand,
    SetDesiredCapacityCommand,
  ],
  route53: [
    ChangeResourceRecordSetsCommand,
    GetChangeCommand,
    GetHealthCheckStatusCommand,
    ListResourceRecordSetsCommand,
  ],
  cloudwatch: [
    DescribeAlarmsCommand,
    GetMetricDataCommand,
    GetMetricStatisticsCommand,
    PutMetricDataCommand,
  ],
  ssm: [GetParameterCommand, GetParametersCommand, PutParameterCommand],
  dynamodb: [
    PutItemCommand,
    GetItemCommand,
    UpdateItemCommand,
    DeleteItemCommand,
    QueryCommand,
    ScanCommand,
    TransactWriteItemsCommand,
  ],
  sns: [PublishCommand],
  sfn: [
    StartExecutionCommand,
    DescribeExecutionCommand,
    ListExecutionsCommand,
    GetExecutionHistoryCommand,
    StopExecutionCommand,
  ],
  lambda: [InvokeCommand],
};

const CLIENTS = {
  rds: RDSClient,
  autoscaling: AutoScalingClient,
  route53: Route53Client,
  cloudwatch: CloudWatchClient,
  ssm: SSMClient,
  dynamodb: DynamoDBClient,
  sns: SNSClient,
  sfn: SFNClient,
  lambda: LambdaClient,
} as const;

// biome-ignore lint/suspicious/noExplicitAny: one stub per client type
type AnyStub = AwsStub<any, any, any>;

export interface SimulatedAws {
  readonly pair: RegionPair;
  /** The aws-sdk-client-mock stub of each client, for `commandCalls` and friends. */
  readonly mocks: Readonly<Record<ServiceName, AnyStub>>;
  /** Restores the real clients. */
  restore(): void;
}

/**
 * Answers every SDK command of the simulated services from `pair`, and the shop's data plane
 * (DNS, HTTPS to the load balancers: src/simulation/data-plane.ts).
 */
export function bindSimulatedAws(pair: RegionPair): SimulatedAws {
  const mocks = {} as Record<ServiceName, AnyStub>;
  const restoreDataPlane = installSimulatedDataPlane(pair);
  for (const service of Object.keys(CLIENTS) as ServiceName[]) {
    const mock = mockClient(CLIENTS[service] as Parameters<typeof mockClient>[0]) as AnyStub;
    mock.onAnyCommand().callsFake((input: unknown) => {
      throw new SimulatorUnsupportedError(
        `a ${service} command the simulation does not model was sent (input ${JSON.stringify(input)})`,
      );
    });
    for (const command of SIMULATED_COMMANDS[service]) {
      const operation = command.name.replace(/Command$/, "");
      mock
        .on(command)
        .callsFake(
          async (
            input: unknown,
            getClient: () => { config: { region: () => Promise<string> } },
          ) => {
            const region = await getClient().config.region();
            return pair.call(service, operation, input, region);
          },
        );
    }
    mocks[service] = mock;
  }
  return {
    pair,
    mocks,
    restore: () => {
      for (const mock of Object.values(mocks)) mock.restore();
      restoreDataPlane();
    },
  };
}
