import {
  asRecord,
  blocks,
  type StackModel,
  strings,
  type TerraformElement,
} from "./terraform-model";

/** A principal of a resource-based policy statement. */
export interface PolicyPrincipal {
  /** `AWS`, `Service`, `Federated` or `*`. */
  readonly type: string;
  readonly identifiers: readonly string[];
}

/** One IAM policy statement, read the same way from a policy-document data source or from JSON. */
export interface PolicyStatement {
  /** The resource or data source that holds the policy. */
  readonly owner: TerraformElement;
  /** `"Sid"` when it has one, otherwise `#<position>` (from 1). */
  readonly label: string;
  readonly effect: "Allow" | "Deny";
  readonly actions: readonly string[];
  readonly notActions: readonly string[];
  readonly resources: readonly string[];
  readonly notResources: readonly string[];
  /** Empty for identity-based policies (attached to a role, user or group). */
  readonly principals: readonly PolicyPrincipal[];
  /** Condition as written: data-source blocks `{test, variable, values}`. */
  readonly conditions: readonly { test: string; variable: string; values: readonly string[] }[];
}

/** Attributes that hold a policy as JSON text. */
const POLICY_ATTRIBUTES = ["policy", "assume_role_policy"];

/**
 * Every statement of every policy in the stack: `aws_iam_policy_document` data sources, and
 * policies written as literal JSON in a `policy` / `assume_role_policy` / `inline_policy`
 * argument. A policy that is only a reference (`${data.aws_iam_policy_document.x.json}`) is read
 * at its data source; one built by a Terraform function (`${jsonencode(...)}`) cannot be read at
 * synth time and is skipped.
 */
export function policyStatements(stack: StackModel): readonly PolicyStatement[] {
  return stack.cached("policy-statements", () => {
    const statements: PolicyStatement[] = [];
    for (const document of stack.dataSources("aws_iam_policy_document")) {
      statements.push(...documentStatements(document));
    }
    for (const type of stack.resourceTypes()) {
      for (const resource of stack.resources(type)) {
        for (const text of policyTexts(resource)) {
          statements.push(...jsonStatements(resource, text));
        }
      }
    }
    return statements;
  });
}

/**
 * Statements of the policy a resource argument holds: the referenced policy-document data
 * source's, or the literal JSON's.
 */
export function statementsOfPolicyArgument(
  stack: StackModel,
  owner: TerraformElement,
  value: unknown,
): readonly PolicyStatement[] {
  const documents = stack.referenced(value, "aws_iam_policy_document");
  if (documents.length > 0) return documents.flatMap(documentStatements);
  return typeof value === "string" && value.trimStart().startsWith("{")
    ? jsonStatements(owner, value)
    : [];
}

function documentStatements(document: TerraformElement): PolicyStatement[] {
  return blocks(document.attributes.statement).map((statement, index) => ({
    owner: document,
    label: typeof statement.sid === "string" ? `"${statement.sid}"` : `#${index + 1}`,
    effect: statement.effect === "Deny" ? "Deny" : "Allow",
    actions: strings(statement.actions),
    notActions: strings(statement.not_actions),
    resources: strings(statement.resources),
    notResources: strings(statement.not_resources),
    principals: blocks(statement.principals).map((p) => ({
      type: String(p.type),
      identifiers: strings(p.identifiers),
    })),
    conditions: blocks(statement.condition).map((c) => ({
      test: String(c.test),
      variable: String(c.variable),
      values: strings(c.values),
    })),
  }));
}

function policyTexts(resource: TerraformElement): string[] {
  const texts: string[] = [];
  for (const attribute of POLICY_ATTRIBUTES) {
    const value = resource.attributes[attribute];
    if (typeof value === "string" && value.trimStart().startsWith("{")) texts.push(value);
  }
  for (const inline of blocks(resource.attributes.inline_policy)) {
    if (typeof inline.policy === "string" && inline.policy.trimStart().startsWith("{")) {
      texts.push(inline.policy);
    }
  }
  return texts;
}

function jsonStatements(owner: TerraformElement, text: string): PolicyStatement[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  const raw = asRecord(parsed).Statement;
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return list.map(asRecord).map((statement, index) => ({
    owner,
    label: typeof statement.Sid === "string" ? `"${statement.Sid}"` : `#${index + 1}`,
    effect: statement.Effect === "Deny" ? "Deny" : "Allow",
    actions: strings(statement.Action),
    notActions: strings(statement.NotAction),
    resources: strings(statement.Resource),
    notResources: strings(statement.NotResource),
    principals: jsonPrincipals(statement.Principal),
    conditions: jsonConditions(statement.Condition),
  }));
}

function jsonPrincipals(value: unknown): PolicyPrincipal[] {
  if (value === undefined) return [];
  if (value === "*") return [{ type: "*", identifiers: ["*"] }];
  return Object.entries(asRecord(value)).map(([type, identifiers]) => ({
    type,
    identifiers: strings(identifiers),
  }));
}

function jsonConditions(value: unknown): PolicyStatement["conditions"] {
  return Object.entries(asRecord(value)).flatMap(([test, byVariable]) =>
    Object.entries(asRecord(byVariable)).map(([variable, values]) => ({
      test,
      variable,
      // JSON conditions may hold booleans or numbers (`"aws:SecureTransport": false`).
      values: (Array.isArray(values) ? values : [values]).map(String),
    })),
  );
}
