import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { type App, TerraformStack, Testing } from "cdktf";
import type { RegionRole } from "../../src/config/schema";

/** The synthesized Terraform JSON of one stack, as the tests read it. */
export interface SynthesizedStack {
  readonly terraform: Record<string, unknown> & { backend?: Record<string, unknown> };
  readonly provider?: Record<string, Record<string, unknown>[]>;
  readonly resource: Record<string, Record<string, Record<string, unknown>>>;
  readonly data?: Record<string, Record<string, Record<string, unknown>>>;
  readonly ephemeral?: Record<string, Record<string, Record<string, unknown>>>;
  readonly output?: Record<string, { value: unknown }>;
}

/** Regions the construct tests build in. */
export const TEST_REGIONS: Readonly<Record<RegionRole, string>> = {
  primary: "us-east-2",
  secondary: "us-west-2",
};

/**
 * Synthesizes a stack (aspects and validations run) and returns its Terraform JSON, keeping the
 * `//` metadata so resources can be found by construct path.
 */
export function synth(stack: TerraformStack): SynthesizedStack {
  Testing.synth(stack, true);
  return JSON.parse(JSON.stringify(stack.toTerraform())) as SynthesizedStack;
}

/**
 * A bare stack with the two aliased providers a regional construct needs, for testing one
 * construct alone.
 */
export function stackWithProviders(app: App = Testing.app()) {
  const stack = new TerraformStack(app, "test");
  const providers = {
    primary: new AwsProvider(stack, "aws-primary", {
      alias: "primary",
      region: TEST_REGIONS.primary,
    }),
    secondary: new AwsProvider(stack, "aws-secondary", {
      alias: "secondary",
      region: TEST_REGIONS.secondary,
    }),
  };
  return { stack, providers };
}

/** All resources of one Terraform type, keyed by logical id. */
export function resourcesOf(
  json: SynthesizedStack,
  type: string,
): Record<string, Record<string, unknown>> {
  return json.resource[type] ?? {};
}

/** The resources of one type as a list (order of logical ids). */
export function listResources(json: SynthesizedStack, type: string): Record<string, unknown>[] {
  return Object.values(resourcesOf(json, type));
}

/** The single resource of a type whose construct path ends with `pathSuffix`. */
export function resourceAt(
  json: SynthesizedStack,
  type: string,
  pathSuffix: string,
): Record<string, unknown> {
  const matches = Object.entries(resourcesOf(json, type))
    .filter(([, resource]) => constructPath(resource).endsWith(`/${pathSuffix}`))
    .map(([, resource]) => resource);
  if (matches.length !== 1) {
    throw new Error(`expected one ${type} at */${pathSuffix}, found ${matches.length}`);
  }
  return matches[0];
}

/** A data source of one type whose construct path ends with `pathSuffix`. */
export function dataSourceAt(
  json: SynthesizedStack,
  type: string,
  pathSuffix: string,
): Record<string, unknown> {
  const matches = Object.entries(json.data?.[type] ?? {})
    .filter(([, resource]) => constructPath(resource).endsWith(`/${pathSuffix}`))
    .map(([, resource]) => resource);
  if (matches.length !== 1) {
    throw new Error(`expected one data.${type} at */${pathSuffix}, found ${matches.length}`);
  }
  return matches[0];
}

/** Sorted Terraform addresses (`type.name`) of every resource and data source. */
export function addresses(json: SynthesizedStack): string[] {
  const list: string[] = [];
  for (const [type, byName] of Object.entries(json.resource)) {
    for (const name of Object.keys(byName)) list.push(`${type}.${name}`);
  }
  for (const [type, byName] of Object.entries(json.data ?? {})) {
    for (const name of Object.keys(byName)) list.push(`data.${type}.${name}`);
  }
  return list.sort();
}

function constructPath(resource: Record<string, unknown>): string {
  const meta = resource["//"] as { metadata?: { path?: string } } | undefined;
  return meta?.metadata?.path ?? "";
}

/**
 * Statements of a synthesized aws_iam_policy_document data source, for asserting actions and
 * resources.
 */
export function policyStatements(json: SynthesizedStack, pathSuffix: string) {
  return dataSourceAt(json, "aws_iam_policy_document", pathSuffix).statement as {
    sid?: string;
    effect?: string;
    actions: string[];
    resources?: string[];
    principals?: { type: string; identifiers: string[] }[];
    condition?: { test: string; variable: string; values: string[] }[];
  }[];
}
