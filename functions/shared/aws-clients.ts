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
import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { RDSClient } from "@aws-sdk/client-rds";
import { Route53Client } from "@aws-sdk/client-route-53";
import { SFNClient } from "@aws-sdk/client-sfn";
import { SNSClient } from "@aws-sdk/client-sns";
import { SSMClient } from "@aws-sdk/client-ssm";
import type { RegionRole } from "./region-roles";

function regionConfig(region: string | undefined): { region?: string } {
  return region === undefined ? {} : { region };
}

export function rdsClient(region?: string): RDSClient {
  return new RDSClient(regionConfig(region));
}

export function cloudWatchClient(region?: string): CloudWatchClient {
  return new CloudWatchClient(regionConfig(region));
}

/** Route 53 is a global service; the SDK picks its global endpoint whatever the region. */
export function route53Client(region?: string): Route53Client {
  return new Route53Client(regionConfig(region));
}

export function autoScalingClient(region?: string): AutoScalingClient {
  return new AutoScalingClient(regionConfig(region));
}

export function ssmClient(region?: string): SSMClient {
  return new SSMClient(regionConfig(region));
}

export function dynamoDbClient(region?: string): DynamoDBClient {
  return new DynamoDBClient(regionConfig(region));
}

export function snsClient(region?: string): SNSClient {
  return new SNSClient(regionConfig(region));
}

export function sfnClient(region?: string): SFNClient {
  return new SFNClient(regionConfig(region));
}

export function lambdaClient(region?: string): LambdaClient {
  return new LambdaClient(regionConfig(region));
}

/**
 * One client per region role, each pinned to that role's region, e.g.
 * `clientPerRegion(settings.regions, rdsClient)`.
 */
export function clientPerRegion<Client>(
  regions: Readonly<Record<RegionRole, { region: string }>>,
  create: (region: string) => Client,
): Record<RegionRole, Client> {
  return { primary: create(regions.primary.region), secondary: create(regions.secondary.region) };
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
