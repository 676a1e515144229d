/** Shared test data for the step tests: settings, SDK-shaped errors and RDS answers. */
import type { DBCluster, FailoverStatus, GlobalCluster } from "@aws-sdk/client-rds";
import type { AutomationSettings } from "../../../functions/shared/settings";

export const PRIMARY_ARN = "arn:aws:rds:us-east-2:111122223333:cluster:shopsmart-prod-primary";
export const SECONDARY_ARN = "arn:aws:rds:us-west-2:111122223333:cluster:shopsmart-prod-secondary";

export const SETTINGS: AutomationSettings = {
  environment: "prod",
  namePrefix: "shopsmart-prod",
  primaryRecordRegion: "primary",
  healthPath: "/health",
  detection: { quorum: 2, minimumIntervalMinutes: 30, probeTimeoutSeconds: 5 },
  globalClusterIdentifier: "shopsmart-prod-global",
  regions: {
    primary: {
      region: "us-east-2",
      clusterIdentifier: "shopsmart-prod-primary",
      clusterArn: PRIMARY_ARN,
      autoScalingGroupName: "shopsmart-prod-primary-web",
      loadBalancer: {
        dnsName: "shopsmart-prod-primary-123.us-east-2.elb.amazonaws.com",
        zoneId: "Z3AADJGX6KTTL2",
      },
      healthCheckId: "hc-primary-1111",
      activeCapacity: { minSize: 2, desiredCapacity: 4, maxSize: 8 },
      standbyCapacity: { minSize: 1, desiredCapacity: 1, maxSize: 2 },
    },
    secondary: {
      region: "us-west-2",
      clusterIdentifier: "shopsmart-prod-secondary",
      clusterArn: SECONDARY_ARN,
      autoScalingGroupName: "shopsmart-prod-secondary-web",
      loadBalancer: {
        dnsName: "shopsmart-prod-secondary-456.us-west-2.elb.amazonaws.com",
        zoneId: "Z1H1FL5HABSF5",
      },
      healthCheckId: "hc-secondary-2222",
      activeCapacity: { minSize: 2, desiredCapacity: 4, maxSize: 8 },
      standbyCapacity: { minSize: 1, desiredCapacity: 1, maxSize: 2 },
    },
  },
  hostedZoneId: "Z0HOSTEDZONE",
  recordName: "shop.example.com",
  parameterPath: "/shopsmart/prod/",
  ledgerTableName: "shopsmart-prod-dr-operations",
  stateMachineArn: "arn:aws:states:us-west-2:111122223333:stateMachine:shopsmart-prod-failover",
  topicArn: "arn:aws:sns:us-west-2:111122223333:shopsmart-prod-dr",
  readTopologyFunctionName: "shopsmart-prod-read-topology",
  readTrafficFunctionName: "shopsmart-prod-read-traffic",
  rpoSeconds: 300,
  rtoSeconds: 300,
};

/** An AWS SDK v3 service error as the SDK deserializes it. */
export function awsError(
  name: string,
  httpStatusCode: number,
  message = `${name} message`,
): Error & { $fault: "client" | "server"; $metadata: { httpStatusCode: number } } {
  return Object.assign(new Error(message), {
    name,
    $fault: httpStatusCode >= 500 ? ("server" as const) : ("client" as const),
    $metadata: { httpStatusCode },
  });
}

export const throttling = () => awsError("Throttling", 400, "Rate exceeded");

/** What a call aborted by `AbortSignal.timeout` rejects with (@smithy/node-http-handler). */
export function abortTimeout(): Error {
  return Object.assign(new Error("Request aborted"), { name: "AbortError" });
}

export function cluster(
  role: "primary" | "secondary",
  overrides: Partial<DBCluster> = {},
): DBCluster {
  const regionSettings = SETTINGS.regions[role];
  return {
    DBClusterIdentifier: regionSettings.clusterIdentifier,
    DBClusterArn: regionSettings.clusterArn,
    Status: "available",
    Endpoint: `${regionSettings.clusterIdentifier}.cluster-abc123.${regionSettings.region}.rds.amazonaws.com`,
    GlobalClusterIdentifier: SETTINGS.globalClusterIdentifier,
    ...overrides,
  };
}

/** The global cluster with `writer` as writer and the other role as reader (or detached). */
export function globalCluster(
  writer: "primary" | "secondary",
  overrides: Partial<GlobalCluster> & { members?: ("primary" | "secondary")[] } = {},
): GlobalCluster {
  const { members = ["primary", "secondary"], ...rest } = overrides;
  return {
    GlobalClusterIdentifier: SETTINGS.globalClusterIdentifier,
    Status: "available",
    // SynchronizationStatus is reported for secondary members only (API_GlobalClusterMember).
    GlobalClusterMembers: members.map((role) => ({
      DBClusterArn: SETTINGS.regions[role].clusterArn,
      IsWriter: role === writer,
      ...(role === writer ? {} : { SynchronizationStatus: "connected" as const }),
    })),
    ...rest,
  };
}

/**
 * FailoverState.Status during a switchover. The API reference describes it, but the SDK's
 * FailoverStatus enum lists only pending | failing-over | cancelling.
 */
export const SWITCHING_OVER = "switching-over" as FailoverStatus;
