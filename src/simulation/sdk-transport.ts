/**
 * Binds a {@link RegionPair} to the AWS SDK v3 clients of this process without any test library:
 * every `send` of the listed client classes is answered by the simulation, routed by the
 * client's configured region, so code that builds clients with default configuration (region
 * from AWS_REGION, `new RDSClient({ region })` for cross-region calls) runs unchanged against it.
 *
 * The simulator's only SDK binding: the local drill, the bench and the tests
 * (tests/support/simulated-aws.ts) all use it. aws-sdk-client-mock did the same job for the tests
 * until issue 15; it was dropped for the simulator because the drill runs outside tests, where a
 * test library (and its sinon sandbox) has no place, and two bindings meant two ways for a
 * command to reach the pair (a command list in the tests, the operation name here). Unit tests
 * that stub a client's answers by hand still use aws-sdk-client-mock; that is not the simulator.
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

/** Marks a `send` installed here, so {@link removeLeftoverTransports} can find it. */
const SIMULATED_SEND = Symbol.for("shopsmart-dr.simulated-send");

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
    const send = async function send(
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
    prototype.send = Object.assign(send, { [SIMULATED_SEND]: true });
    restores.push(() => {
      if (own) Object.defineProperty(prototype, "send", own);
      else delete prototype.send;
    });
  }
  return () => {
    for (const restore of restores.reverse()) restore();
  };
}

/**
 * Removes every simulated `send` still installed on the SDK's client classes (a test file that
 * did not restore its binding), so the next test file of a shared worker talks to the real SDK.
 * Returns how many were removed.
 */
export function removeLeftoverTransports(): number {
  let removed = 0;
  for (const client of Object.values(SIMULATED_CLIENTS)) {
    const prototype = client.prototype as Record<string, unknown>;
    // Nested installs live in closures: the own `send` is the newest, and deleting it leaves
    // the SDK's inherited one.
    const own = Object.getOwnPropertyDescriptor(prototype, "send")?.value as
      | Record<symbol, unknown>
      | undefined;
    if (own?.[SIMULATED_SEND]) {
      delete prototype.send;
      removed += 1;
    }
  }
  return removed;
}
