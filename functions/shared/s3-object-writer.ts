/**
 * Writes one object to S3 with a single SigV4-signed `PUT`, encrypted with a KMS key (SSE-KMS).
 *
 * Why not `@aws-sdk/client-s3`: the drill Lambda writes two small objects per drill, and the S3
 * client (its endpoint rules, checksum and XML middleware) adds about 145 KB to a minified
 * bundle, which took run-drill from about 300 KB to 445 KB, over the 400 KB budget every bundle
 * has (SPEC 7). The signer and the credential chain used here are the SDK's own
 * (@smithy/signature-v4, @aws-sdk/credential-provider-node), already in the bundle for the
 * operations API client, so this costs about 2 KB.
 *
 * Errors are shaped like SDK errors (`name` = S3's error code, `$metadata.httpStatusCode`,
 * `$fault`), so errors.ts classifies throttling (SlowDown, 503), 5xx and timeouts as retryable.
 */
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { Sha256 } from "@smithy/core/checksum";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentityProvider } from "@smithy/types";

export interface PutObjectRequest {
  /** Object key, e.g. `drills/staging/drill-staging-20250101T060000Z.json`. */
  key: string;
  body: string;
  contentType: string;
}

/** Where reports are written; the drill's orchestration takes one, so tests pass a fake. */
export interface ObjectWriter {
  putObject(request: PutObjectRequest): Promise<void>;
}

export interface S3ObjectWriterOptions {
  bucket: string;
  /** The key every object is encrypted with (`x-amz-server-side-encryption-aws-kms-key-id`). */
  kmsKeyArn: string;
  /** @default AWS_REGION */
  region?: string;
  /** @default the SDK's default credential chain (the Lambda role's, from the environment) */
  credentials?: AwsCredentialIdentityProvider;
  /**
   * An S3-compatible endpoint, addressed path-style (`<endpoint>/<bucket>/<key>`), for tests.
   * @default AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, else `https://<bucket>.s3.<region>.amazonaws.com`
   */
  endpoint?: string;
  /** @default 30000 */
  requestTimeoutMs?: number;
}

/** An S3 error response, shaped like the SDK's service exceptions. */
export class S3RequestError extends Error {
  readonly $metadata: { httpStatusCode: number };
  readonly $fault: "client" | "server";

  constructor(code: string, message: string, statusCode: number) {
    super(message);
    this.name = code;
    this.$metadata = { httpStatusCode: statusCode };
    this.$fault = statusCode >= 500 ? "server" : "client";
  }
}

/** A writer of objects to `options.bucket`. Resolves credentials on first use, not at creation. */
export function s3ObjectWriter(options: S3ObjectWriterOptions): ObjectWriter {
  let credentials = options.credentials;
  return {
    async putObject(request) {
      const region = options.region ?? process.env.AWS_REGION;
      if (!region) {
        throw new Error("s3ObjectWriter: no region (set AWS_REGION or pass region)");
      }
      credentials ??= defaultProvider();
      const url = objectUrl(options, region, request.key);
      const signer = new SignatureV4({
        service: "s3",
        region,
        credentials,
        sha256: Sha256,
        // S3 signs the path as sent, without escaping it a second time; the body's SHA-256
        // goes into x-amz-content-sha256, which S3 requires.
        uriEscapePath: false,
        applyChecksum: true,
      });
      const signed = await signer.sign({
        method: "PUT",
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port === "" ? {} : { port: Number(url.port) }),
        path: url.pathname,
        query: {},
        headers: {
          host: url.host,
          "content-type": request.contentType,
          "x-amz-server-side-encryption": "aws:kms",
          "x-amz-server-side-encryption-aws-kms-key-id": options.kmsKeyArn,
        },
        body: request.body,
      });
      const { host: _host, ...headers } = signed.headers;
      const response = await send(url, headers, request.body, options.requestTimeoutMs ?? 30_000);
      if (response.ok) return;
      const text = await response.text();
      const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? `Http${response.status}`;
      const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? text.slice(0, 200);
      throw new S3RequestError(
        code,
        `PUT s3://${options.bucket}/${request.key}: ${response.status} ${code}: ${message}`,
        response.status,
      );
    },
  };
}

/** Network failures keep the Node.js error code (ECONNRESET, ...) where errors.ts looks for it. */
async function send(
  url: URL,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<Response> {
  try {
    return await fetch(url, {
      method: "PUT",
      headers,
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: unknown } }).cause;
    if (typeof cause?.code === "string") {
      throw Object.assign(new Error(`PUT ${url.origin}: ${cause.code}`), { code: cause.code });
    }
    throw error;
  }
}

function objectUrl(options: S3ObjectWriterOptions, region: string, key: string): URL {
  const path = key.split("/").map(encodeURIComponent).join("/");
  const endpoint =
    options.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
  if (endpoint) {
    return new URL(`${endpoint.replace(/\/$/, "")}/${options.bucket}/${path}`);
  }
  return new URL(`https://${options.bucket}.s3.${region}.amazonaws.com/${path}`);
}
