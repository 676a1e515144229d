import { type PolicyStatement, policyStatements } from "../policy-documents";
import { type Finding, finding } from "../rule";
import { type StackModel, strings } from "../terraform-model";

/**
 * Actions that support no resource-level permissions: the AWS Service Authorization Reference
 * lists no resource type for them, so `"Resource": "*"` is the only way to grant them. A trailing
 * `*` covers every action with that prefix (all `ec2:Describe*` actions are resource-less).
 * Extend the list only from that reference, one service page at a time:
 * https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
 * The `logs:` entries are the log-delivery actions Step Functions needs to log to CloudWatch
 * Logs, which its guide grants only on `"*"`:
 * https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html
 */
export const ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS: readonly string[] = [
  "autoscaling:Describe*",
  "cloudwatch:DescribeAlarmsForMetric",
  "cloudwatch:GetMetricData",
  "cloudwatch:GetMetricStatistics",
  "cloudwatch:GetMetricWidgetImage",
  "cloudwatch:ListMetrics",
  "cloudwatch:PutMetricData",
  "dynamodb:ListTables",
  "ec2:Describe*",
  "elasticloadbalancing:Describe*",
  "kms:ListAliases",
  "kms:ListKeys",
  "lambda:ListFunctions",
  "logs:CreateLogDelivery",
  "logs:DeleteLogDelivery",
  "logs:DescribeLogGroups",
  "logs:DescribeResourcePolicies",
  "logs:GetLogDelivery",
  "logs:ListLogDeliveries",
  "logs:PutResourcePolicy",
  "logs:UpdateLogDelivery",
  "route53:ListHealthChecks",
  "route53:ListHostedZones",
  "secretsmanager:GetRandomPassword",
  "secretsmanager:ListSecrets",
  "sns:ListTopics",
  "ssm:DescribeParameters",
  "states:ListActivities",
  "states:ListStateMachines",
  "sts:GetCallerIdentity",
  "tag:GetResources",
  "xray:GetSamplingRules",
  "xray:GetSamplingTargets",
  "xray:PutTelemetryRecords",
  "xray:PutTraceSegments",
];

/** Whether an action (which may itself end in `*`) is covered by the resource-less list. */
export function lacksResourceLevelPermissions(action: string): boolean {
  const wanted = action.toLowerCase();
  return ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS.some((entry) => {
    const known = entry.toLowerCase();
    return known.endsWith("*") ? wanted.startsWith(known.slice(0, -1)) : wanted === known;
  });
}

/** `*`, `*:*` or a whole service (`s3:*`). Partial wildcards (`kms:GenerateDataKey*`) pass. */
function isWildcardAction(action: string): boolean {
  return action === "*" || action.endsWith(":*");
}

/** `arn:aws:iam::<account>:root` (any partition), the account itself as a principal. */
const ACCOUNT_ROOT = /^arn:aws[a-z-]*:iam::[^:]+:root$/;

/**
 * The statement of the AWS default key policy: the account (root) may use `kms:*` on the key, so
 * that IAM policies in the account can grant the key. Without it the key can become unmanageable.
 * It can only appear in a key policy, where `"*"` means the key itself.
 */
function isDefaultKeyPolicyStatement(statement: PolicyStatement): boolean {
  return (
    statement.actions.length === 1 &&
    statement.actions[0] === "kms:*" &&
    statement.principals.length > 0 &&
    statement.principals.every(
      (p) => p.type === "AWS" && p.identifiers.every((id) => ACCOUNT_ROOT.test(id)),
    )
  );
}

/** No `Allow` of every action (`*`) or of a whole service (`s3:*`), and no `NotAction` allows. */
export function noWildcardActions(stack: StackModel): Finding[] {
  const findings: Finding[] = [];
  for (const statement of policyStatements(stack)) {
    if (statement.effect !== "Allow") continue;
    if (statement.notActions.length > 0) {
      findings.push(
        finding(
          statement.owner,
          `statement ${statement.label} allows every action except ${JSON.stringify(statement.notActions)} (NotAction)`,
        ),
      );
    }
    if (isDefaultKeyPolicyStatement(statement)) continue;
    const wildcards = statement.actions.filter(isWildcardAction);
    if (wildcards.length > 0) {
      findings.push(
        finding(
          statement.owner,
          `statement ${statement.label} allows ${JSON.stringify(wildcards)}`,
        ),
      );
    }
  }
  return findings;
}

/**
 * `*`, or an ARN that names neither a region nor an account nor a resource: `arn:aws:s3:::*`,
 * `arn:aws:logs:*:*:*`. (`arn:aws:logs:us-west-2:<account>:*` is scoped to one account's region.)
 */
function isUnscopedResource(resource: string): boolean {
  const [prefix, , , region, account, ...rest] = resource.split(":");
  if (resource === "*") return true;
  const anywhere = (part: string | undefined) => part === "" || part === "*";
  return prefix === "arn" && anywhere(region) && anywhere(account) && rest.join(":") === "*";
}

/**
 * Identity-based statements (no principal) name the resources they grant; `*` is accepted only
 * for actions that support no resource-level permissions. Resource-based policies (key, bucket,
 * topic policies, with a principal) apply to the resource they are attached to and are skipped.
 */
export function resourcesScoped(stack: StackModel): Finding[] {
  const findings: Finding[] = [];
  for (const statement of policyStatements(stack)) {
    if (statement.effect !== "Allow" || statement.principals.length > 0) continue;
    if (statement.notResources.length > 0) {
      findings.push(
        finding(
          statement.owner,
          `statement ${statement.label} grants every resource except ${JSON.stringify(statement.notResources)} (NotResource)`,
        ),
      );
      continue;
    }
    const unscoped = statement.resources.filter(isUnscopedResource);
    if (unscoped.length === 0) continue;
    const scopable = statement.actions.filter((action) => !lacksResourceLevelPermissions(action));
    if (scopable.length > 0) {
      findings.push(
        finding(
          statement.owner,
          `statement ${statement.label} grants ${JSON.stringify(scopable)} on ${JSON.stringify(unscoped)}, but these actions support resource-level permissions`,
        ),
      );
    }
  }
  return findings;
}

/** AWS managed policies that grant a whole account or a whole service. */
const FULL_ACCESS_POLICY =
  /^arn:aws[a-z-]*:iam::aws:policy\/(.*\/)?(AdministratorAccess|PowerUserAccess|[A-Za-z0-9_]*FullAccess)$/;

const POLICY_ATTACHMENTS: readonly { type: string; attribute: string }[] = [
  { type: "aws_iam_role_policy_attachment", attribute: "policy_arn" },
  { type: "aws_iam_policy_attachment", attribute: "policy_arn" },
  { type: "aws_iam_user_policy_attachment", attribute: "policy_arn" },
  { type: "aws_iam_group_policy_attachment", attribute: "policy_arn" },
  { type: "aws_iam_role_policy_attachments_exclusive", attribute: "policy_arns" },
  { type: "aws_iam_role", attribute: "managed_policy_arns" },
];

/** No administrator, power-user or `*FullAccess` AWS managed policy attached. */
export function noFullAccessManagedPolicies(stack: StackModel): Finding[] {
  const findings: Finding[] = [];
  for (const { type, attribute } of POLICY_ATTACHMENTS) {
    for (const resource of stack.resources(type)) {
      for (const arn of strings(resource.attributes[attribute])) {
        if (FULL_ACCESS_POLICY.test(arn)) {
          findings.push(finding(resource, `attaches the AWS managed policy ${arn}`));
        }
      }
    }
  }
  return findings;
}
