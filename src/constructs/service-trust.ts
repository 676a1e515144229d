import type { DataAwsIamPolicyDocumentStatementCondition } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";

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
