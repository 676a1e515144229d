import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { Construct } from "constructs";
import {
  otherRole,
  perRole,
  REGION_ROLES,
  type RegionRole,
} from "../../functions/shared/region-roles";
import { isKnown, ProblemCollector } from "../errors";

/** The parameters of one region. */
export interface AppConfigRegion {
  /** Provider of the region the parameters are written in. */
  readonly provider: AwsProvider;
  /**
   * Parameter name relative to `parameterPath` (e.g. `db/writer-endpoint`) -> value. Values are
   * plain `String` parameters: no secrets (a secret's ARN is fine, its value is not).
   */
  readonly parameters: Readonly<Record<string, string>>;
}

export interface AppConfigProps {
  /** Path prefix, starting and ending with "/", e.g. "/shopsmart/prod/". */
  readonly parameterPath: string;
  /**
   * Per region: provider and the parameters. Both regions must have the same keys: the app
   * reads the same names wherever it runs.
   */
  readonly regions: Readonly<Record<RegionRole, AppConfigRegion>>;
  /**
   * Keys (relative to `parameterPath`) whose value something other than Terraform rewrites,
   * such as `db/writer-endpoint`, which the failover automation points at the promoted cluster
   * after a detach-and-promote. Terraform writes their first value and afterwards ignores
   * changes to it (`lifecycle { ignore_changes = ["value"] }`), in both regions, so a later
   * `terraform apply` does not revert the automation's write. Side effect: a new value in the
   * config (e.g. a replaced cluster's endpoint) is not applied either; replace the parameter
   * (`terraform apply -replace=...`) or put the value with the AWS CLI.
   * https://developer.hashicorp.com/terraform/language/meta-arguments/lifecycle#ignore_changes
   * @default - none: Terraform owns every value
   */
  readonly automationOwnedKeys?: readonly string[];
}

/** Characters SSM allows in a parameter name. */
const NAME_CHARACTERS = /^[a-zA-Z0-9_.\-/]+$/;
/** Standard-tier parameters hold at most 4 KB. */
const MAX_VALUE_LENGTH = 4096;
/** SSM rejects names with more than 15 levels. */
const MAX_HIERARCHY_LEVELS = 15;

/**
 * The settings the web app reads at boot, as SSM `String` parameters (Standard tier) under one
 * path, written in both regions so the app in either region finds its configuration when the
 * other region is down. Each region carries its own values (its endpoints, its bucket, its
 * role) under the same names; a key present in one region only is rejected at synth. Keys in
 * `automationOwnedKeys` get their first value from Terraform and are the automation's after that.
 */
export class AppConfig extends Construct {
  /** Full parameter names (`parameterPath` + key), sorted; the same in both regions. */
  readonly parameterNames: readonly string[];
  /** The parameters of each region, by key relative to `parameterPath`. */
  readonly parameters: Readonly<Record<RegionRole, Readonly<Record<string, SsmParameter>>>>;

  constructor(scope: Construct, id: string, props: AppConfigProps) {
    super(scope, id);
    validate(this.node.path, props);
    const keys = Object.keys(props.regions.primary.parameters).sort();
    const automationOwned = new Set(props.automationOwnedKeys ?? []);
    this.parameterNames = keys.map((key) => `${props.parameterPath}${key}`);

    this.parameters = perRole((role) => {
      const { provider, parameters: values } = props.regions[role];
      const regionScope = new Construct(this, role);
      const parameters: Record<string, SsmParameter> = {};
      for (const key of keys) {
        const ownedByAutomation = automationOwned.has(key);
        // ':' cannot occur in a key, so distinct keys always give distinct construct ids.
        parameters[key] = new SsmParameter(regionScope, key.replaceAll("/", ":"), {
          provider,
          name: `${props.parameterPath}${key}`,
          type: "String",
          tier: "Standard",
          value: values[key],
          description: ownedByAutomation
            ? `App setting ${key} for the ${role} region; first value from Terraform, then owned by the failover automation (Terraform ignores changes to the value)`
            : `App setting ${key} for the ${role} region; managed by Terraform, manual edits are overwritten`,
          lifecycle: ownedByAutomation ? { ignoreChanges: ["value"] } : undefined,
        });
      }
      return parameters;
    });
  }
}

function validate(path: string, props: AppConfigProps): void {
  const problems = new ProblemCollector();
  const { parameterPath } = props;
  if (isKnown(parameterPath)) {
    if (
      !parameterPath.startsWith("/") ||
      !parameterPath.endsWith("/") ||
      parameterPath.includes("//") ||
      !NAME_CHARACTERS.test(parameterPath)
    ) {
      problems.add(
        "parameterPath",
        parameterPath,
        "a path starting and ending with '/' of letters, digits, '_', '.', '-' and '/', e.g. \"/shopsmart/prod/\"",
      );
    } else if (/^\/(aws|ssm)/i.test(parameterPath)) {
      problems.add(
        "parameterPath",
        parameterPath,
        "a path not beginning with /aws or /ssm (reserved by AWS)",
      );
    }
  }

  for (const role of REGION_ROLES) {
    for (const [key, value] of Object.entries(props.regions[role].parameters)) {
      const field = `regions.${role}.parameters["${key}"]`;
      if (
        key.startsWith("/") ||
        key.endsWith("/") ||
        key.includes("//") ||
        !NAME_CHARACTERS.test(key)
      ) {
        problems.add(
          `regions.${role}.parameters`,
          key,
          "keys relative to parameterPath (no leading or trailing '/') of letters, digits, '_', '.', '-' and '/', e.g. \"db/writer-endpoint\"",
        );
      } else if (levelsOf(`${parameterPath}${key}`) > MAX_HIERARCHY_LEVELS) {
        problems.add(
          `regions.${role}.parameters`,
          key,
          `keys that with parameterPath make at most ${MAX_HIERARCHY_LEVELS} levels (the SSM limit)`,
        );
      }
      if (isKnown(value) && (value.length === 0 || value.length > MAX_VALUE_LENGTH)) {
        problems.add(
          field,
          value,
          `a value of 1 to ${MAX_VALUE_LENGTH} characters (SSM rejects empty values; Standard tier holds 4 KB)`,
        );
      }
    }
  }

  const keys = Object.keys(props.regions.primary.parameters);
  for (const key of props.automationOwnedKeys ?? []) {
    if (!keys.includes(key)) {
      problems.add(
        "automationOwnedKeys",
        key,
        `one of the parameter keys (${keys.map((k) => `"${k}"`).join(", ")})`,
      );
    }
  }

  // A key in one region only is the drift DR exists to prevent: after failover the app would
  // boot without a setting it had before.
  for (const role of REGION_ROLES) {
    const other = otherRole(role);
    for (const key of Object.keys(props.regions[other].parameters)) {
      if (!Object.hasOwn(props.regions[role].parameters, key)) {
        problems.add(
          `regions.${role}.parameters["${key}"]`,
          undefined,
          `a value, as regions.${other} has one: both regions need the same keys so the app finds its settings after a failover`,
        );
      }
    }
  }
  problems.throwIfAnyFor(path);
}

function levelsOf(name: string): number {
  return name.split("/").filter((part) => part !== "").length;
}
