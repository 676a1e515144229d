/**
 * Binds a {@link RegionPair} to the AWS SDK v3 clients of this process without any test library:
 * every `send` of the listed client classes is answered by the simulation, routed by the
 * client's configured region, so code that builds clients with default configuration (region
 * from AWS_REGION, `new RDSClient({ region })` for cross-region calls) runs unchanged against it.
 * This is what the local drill uses; tests use aws-sdk-client-mock (tests/support/simulated-aws.ts).
 *
 * It patches the classes imported here, i.e. the SDK in this project's node_modules. Code bundled
 * with its own copy of the SDK (an esbuild bundle) is not reached: run the handlers from source
 * (tsx) or point the bundle's SDK elsewhere.
 */
import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { RDSClient } from "@aws-sdk/client-rds";
import { Route53Client } from "@aws-sdk/client-route-53";
import { SFNClient } from "@aws-sdk/client-sfn";
import { SNSClient } from "@aws-sdk/client-sns";
import { SSMClient } from "@aws-sdk/client-ssm";
import type { ServiceName } from "./errors";
import type { RegionPair } from "./region-pair";

/** A client class whose instances have `config.region()` and `send(command)`. */
export interface SdkClientClass {
  readonly prototype: object;
  readonly name: string;
}

/** The SDK client class of each simulated service. */
export const SIMULATED_CLIENTS: Readonly<Record<ServiceName, SdkClientClass>> = {
  rds: RDSClient,
  autoscaling: AutoScalingClient,
  route53: Route53Client,
  cloudwatch: CloudWatchClient,
  ssm: SSMClient,
  dynamodb: DynamoDBClient,
  sns: SNSClient,
  sfn: SFNClient,
  lambda: LambdaClient,
};

/**
 * The API operation a command object stands for: the operation name in its schema (kept by
 * minifiers), else the class name without `Command`.
 */
export function operationName(command: object): string {
  const schema = (command as { schema?: unknown }).schema;
  if (Array.isArray(schema) && typeof schema[2] === "string") return schema[2];
  return command.constructor.name.replace(/Command$/, "");
}

interface SendingClient {
  config: { region: () => Promise<string> | string };
}

/**
 * Answers every `send` of the given client classes from `pair`. Returns the function that
 * restores the SDK's own `send`.
 */
export function installSimulatedTransport(
  pair: RegionPair,
  clients: Readonly<Partial<Record<ServiceName, SdkClientClass>>> = SIMULATED_CLIENTS,
): () => void {
  const restores: (() => void)[] = [];
  for (const [service, client] of Object.entries(clients) as [ServiceName, SdkClientClass][]) {
    const prototype = client.prototype as Record<string, unknown>;
    const own = Object.getOwnPropertyDescriptor(prototype, "send");
    prototype.send = async function send(
      this: SendingClient,
      command: { input?: unknown },
      ...rest: unknown[]
    ) {
      const callback = rest.find((argument) => typeof argument === "function") as
        | ((error: unknown, output?: unknown) => void)
        | undefined;
      const result = (async () => {
        const region = await this.config.region();
        return pair.call(service, operationName(command), command.input ?? {}, region);
      })();
      if (!callback) return result;
      result.then(
        (output) => callback(null, output),
        (error: unknown) => callback(error),
      );
      return undefined;
    };
    restores.push(() => {
      if (own) Object.defineProperty(prototype, "send", own);
      else delete prototype.send;
    });
  }
  return () => {
    for (const restore of restores.reverse()) restore();
  };
}
