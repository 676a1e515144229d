import {
  DataAwsIamPolicyDocument,
  type DataAwsIamPolicyDocumentStatementCondition,
} from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import type { Construct } from "constructs";

/**
 * A KMS key statement's condition that the key is used only through the given services in
 * `region` (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service).
 */
export function viaService(
  region: string,
  ...services: string[]
): DataAwsIamPolicyDocumentStatementCondition {
  return {
    test: "StringEquals",
    variable: "kms:ViaService",
    values: services.map((service) => `${service}.${region}.amazonaws.com`),
  };
}

export interface ServiceTrustPolicyProps {
  readonly provider: AwsProvider;
  /** The service principal that assumes the role, e.g. `lambda.amazonaws.com`. */
  readonly service: string;
  /**
   * Conditions on the assumption: the confused-deputy guard where the service sends
   * aws:SourceAccount / aws:SourceArn.
   * @default - none
   */
  readonly condition?: DataAwsIamPolicyDocumentStatementCondition[];
}

/**
 * The trust policy of a role an AWS service assumes: one `sts:AssumeRole` statement for the
 * service principal, with `condition` when given. Created as a policy document data source at
 * `scope`/`id`; its `json` is the role's `assume_role_policy`.
 */
export function serviceTrustPolicy(
  scope: Construct,
  id: string,
  props: ServiceTrustPolicyProps,
): DataAwsIamPolicyDocument {
  return new DataAwsIamPolicyDocument(scope, id, {
    provider: props.provider,
    statement: [
      {
        actions: ["sts:AssumeRole"],
        principals: [{ type: "Service", identifiers: [props.service] }],
        ...(props.condition ? { condition: props.condition } : {}),
      },
    ],
  });
}

/**
 * Confused-deputy conditions for a policy that lets an AWS service act for this account: the
 * trust policy of a role it assumes, or a key policy statement it uses a key under
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html). The service may act
 * only on behalf of `accountId` and of resources matching `sourceArns`.
 *
 * AWS documents aws:SourceAccount / aws:SourceArn in role trust for services such as EventBridge
 * Scheduler and EventBridge, but not for s3.amazonaws.com (replication) or backup.amazonaws.com,
 * and a condition on a key the service does not send denies sts:AssumeRole: replication or
 * backups would silently stop. The ...IfExists operators check a key when the request carries
 * it and pass when it does not
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IfExists),
 * so they protect where the service passes the keys and cannot break the role where it does
 * not. Before tightening them to StringEquals / ArnLike, a first deploy should check the role's
 * AssumeRole events in CloudTrail for whether the service sends the keys at all.
 */
export function confusedDeputyConditions(
  accountId: string,
  sourceArns: readonly string[],
): DataAwsIamPolicyDocumentStatementCondition[] {
  return [
    { test: "StringEqualsIfExists", variable: "aws:SourceAccount", values: [accountId] },
    { test: "ArnLikeIfExists", variable: "aws:SourceArn", values: [...sourceArns] },
  ];
}
