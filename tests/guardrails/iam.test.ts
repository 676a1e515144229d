import {
  DataAwsIamPolicyDocument,
  type DataAwsIamPolicyDocumentStatement,
} from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { describe, expect, it } from "vitest";
import { RegionalKey } from "../../src/constructs/encryption";
import { lacksResourceLevelPermissions } from "../../src/guardrails/rules/iam";
import { ACCOUNT, violation, violationsOf } from "../support/guardrails";
import { stackWithProviders, TEST_REGIONS } from "../support/synth";

/** A role with one inline policy built from a policy-document data source. */
function roleWithDocument(statement: DataAwsIamPolicyDocumentStatement[]) {
  const { stack, providers } = stackWithProviders();
  const document = new DataAwsIamPolicyDocument(stack, "permissions", {
    provider: providers.primary,
    statement,
  });
  const role = new IamRole(stack, "role", {
    provider: providers.primary,
    name: "worker",
    assumeRolePolicy: JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "lambda.amazonaws.com" },
          Action: "sts:AssumeRole",
        },
      ],
    }),
  });
  new IamRolePolicy(stack, "policy", {
    provider: providers.primary,
    role: role.id,
    policy: document.json,
  });
  return stack;
}

/** A role with one inline policy written as literal JSON. */
function roleWithJson(statement: Record<string, unknown>) {
  const { stack, providers } = stackWithProviders();
  new IamRolePolicy(stack, "policy", {
    provider: providers.primary,
    role: "worker",
    policy: JSON.stringify({ Version: "2012-10-17", Statement: [statement] }),
  });
  return stack;
}

const TABLE = `arn:aws:dynamodb:us-west-2:${ACCOUNT}:table/ledger`;

describe("SS-IAM-1 no wildcard actions", () => {
  it("fails a whole-service wildcard in a policy document", () => {
    const stack = roleWithDocument([
      { sid: "Everything", actions: ["dynamodb:*", "s3:GetObject"], resources: [TABLE] },
    ]);
    expect(violationsOf("SS-IAM-1", stack)).toEqual([
      violation("SS-IAM-1", "test/permissions", 'statement "Everything" allows ["dynamodb:*"]'),
    ]);
  });

  it("fails * and NotAction in literal JSON", () => {
    expect(
      violationsOf("SS-IAM-1", roleWithJson({ Effect: "Allow", Action: "*", Resource: TABLE })),
    ).toEqual([violation("SS-IAM-1", "test/policy", 'statement #1 allows ["*"]')]);
    expect(
      violationsOf(
        "SS-IAM-1",
        roleWithJson({ Effect: "Allow", NotAction: "iam:*", Resource: TABLE }),
      ),
    ).toEqual([
      violation(
        "SS-IAM-1",
        "test/policy",
        'statement #1 allows every action except ["iam:*"] (NotAction)',
      ),
    ]);
  });

  it("passes listed actions, partial wildcards, denies, and the default key-policy statement of RegionalKey", () => {
    const stack = roleWithDocument([
      { actions: ["dynamodb:GetItem", "dynamodb:PutItem"], resources: [TABLE] },
      { effect: "Deny", actions: ["dynamodb:*"], resources: [`${TABLE}/backup/*`] },
      { actions: ["kms:GenerateDataKey*"], resources: [`arn:aws:kms:us-west-2:${ACCOUNT}:key/k`] },
    ]);
    expect(violationsOf("SS-IAM-1", stack)).toEqual([]);
    const { stack: keyStack, providers } = stackWithProviders();
    new RegionalKey(keyStack, "key", {
      provider: providers.primary,
      region: TEST_REGIONS.primary,
      accountId: ACCOUNT,
      aliasName: "test",
    });
    expect(violationsOf("SS-IAM-1", keyStack)).toEqual([]);
  });

  it("fails kms:* granted to anything but the account root", () => {
    const { stack, providers } = stackWithProviders();
    new DataAwsIamPolicyDocument(stack, "key-policy", {
      provider: providers.primary,
      statement: [
        {
          sid: "AdminRole",
          principals: [{ type: "AWS", identifiers: [`arn:aws:iam::${ACCOUNT}:role/admin`] }],
          actions: ["kms:*"],
          resources: ["*"],
        },
      ],
    });
    expect(violationsOf("SS-IAM-1", stack)).toEqual([
      violation("SS-IAM-1", "test/key-policy", 'statement "AdminRole" allows ["kms:*"]'),
    ]);
  });
});

