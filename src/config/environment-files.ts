import { readdirSync } from "node:fs";
import { REGION_ROLES } from "../../functions/shared/region-roles";
import { namePrefixOf, regionNamePrefix } from "../../functions/shared/resource-names";
import { invalidSetting } from "../errors";
import { cidrsOverlap, parseIpv4Cidr } from "../ipv4-cidr";
import type { EnvConfig } from "./schema";

/**
 * Which environment files a directory holds, which of them a run selects, and what must differ
 * between them. Every entry point that picks environments (synth in main.ts, bootstrap, the CLIs
 * through src/cli/environment-selection.ts) uses these, so they list, select and refuse
 * environments the same way.
 */

/** Names an environment may have: the env file's name without `.json`. */
export const ENVIRONMENT_NAME_PATTERN = /^[a-z0-9][a-z0-9-]*$/;

/**
 * The variable that selects the environments synth builds, comma-separated (`prod`, or
 * `dev,staging`). Unset or empty: every env file, each of which must be valid. Set: only the
 * selected files must be valid; a broken other file is a warning. For incidents and per-env
 * commands: `SHOPSMART_ENVS=prod npx cdktf deploy shopsmart-prod`.
 */
export const ENVIRONMENT_SELECTION_VARIABLE = "SHOPSMART_ENVS";

/**
 * Appended to the error of a synth of every environment that an env file stopped: how to go on
 * with the other environments meanwhile (an incident must not wait for someone's broken dev.json).
 */
export const SELECT_ONE_ENVIRONMENT_HINT =
  `To synthesize, diff or deploy another environment meanwhile, select it: ` +
  `${ENVIRONMENT_SELECTION_VARIABLE}=<env> npm run cdktf -- deploy <project>-<env> ` +
  "(docs/environments.md, One environment at a time).";

/** The environments `dir` holds: the names of its `*.json` files, sorted; none if unreadable. */
export function listEnvironments(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((file) => file.endsWith(".json"))
      .map((file) => file.slice(0, -".json".length))
      .sort();
  } catch {
    return [];
  }
}

/** The message for an environment `envsDir` has no file for, listing the ones it has. */
export function unknownEnvironmentMessage(
  env: string,
  available: readonly string[],
  envsDir: string,
): string {
  return `Unknown environment "${env}": there is no ${envsDir}/${env}.json.\n${knownEnvironments(available, envsDir)}`;
}

/** "Available environments: dev, prod." or, for an empty directory, that it holds none. */
export function knownEnvironments(available: readonly string[], envsDir: string): string {
  return available.length > 0
    ? `Available environments: ${available.join(", ")}.`
    : `${envsDir} holds no environment files.`;
}

/**
 * The environments `SHOPSMART_ENVS` selects, in the order given without repeats; `undefined`
 * (every environment) when unset or empty. Throws a UserInputError for a name that cannot be an
 * environment; whether a file exists for it is the loader's check.
 */
export function parseEnvironmentSelection(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const names = value.split(",").map((name) => name.trim());
  const bad = names.find((name) => !ENVIRONMENT_NAME_PATTERN.test(name));
  if (bad !== undefined) {
    throw invalidSetting(
      ENVIRONMENT_SELECTION_VARIABLE,
      value,
      "environment names separated by commas, e.g. prod or dev,staging (unset means every env file)",
    );
  }
  return [...new Set(names)];
}

/** An env file that loaded, as the cross-file checks see it. */
export interface LoadedEnvFile {
  /** The file as messages show it, e.g. `envs/prod.json`. */
  readonly file: string;
  readonly config: EnvConfig;
}

/** A value two env files must not share, found in both. */
export interface EnvCollision {
  /** The file the problem is reported on (the later of the two by name). */
  readonly file: string;
  /** The file it collides with. */
  readonly otherFile: string;
  /** Dotted path of the field in `file`. */
  readonly path: string;
  readonly value: string;
  /** What to write instead, as the `expected` of a problem. */
  readonly expected: string;
}

