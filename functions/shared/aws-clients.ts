/**
 * The only place the failover Lambdas construct AWS SDK clients. Each client gets `{}` or
 * `{ region }` and nothing else, so AWS_REGION, AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE>, the
 * default credential chain and the SDK's standard retries (3 attempts) apply as the SDK documents.
 * Pass `region` only when a call must go to a specific region (per-region RDS, Auto Scaling,
 * CloudWatch, SSM); otherwise the Lambda's own region is used.
 *
 * S3 is the exception: the drill writes its reports with s3-object-writer.ts, a signed PUT that
 * keeps the S3 client's ~145 KB out of its bundle.
 */
import type { RegionRole } from "./region-roles";

/**
 * An SDK v3 client class. Handlers import the classes they use themselves: a bundle then reaches
 * only those client packages (each one 60 to 250 modules), which is what keeps esbuild's link of
 * 12 handlers short; tree-shaking drops unused clients either way.
 */
export type AwsClientClass<Client> = new (config: { region?: string }) => Client;

/**
 * A client of `Client` with the default configuration, pinned to `region` when given, e.g.
 * `awsClient(SNSClient)` or `awsClient(RDSClient, settings.regions.primary.region)`.
 * Route 53 is a global service: the SDK picks its global endpoint, route53.amazonaws.com, whatever
 * the region (https://docs.aws.amazon.com/general/latest/gr/r53.html).
 */
export function awsClient<Client>(Client: AwsClientClass<Client>, region?: string): Client {
  return new Client(region === undefined ? {} : { region });
}

/**
 * One client per region role, each pinned to that role's region, e.g.
 * `clientPerRegion(settings.regions, RDSClient)`.
 */
export function clientPerRegion<Client>(
  regions: Readonly<Record<RegionRole, { region: string }>>,
  Client: AwsClientClass<Client>,
): Record<RegionRole, Client> {
  return {
    primary: awsClient(Client, regions.primary.region),
    secondary: awsClient(Client, regions.secondary.region),
  };
}

/**
 * How long one call to a region that may be down may take (all SDK attempts together) before it
 * is aborted; the abort is classified `Retryable.Timeout` (see errors.ts).
 */
export const REGION_CALL_TIMEOUT_MS = 5_000;

/**
 * Options for `client.send(command, options)` that abort the call after `timeoutMs`. Use a fresh
 * value per call: the signal starts counting when this is called.
 */
export function callTimeout(timeoutMs: number = REGION_CALL_TIMEOUT_MS): {
  abortSignal: AbortSignal;
} {
  return { abortSignal: AbortSignal.timeout(timeoutMs) };
}
