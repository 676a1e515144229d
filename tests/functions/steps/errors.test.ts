import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { DescribeDBClustersCommand, RDSClient } from "@aws-sdk/client-rds";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { awsClient, callTimeout } from "../../../functions/shared/aws-clients";
import {
  classifyError,
  describeError,
  readRegion,
  StepError,
  toStepError,
  withStepErrors,
} from "../../../functions/shared/errors";
import { abortTimeout, awsError, throttling } from "./fixtures";

describe("classifyError", () => {
  it.each([
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "PriorRequestNotComplete",
    "ProvisionedThroughputExceededException",
  ])("classifies %s as Retryable.Throttled", (name) => {
    expect(classifyError(awsError(name, 400))).toEqual({
      name: "Retryable.Throttled",
      retryable: true,
      originalName: name,
      message: `${name} message`,
    });
  });

  it("classifies $retryable.throttling and HTTP 429 as Retryable.Throttled", () => {
    const flagged = Object.assign(awsError("SomethingElse", 400), {
      $retryable: { throttling: true },
    });
    expect(classifyError(flagged).name).toBe("Retryable.Throttled");
    expect(classifyError(awsError("Whatever", 429)).name).toBe("Retryable.Throttled");
  });

  it("classifies HTTP 5xx and $fault server as Retryable.ServerError", () => {
    expect(classifyError(awsError("InternalFailure", 500)).name).toBe("Retryable.ServerError");
    expect(classifyError(awsError("ServiceUnavailable", 503)).name).toBe("Retryable.ServerError");
    const fault = Object.assign(new Error("x"), { name: "Boom", $fault: "server" });
    expect(classifyError(fault).name).toBe("Retryable.ServerError");
  });

  it("classifies timeouts, aborts and network errors as Retryable.Timeout", () => {
    expect(classifyError(abortTimeout()).name).toBe("Retryable.Timeout");
    expect(classifyError(Object.assign(new Error("t"), { name: "TimeoutError" })).name).toBe(
      "Retryable.Timeout",
    );
    for (const code of ["ECONNREFUSED", "ENOTFOUND", "ETIMEDOUT", "ECONNRESET"]) {
      expect(classifyError(Object.assign(new Error(code), { code })).name).toBe(
        "Retryable.Timeout",
      );
    }
  });

  it("keeps the name of a terminal error", () => {
    expect(classifyError(awsError("InvalidGlobalClusterStateFault", 400))).toEqual({
      name: "InvalidGlobalClusterStateFault",
      retryable: false,
      originalName: "InvalidGlobalClusterStateFault",
      message: "InvalidGlobalClusterStateFault message",
    });
    expect(classifyError("just a string")).toEqual({
      name: "Error",
      retryable: false,
      originalName: "Error",
      message: "just a string",
    });
  });

  it("keeps an already classified name", () => {
    expect(classifyError(new StepError(classifyError(throttling()))).name).toBe(
      "Retryable.Throttled",
    );
  });

  it("describes an error in one line", () => {
    expect(describeError(throttling())).toBe("Retryable.Throttled: Throttling: Rate exceeded");
    expect(describeError(awsError("AccessDenied", 403, "no"))).toBe("AccessDenied: no");
  });
});

describe("withStepErrors", () => {
  it("returns the handler's result unchanged", async () => {
    const handler = withStepErrors("test", async (event: { value: number }) => event.value + 1);
    await expect(handler({ value: 1 })).resolves.toBe(2);
  });

  it("fails with the classified name, the original name in the message and the cause kept", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const original = throttling();
    const handler = withStepErrors("test", async () => {
      throw original;
    });
    const error = await handler(undefined).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StepError);
    expect(error).toMatchObject({
      name: "Retryable.Throttled",
      message: "Throttling: Rate exceeded",
      retryable: true,
      cause: original,
    });
    expect(console.error).toHaveBeenCalledWith(
      JSON.stringify({
        level: "ERROR",
        message: "Throttling: Rate exceeded",
        handler: "test",
        error: "Retryable.Throttled",
        retryable: true,
      }),
    );
  });

  it("fails with a terminal error's own name", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const handler = withStepErrors("test", async () => {
      throw awsError("AccessDenied", 403, "not allowed");
    });
    await expect(handler(undefined)).rejects.toMatchObject({
      name: "AccessDenied",
      message: "not allowed",
      retryable: false,
    });
  });
});

describe("readRegion", () => {
  it("reports a timeout as unreachable in report mode", async () => {
    await expect(readRegion(() => Promise.reject(abortTimeout()), "report")).resolves.toEqual({
      ok: false,
      reason: "Retryable.Timeout: AbortError: Request aborted",
    });
  });

  it("reports a 5xx as unreachable in report mode", async () => {
    const read = await readRegion(() => Promise.reject(awsError("InternalFailure", 500)), "report");
    expect(read.ok).toBe(false);
  });

  it("fails on a timeout in throw mode", async () => {
    await expect(readRegion(() => Promise.reject(abortTimeout()), "throw")).rejects.toMatchObject({
      name: "AbortError",
    });
  });

  it("fails on throttling even in report mode", async () => {
    await expect(readRegion(() => Promise.reject(throttling()), "report")).rejects.toMatchObject({
      name: "Throttling",
    });
  });
});

describe("aws-clients against a region that never answers", () => {
  let server: Server;
  let endpoint: string;
  const requestMethods: string[] = [];

  beforeAll(async () => {
    // Accepts connections and never answers, like a region whose API is down behind a load balancer.
    server = createServer((request) => {
      requestMethods.push(request.method ?? "");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    vi.stubEnv("AWS_ENDPOINT_URL_RDS", endpoint);
    vi.stubEnv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "example-secret");
  });

  afterAll(async () => {
    vi.unstubAllEnvs();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("uses AWS_ENDPOINT_URL_RDS and classifies the per-call abort as Retryable.Timeout", async () => {
    const client = awsClient(RDSClient, "us-west-2");
    await expect(client.config.region()).resolves.toBe("us-west-2");
    const started = Date.now();
    const error = await client
      .send(new DescribeDBClustersCommand({ DBClusterIdentifier: "x" }), callTimeout(300))
      .catch((caught: unknown) => caught);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(toStepError(error)).toMatchObject({ name: "Retryable.Timeout" });
    expect(requestMethods).toEqual(["POST"]);
  });

  it("takes the region from AWS_REGION when none is given", async () => {
    vi.stubEnv("AWS_REGION", "eu-west-1");
    await expect(awsClient(RDSClient).config.region()).resolves.toBe("eu-west-1");
  });
});
