import { type Finding, finding } from "../rule";
import { block, isSet, type StackModel, shown, type TerraformElement } from "../terraform-model";

/** A retention period on every log group (unset or 0 keeps logs, and their cost, forever). */
export function logGroupsExpire(stack: StackModel): Finding[] {
  return stack
    .resources("aws_cloudwatch_log_group")
    .filter((group) => {
      const days = group.attributes.retention_in_days;
      return typeof days !== "number" || days <= 0;
    })
    .map((group) =>
      finding(
        group,
        `retention_in_days is ${shown(group.attributes.retention_in_days)}, so its logs never expire`,
      ),
    );
}

/** Log groups encrypted with a KMS key of the stack (`kms_key_id`). */
export function logGroupsEncryptedWithKms(stack: StackModel): Finding[] {
  return stack
    .resources("aws_cloudwatch_log_group")
    .filter((group) => !isSet(group.attributes.kms_key_id))
    .map((group) =>
      finding(
        group,
        "has no kms_key_id, so its logs are encrypted only with a CloudWatch-owned key",
      ),
    );
}

/**
 * Every Lambda function logs into a log group the stack declares (by `logging_config.log_group`
 * or the default name `/aws/lambda/<function_name>`), so the log-group rules apply to it. An
 * undeclared group is created by Lambda on first run: unencrypted by our key and never expiring.
 */
export function functionsLogToDeclaredGroups(stack: StackModel): Finding[] {
  const findings: Finding[] = [];
  const groups = stack.resources("aws_cloudwatch_log_group");
  for (const fn of stack.resources("aws_lambda_function")) {
    const configured = block(fn.attributes.logging_config).log_group;
    if (isSet(configured)) {
      if (!groups.some((group) => namesGroup(stack, configured, group))) {
        findings.push(
          finding(
            fn,
            `logs to ${shown(configured)} (logging_config.log_group), which is not an aws_cloudwatch_log_group of this stack`,
          ),
        );
      }
      continue;
    }
    const name = fn.attributes.function_name;
    const declared = groups.some(
      (group) =>
        group.attributes.name === `/aws/lambda/${String(name)}` ||
        stack.references(group.attributes.name, fn),
    );
    if (!declared) {
      findings.push(
        finding(
          fn,
          `logs to /aws/lambda/${typeof name === "string" ? name : "<function_name>"}, which no aws_cloudwatch_log_group of this stack declares`,
        ),
      );
    }
  }
  return findings;
}

/** Whether a `log_group` argument names `group`: by reference, or by its literal name. */
function namesGroup(stack: StackModel, value: string, group: TerraformElement): boolean {
  return stack.references(value, group) || value === group.attributes.name;
}