describe("SS-IAM-2 resources are scoped", () => {
  it("fails * for actions that support resource-level permissions", () => {
    const stack = roleWithDocument([
      {
        sid: "Ledger",
        actions: ["dynamodb:PutItem", "autoscaling:DescribeAutoScalingGroups"],
        resources: ["*"],
      },
    ]);
    expect(violationsOf("SS-IAM-2", stack)).toEqual([
      violation(
        "SS-IAM-2",
        "test/permissions",
        'statement "Ledger" grants ["dynamodb:PutItem"] on ["*"], but these actions support resource-level permissions',
      ),
    ]);
  });

  it("fails an ARN that names no region, account or resource, and a NotResource allow", () => {
    expect(
      violationsOf(
        "SS-IAM-2",
        roleWithJson({ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::*" }),
      ),
    ).toEqual([
      violation(
        "SS-IAM-2",
        "test/policy",
        'statement #1 grants ["s3:GetObject"] on ["arn:aws:s3:::*"], but these actions support resource-level permissions',
      ),
    ]);
    expect(
      violationsOf(
        "SS-IAM-2",
        roleWithJson({ Effect: "Allow", Action: "s3:GetObject", NotResource: "arn:aws:s3:::x" }),
      ),
    ).toEqual([
      violation(
        "SS-IAM-2",
        "test/policy",
        'statement #1 grants every resource except ["arn:aws:s3:::x"] (NotResource)',
      ),
    ]);
  });

  it("passes * for actions without resource-level permissions, scoped ARNs, and resource policies", () => {
    const stack = roleWithDocument([
      {
        actions: [
          "autoscaling:DescribeAutoScalingGroups",
          "autoscaling:Describe*",
          "cloudwatch:GetMetricData",
          "route53:ListHealthChecks",
        ],
        resources: ["*"],
      },
      { actions: ["dynamodb:PutItem"], resources: [TABLE] },
      {
        actions: ["logs:CreateLogStream"],
        resources: [`arn:aws:logs:us-west-2:${ACCOUNT}:log-group:/aws/lambda/x:*`],
      },
      // Step Functions log delivery, which AWS documents only on "*".
      { actions: ["logs:CreateLogDelivery", "logs:PutResourcePolicy"], resources: ["*"] },
      // One account's logs in one region is a scope.
      { actions: ["logs:DescribeLogStreams"], resources: [`arn:aws:logs:us-west-2:${ACCOUNT}:*`] },
    ]);
    expect(violationsOf("SS-IAM-2", stack)).toEqual([]);
    const { stack: keyStack, providers } = stackWithProviders();
    new RegionalKey(keyStack, "key", {
      provider: providers.primary,
      region: TEST_REGIONS.primary,
      accountId: ACCOUNT,
      aliasName: "test",
    });
    expect(violationsOf("SS-IAM-2", keyStack)).toEqual([]);
  });

  it("knows partial wildcards only when every matching action lacks resource-level permissions", () => {
    expect(lacksResourceLevelPermissions("ec2:DescribeInstances")).toBe(true);
    expect(lacksResourceLevelPermissions("autoscaling:Describe*")).toBe(true);
    expect(lacksResourceLevelPermissions("cloudwatch:Get*")).toBe(false);
    expect(lacksResourceLevelPermissions("autoscaling:*")).toBe(false);
  });
});

describe("SS-IAM-3 no full-access AWS managed policies", () => {
  it("fails AdministratorAccess and *FullAccess attachments", () => {
    const { stack, providers } = stackWithProviders();
    for (const name of ["AdministratorAccess", "AmazonDynamoDBFullAccess"]) {
      new IamRolePolicyAttachment(stack, name, {
        provider: providers.primary,
        role: "worker",
        policyArn: `arn:aws:iam::aws:policy/${name}`,
      });
    }
    expect(violationsOf("SS-IAM-3", stack)).toEqual([
      violation(
        "SS-IAM-3",
        "test/AdministratorAccess",
        "attaches the AWS managed policy arn:aws:iam::aws:policy/AdministratorAccess",
      ),
      violation(
        "SS-IAM-3",
        "test/AmazonDynamoDBFullAccess",
        "attaches the AWS managed policy arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess",
      ),
    ]);
  });

  it("passes narrow managed policies", () => {
    const { stack, providers } = stackWithProviders();
    new IamRolePolicyAttachment(stack, "ssm", {
      provider: providers.primary,
      role: "worker",
      policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    });
    expect(violationsOf("SS-IAM-3", stack)).toEqual([]);
  });
});