/**
 * Values two env files must not share: `dns.domainName` (both stacks would create the same
 * failover records and health checks in the zone, and each deploy would take the name over) and
 * the resource name prefixes (`<project>-<environment>` and its per-region
 * `<project>-<environment>-<role>`, which every resource name starts with: the second stack's
 * IAM roles, functions, clusters and alarms would clash with the first's).
 */
export function envCollisions(files: readonly LoadedEnvFile[]): EnvCollision[] {
  const collisions: EnvCollision[] = [];
  const domains = new Map<string, LoadedEnvFile>();
  const prefixes = new Map<string, { owner: LoadedEnvFile; prefix: string }>();
  for (const entry of files) {
    const { config, file } = entry;
    const domain = config.dns.domainName;
    const domainOwner = domains.get(domain);
    if (domainOwner === undefined) domains.set(domain, entry);
    else {
      collisions.push({
        file,
        otherFile: domainOwner.file,
        path: "dns.domainName",
        value: domain,
        expected:
          `a name no other env file uses: ${domainOwner.file} has it too, and both stacks would ` +
          `own the same Route 53 failover records. Give this environment its own, e.g. ` +
          `"${config.environment}.${domain}" (inside dns.hostedZone)`,
      });
    }

    const ownPrefixes = namePrefixesOf(config);
    const clash = ownPrefixes
      .map((prefix) => ({ prefix, seen: prefixes.get(prefix) }))
      .find(({ seen }) => seen !== undefined);
    if (clash?.seen !== undefined) {
      collisions.push({
        file,
        otherFile: clash.seen.owner.file,
        path: "project",
        value: config.project,
        expected:
          `a project and environment whose resource names no other env file uses: ` +
          `"${clash.prefix}" starts the resource names of ${clash.seen.owner.file} too ` +
          `(project "${clash.seen.owner.config.project}", environment ` +
          `"${clash.seen.owner.config.environment}"), so the stacks would create resources ` +
          "with the same names. Rename the file (and its environment) or change project",
      });
    }
    for (const prefix of ownPrefixes) {
      if (!prefixes.has(prefix)) prefixes.set(prefix, { owner: entry, prefix });
    }
  }
  return collisions;
}

/** `<project>-<environment>` and the per-region prefixes under it. */
function namePrefixesOf(config: EnvConfig): string[] {
  const prefix = namePrefixOf(config.project, config.environment);
  return [prefix, regionNamePrefix(prefix, "primary"), regionNamePrefix(prefix, "secondary")];
}

/**
 * VPC ranges an env file shares with another one, as warnings: legal (separate accounts may
 * reuse ranges; the schema already refuses overlap inside one file), but the two VPCs can then
 * never be peered or routed through one transit gateway, which a copied env file rarely means.
 */
export function reusedVpcRangeWarnings(files: readonly LoadedEnvFile[]): string[] {
  const warnings: string[] = [];
  const roles = REGION_ROLES;
  files.forEach((entry, index) => {
    for (const earlier of files.slice(0, index)) {
      for (const role of roles) {
        for (const otherRole of roles) {
          const own = entry.config.network.vpcCidr[role];
          const other = earlier.config.network.vpcCidr[otherRole];
          const ownCidr = parseIpv4Cidr(own);
          const otherCidr = parseIpv4Cidr(other);
          if (ownCidr && otherCidr && cidrsOverlap(ownCidr, otherCidr)) {
            warnings.push(
              `warning: ${entry.file} network.vpcCidr.${role} (${own}) overlaps ` +
                `${earlier.file} network.vpcCidr.${otherRole} (${other}): the two VPCs can never ` +
                "be peered or share a transit gateway. If this is a copy, give it ranges no " +
                "other env file uses.",
            );
          }
        }
      }
    }
  });
  return warnings;
}
