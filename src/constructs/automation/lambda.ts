import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import {
  DataAwsIamPolicyDocument,
  type DataAwsIamPolicyDocumentStatement,
} from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { AssetType, TerraformAsset } from "cdktf";
import { Construct } from "constructs";
import { serviceTrustPolicy } from "../service-trust";
import { HANDLER, type LambdaBundle } from "./bundling";
import { LAMBDA_RUNTIME } from "./lambda-runtime";

export interface AutomationLambdaProps {
  readonly provider: AwsProvider;
  /** Function, role and log group name, e.g. `shopsmart-prod-dr-read-topology`. */
  readonly functionName: string;
  readonly description: string;
  readonly bundle: LambdaBundle;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly environment: Readonly<Record<string, string>>;
  /** The role's statements besides writing to the function's own log group. */
  readonly statements: DataAwsIamPolicyDocumentStatement[];
  /** Encrypts the log group and the environment variables. */
  readonly kmsKeyArn: string;
  readonly logRetentionDays: number;
  readonly tracingEnabled: boolean;
  /**
   * Concurrent executions reserved for the function (`reserved_concurrent_executions`). Lambda
   * refuses a reservation that would leave the account fewer than 100 unreserved executions
   * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html), which fails
   * the apply on accounts with a small quota
   * (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
   * @default - none: the account's unreserved pool
   */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * One automation Lambda function: its zip as a Terraform asset, a KMS-encrypted log group with
 * retention (created before the function, so Lambda never creates an unencrypted one that
 * never expires), and a role of its own whose only other permissions are `statements`.
 */
export class AutomationLambda extends Construct {
  readonly functionName: string;
  readonly functionArn: string;
  readonly invokeArn: string;
  readonly roleArn: string;

  constructor(scope: Construct, id: string, props: AutomationLambdaProps) {
    super(scope, id);
    const { provider, functionName } = props;

    const code = new TerraformAsset(this, "code", {
      path: props.bundle.zipPath,
      type: AssetType.FILE,
      assetHash: props.bundle.zipSha256Hex,
    });
    const logGroup = new CloudwatchLogGroup(this, "log-group", {
      provider,
      name: `/aws/lambda/${functionName}`,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.kmsKeyArn,
    });

    const trust = serviceTrustPolicy(this, "trust", { provider, service: "lambda.amazonaws.com" });
    const role = new IamRole(this, "role", {
      provider,
      name: functionName,
      description: `Runs the ${functionName} Lambda function`,
      assumeRolePolicy: trust.json,
    });
    const permissions = new DataAwsIamPolicyDocument(this, "permissions", {
      provider,
      statement: [
        {
          sid: "WriteOwnLogs",
          actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
          resources: [`${logGroup.arn}:*`],
        },
        ...props.statements,
      ],
    });
    const policy = new IamRolePolicy(this, "policy", {
      provider,
      role: role.id,
      name: "automation-step",
      policy: permissions.json,
    });

    const fn = new LambdaFunction(this, "function", {
      provider,
      functionName,
      description: props.description,
      role: role.arn,
      runtime: LAMBDA_RUNTIME,
      // The bundles are plain JavaScript, and Graviton is the cheaper architecture per GB-second.
      architectures: ["arm64"],
      handler: HANDLER,
      filename: code.path,
      sourceCodeHash: props.bundle.zipSha256Base64,
      memorySize: props.memoryMb,
      timeout: props.timeoutSeconds,
      kmsKeyArn: props.kmsKeyArn,
      environment: { variables: { ...props.environment } },
      tracingConfig: { mode: props.tracingEnabled ? "Active" : "PassThrough" },
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      // The role's policy must be in place before the first invocation, and the log group
      // before Lambda would create its own.
      dependsOn: [logGroup, policy],
    });
    this.functionName = fn.functionName;
    this.functionArn = fn.arn;
    this.invokeArn = fn.invokeArn;
    this.roleArn = role.arn;
  }
}
