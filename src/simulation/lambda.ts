/**
 * Lambda of the simulated pair: Invoke runs a registered local function (operations-api invokes
 * read-topology and read-traffic this way for dry runs and GET /status).
 *
 * Sources (Lambda API Reference, Invoke): RequestResponse answers StatusCode 200 with the
 * function's result as Payload; an error in the function is still StatusCode 200, with
 * FunctionError `Unhandled` and a Payload of `{errorType, errorMessage, trace}`; Event answers 202
 * and runs asynchronously; DryRun answers 204; an unknown function is ResourceNotFoundException
 * (404) "Function not found: <arn>".
 */
import type { InvocationRequest } from "@aws-sdk/client-lambda";
import { SimulatorUnsupportedError, serviceError } from "./errors";

/** A Lambda handler as the functions export it. */
export type LocalFunction = (event: unknown, context: LocalLambdaContext) => unknown;

/** The part of the Lambda context object the functions may read. */
export interface LocalLambdaContext {
  readonly functionName: string;
  readonly invokedFunctionArn: string;
  readonly awsRequestId: string;
  readonly functionVersion: string;
  readonly memoryLimitInMB: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  getRemainingTimeInMillis(): number;
}

interface RegisteredFunction {
  readonly name: string;
  readonly region: string;
  readonly arn: string;
  readonly handler: LocalFunction;
}

/** Bytes the way the SDK returns blobs: a Uint8Array that can also turn itself into a string. */
export function blobPayload(
  text: string,
): Uint8Array & { transformToString(encoding?: string): string } {
  const bytes = new TextEncoder().encode(text);
  return Object.assign(bytes, {
    transformToString: (encoding?: string) =>
      Buffer.from(bytes).toString((encoding as BufferEncoding) ?? "utf8"),
  });
}

export function lambdaContext(name: string, arn: string, requestId: string): LocalLambdaContext {
  return {
    functionName: name,
    invokedFunctionArn: arn,
    awsRequestId: requestId,
    functionVersion: "$LATEST",
    memoryLimitInMB: "256",
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: "simulated",
    getRemainingTimeInMillis: () => 60_000,
  };
}

export class LambdaSimulation {
  readonly invocations: { functionName: string; payload: unknown; at: number }[] = [];
  private readonly functions: RegisteredFunction[] = [];
  private readonly accountId: string;
  private readonly now: () => number;
  private invocationCounter = 0;

  constructor(accountId: string, now: () => number) {
    this.accountId = accountId;
    this.now = now;
  }

  /** Makes a function invocable by name or ARN in `region`. */
  register(name: string, region: string, handler: LocalFunction): void {
    const arn = `arn:aws:lambda:${region}:${this.accountId}:function:${name}`;
    const existing = this.functions.findIndex((candidate) => candidate.arn === arn);
    if (existing >= 0) this.functions.splice(existing, 1);
    this.functions.push({ name, region, arn, handler });
  }

  async handle(
    operation: string,
    input: Record<string, unknown>,
    region: string,
  ): Promise<unknown> {
    if (operation !== "Invoke")
      throw new SimulatorUnsupportedError(`Lambda ${operation} is not modelled`);
    return this.invoke(input as unknown as InvocationRequest, region);
  }

  private async invoke(input: InvocationRequest, region: string) {
    const requested = input.FunctionName ?? "";
    const fn = this.functions.find(
      (candidate) =>
        candidate.region === region &&
        (candidate.name === requested ||
          candidate.arn === requested ||
          candidate.arn === `${requested}:$LATEST`),
    );
    if (!fn) {
      const arn = requested.startsWith("arn:")
        ? requested
        : `arn:aws:lambda:${region}:${this.accountId}:function:${requested}`;
      throw serviceError("lambda", "ResourceNotFoundException", `Function not found: ${arn}`, {
        httpStatusCode: 404,
      });
    }
    const payloadText = payloadToText(input.Payload);
    let event: unknown;
    try {
      event = payloadText === "" ? {} : JSON.parse(payloadText);
    } catch {
      throw serviceError(
        "lambda",
        "InvalidRequestContentException",
        "Could not parse request body into json",
      );
    }
    this.invocations.push({ functionName: fn.name, payload: event, at: this.now() });
    this.invocationCounter += 1;
    const context = lambdaContext(
      fn.name,
      fn.arn,
      `5e1a7e00-1a3b-4000-8000-${this.invocationCounter.toString(16).padStart(12, "0")}`,
    );
    const type = input.InvocationType ?? "RequestResponse";
    if (type === "DryRun") return { StatusCode: 204 };
    if (type === "Event") {
      void Promise.resolve()
        .then(() => fn.handler(event, context))
        .catch(() => undefined);
      return { StatusCode: 202 };
    }
    try {
      const result = await fn.handler(event, context);
      return {
        StatusCode: 200,
        ExecutedVersion: "$LATEST",
        Payload: blobPayload(result === undefined ? "null" : JSON.stringify(result)),
      };
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      return {
        StatusCode: 200,
        ExecutedVersion: "$LATEST",
        FunctionError: "Unhandled",
        Payload: blobPayload(
          JSON.stringify({
            errorType: failure.name,
            errorMessage: failure.message,
            trace: (failure.stack ?? "").split("\n"),
          }),
        ),
      };
    }
  }
}

function payloadToText(payload: unknown): string {
  if (payload === undefined) return "";
  if (typeof payload === "string") return payload;
  if (payload instanceof Uint8Array) return Buffer.from(payload).toString("utf8");
  if (payload instanceof ArrayBuffer) return Buffer.from(payload).toString("utf8");
  throw new SimulatorUnsupportedError("Invoke Payload must be a string or bytes");
}
