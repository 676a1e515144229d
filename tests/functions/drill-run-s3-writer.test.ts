import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { classifyError } from "../../functions/shared/errors";
import { s3ObjectWriter } from "../../functions/shared/s3-object-writer";
import { type SignedRequest, sigV4Problem, TEST_CREDENTIALS } from "../support/sigv4-server";

/** A loopback "S3" that records each request and answers with the next scripted response. */
let server: Server;
let endpoint: string;
const received: SignedRequest[] = [];
let answers: { status: number; body: string }[] = [];

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

beforeAll(async () => {
  server = createServer(async (request, response) => {
    received.push({
      method: request.method ?? "",
      url: request.url ?? "",
      headers: request.headers,
      body: await bodyOf(request),
    });
    const answer = answers.shift() ?? { status: 200, body: "" };
    response.writeHead(answer.status, { "content-type": "application/xml" });
    response.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  received.length = 0;
  answers = [];
});

function writer() {
  return s3ObjectWriter({
    bucket: "shopsmart-staging-drills-111122223333",
    kmsKeyArn: "arn:aws:kms:us-west-2:111122223333:key/secondary",
    region: "us-west-2",
    credentials: async () => TEST_CREDENTIALS,
    endpoint,
  });
}

describe("s3ObjectWriter", () => {
  it("PUTs the object with SSE-KMS, signed with SigV4 for s3 and the body's SHA-256", async () => {
    await writer().putObject({
      key: "drills/staging/drill-staging-20260107T060000Z.json",
      body: '{"verdict":"passed"}\n',
      contentType: "application/json",
    });
    const [request] = received;
    expect(request).toMatchObject({
      method: "PUT",
      url: "/shopsmart-staging-drills-111122223333/drills/staging/drill-staging-20260107T060000Z.json",
      body: '{"verdict":"passed"}\n',
    });
    expect(request?.headers).toMatchObject({
      "content-type": "application/json",
      "x-amz-server-side-encryption": "aws:kms",
      "x-amz-server-side-encryption-aws-kms-key-id":
        "arn:aws:kms:us-west-2:111122223333:key/secondary",
      "x-amz-security-token": TEST_CREDENTIALS.sessionToken,
    });
    // Verified independently of the signer (node:crypto), as S3 would.
    expect(
      sigV4Problem(request as SignedRequest, {
        credentials: TEST_CREDENTIALS,
        region: "us-west-2",
        service: "s3",
      }),
    ).toBeUndefined();
    const signedHeaders = /SignedHeaders=([^,]+)/.exec(String(request?.headers.authorization))?.[1];
    expect(signedHeaders?.split(";")).toEqual(
      expect.arrayContaining([
        "x-amz-content-sha256",
        "x-amz-server-side-encryption",
        "x-amz-server-side-encryption-aws-kms-key-id",
      ]),
    );
  });

  it("fails with S3's error code and message, classified as the SDK's would be", async () => {
    answers = [
      {
        status: 403,
        body: "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>",
      },
      {
        status: 503,
        body: "<Error><Code>SlowDown</Code><Message>Reduce your rate</Message></Error>",
      },
      { status: 500, body: "<Error><Code>InternalError</Code><Message>oops</Message></Error>" },
    ];
    const put = () =>
      writer().putObject({ key: "drills/x.md", body: "x", contentType: "text/markdown" });
    const denied = await put().catch((error: unknown) => error);
    expect(denied).toMatchObject({
      name: "AccessDenied",
      message:
        "PUT s3://shopsmart-staging-drills-111122223333/drills/x.md: 403 AccessDenied: Access Denied",
    });
    expect(classifyError(denied).retryable).toBe(false);
    expect(classifyError(await put().catch((error: unknown) => error)).name).toBe(
      "Retryable.Throttled",
    );
    expect(classifyError(await put().catch((error: unknown) => error)).name).toBe(
      "Retryable.ServerError",
    );
  });

  it("fails as a retryable timeout when nothing answers", async () => {
    // A port that was just free: the connection is refused.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const unreachable = s3ObjectWriter({
      bucket: "b-b-b",
      kmsKeyArn: "arn:aws:kms:us-west-2:111122223333:key/k",
      region: "us-west-2",
      credentials: async () => TEST_CREDENTIALS,
      endpoint: `http://127.0.0.1:${port}`,
    });
    const error = await unreachable
      .putObject({ key: "k", body: "x", contentType: "text/plain" })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "ECONNREFUSED" });
    expect(classifyError(error).name).toBe("Retryable.Timeout");
  });
});
