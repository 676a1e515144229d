import type { RegionRole } from "../config/schema";

/** A resource or data source of the synthesized stack, as the rules read it. */
export interface TerraformElement {
  /** Terraform type, e.g. `aws_s3_bucket`. */
  readonly type: string;
  /** Logical id inside the type. */
  readonly name: string;
  /** Address inside Terraform expressions: `aws_s3_bucket.x` or `data.aws_iam_policy_document.x`. */
  readonly address: string;
  /** Construct path, e.g. `shopsmart-prod/storage/primary-assets/bucket`. */
  readonly path: string;
  /** Region of the element's provider, when the provider names a literal region. */
  readonly region: string | undefined;
  /** `primary` or `secondary` when the element uses the provider with that alias. */
  readonly role: RegionRole | undefined;
  /** The synthesized arguments (snake_case), without the `//` metadata. */
  readonly attributes: Readonly<Record<string, unknown>>;
}

/** Options that change what the rules expect of a stack. */
export interface GuardrailOptions {
  /**
   * Whether the stack is a production environment: stateful resources must then have deletion
   * protection (and buckets no `force_destroy`).
   * @default false
   */
  readonly production?: boolean;
  /**
   * The env file the stack is built from, named in the fixes an env-file field can make
   * (`set database.deletionProtection to true in envs/prod.json`).
   * @default - `envs/<environment>.json` with the `environment` default tag of the stack's AWS
   * providers; left as `envs/<environment>.json` when they carry none
   */
  readonly envFile?: string;
}

/** The Terraform JSON of one stack, as `TerraformStack.toTerraform()` returns it. */
export type TerraformJson = Readonly<Record<string, unknown>>;

type ElementsByType = Map<string, TerraformElement[]>;

/** `${aws_x.name.attr}` style references inside expression strings; group 1 = `data.` or empty. */
const REFERENCE = /(data\.)?\b(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)\./g;

/**
 * The synthesized stack indexed once for all rules: elements by type and address, the region and
 * role of each provider, and a memo for derived indexes that several rules share.
 */
export class StackModel {
  readonly production: boolean;
  /** The `environment` default tag of the stack's AWS providers (the env file's name), if any. */
  readonly environment: string | undefined;
  /** Region of the provider aliased `primary` / `secondary`, when the stack has one. */
  readonly regions: Readonly<Partial<Record<RegionRole, string>>>;
  private readonly resourcesByType: ElementsByType;
  private readonly dataSourcesByType: ElementsByType;
  private readonly byAddress = new Map<string, TerraformElement>();
  private readonly memo = new Map<string, unknown>();

  constructor(json: TerraformJson, options: GuardrailOptions = {}) {
    this.production = options.production ?? false;
    this.environment = environmentTag(json.provider);
    const providers = awsProviderRegions(json.provider);
    this.regions = {
      primary: providers.get("aws.primary"),
      secondary: providers.get("aws.secondary"),
    };
    this.resourcesByType = this.index(json.resource, "", providers);
    this.dataSourcesByType = this.index(json.data, "data.", providers);
  }

  /** Every resource of a type, in synthesized order. */
  resources(type: string): readonly TerraformElement[] {
    return this.resourcesByType.get(type) ?? [];
  }

  /** Every data source of a type. */
  dataSources(type: string): readonly TerraformElement[] {
    return this.dataSourcesByType.get(type) ?? [];
  }

  /** Every resource type the stack declares. */
  resourceTypes(): readonly string[] {
    return [...this.resourcesByType.keys()];
  }

  /** The element at a Terraform address (`aws_x.name` or `data.aws_x.name`). */
  element(address: string): TerraformElement | undefined {
    return this.byAddress.get(address);
  }

  /**
   * Elements referenced by `${...}` expressions anywhere inside `value` (strings, lists, blocks),
   * optionally only those of one type. Unknown addresses are skipped.
   */
  referenced(value: unknown, type?: string): TerraformElement[] {
    const found: TerraformElement[] = [];
    for (const address of referencedAddresses(value)) {
      const element = this.byAddress.get(address);
      if (element && (type === undefined || element.type === type)) found.push(element);
    }
    return found;
  }

  /** Whether `value` holds a reference to `element`. */
  references(value: unknown, element: TerraformElement): boolean {
    return referencedAddresses(value).includes(element.address);
  }

  /** Builds a derived index once per stack, shared by every rule that asks for it by `key`. */
  cached<T>(key: string, build: () => T): T {
    if (!this.memo.has(key)) this.memo.set(key, build());
    return this.memo.get(key) as T;
  }

  private index(
    section: unknown,
    prefix: string,
    providers: ReadonlyMap<string, string>,
  ): ElementsByType {
    const byType: ElementsByType = new Map();
    for (const [type, byName] of Object.entries(asRecord(section))) {
      const list: TerraformElement[] = [];
      for (const [name, body] of Object.entries(asRecord(byName))) {
        const { "//": meta, ...attributes } = asRecord(body);
        const provider = typeof attributes.provider === "string" ? attributes.provider : undefined;
        const element: TerraformElement = {
          type,
          name,
          address: `${prefix}${type}.${name}`,
          path: constructPathOf(meta) ?? `${prefix}${type}.${name}`,
          region: provider === undefined ? undefined : providers.get(provider),
          role: roleOf(provider),
          attributes,
        };
        list.push(element);
        this.byAddress.set(element.address, element);
      }
      byType.set(type, list);
    }
    return byType;
  }
}

/** Addresses (`aws_x.name`, `data.aws_x.name`) referenced by expressions inside `value`. */
export function referencedAddresses(value: unknown): string[] {
  const found: string[] = [];
  collectReferences(value, found);
  return found;
}

function collectReferences(value: unknown, found: string[]): void {
  if (typeof value === "string") {
    if (!value.includes("${")) return;
    for (const match of value.matchAll(REFERENCE)) {
      found.push(`${match[1] ?? ""}${match[2]}.${match[3]}`);
    }
  } else if (Array.isArray(value)) {
    for (const item of value) collectReferences(item, found);
  } else if (value !== null && typeof value === "object") {
    for (const item of Object.values(value)) collectReferences(item, found);
  }
}

function awsProviderRegions(section: unknown): Map<string, string> {
  const regions = new Map<string, string>();
  const aws = asRecord(section).aws;
  for (const provider of Array.isArray(aws) ? aws : []) {
    const { alias, region } = asRecord(provider);
    if (typeof region !== "string") continue;
    regions.set(typeof alias === "string" ? `aws.${alias}` : "aws", region);
  }
  return regions;
}

/** The first `default_tags.tags.environment` of an AWS provider (EnvironmentStack tags every one). */
function environmentTag(section: unknown): string | undefined {
  const aws = asRecord(section).aws;
  for (const provider of Array.isArray(aws) ? aws : []) {
    const defaultTags = asRecord(provider).default_tags;
    for (const block of Array.isArray(defaultTags) ? defaultTags : [defaultTags]) {
      const environment = asRecord(asRecord(block).tags).environment;
      if (typeof environment === "string") return environment;
    }
  }
  return undefined;
}

function roleOf(provider: string | undefined): RegionRole | undefined {
  if (provider === "aws.primary") return "primary";
  if (provider === "aws.secondary") return "secondary";
  return undefined;
}

function constructPathOf(meta: unknown): string | undefined {
  const path = asRecord(asRecord(meta).metadata).path;
  return typeof path === "string" ? path : undefined;
}

/** The value as a plain record, or an empty one. */
export function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/**
 * A nested block as a list: cdktf writes single blocks as objects and repeatable blocks as
 * arrays, so rules read both the same way.
 */
export function blocks(value: unknown): Record<string, unknown>[] {
  if (Array.isArray(value)) return value.map(asRecord);
  if (value !== null && typeof value === "object") return [asRecord(value)];
  return [];
}

/** The first block of a nested block attribute, or an empty record. */
export function block(value: unknown): Record<string, unknown> {
  return blocks(value)[0] ?? {};
}

/** Terraform booleans arrive as `true` or, from some generated types, as `"true"`. */
export function isTrue(value: unknown): boolean {
  return value === true || value === "true";
}

/** A non-empty string (a literal or a `${...}` reference). */
export function isSet(value: unknown): value is string {
  return typeof value === "string" && value.trim() !== "";
}

/** A list attribute as strings (a single string counts as a list of one). */
export function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** How a value is shown in a finding: strings quoted, missing spelled out. */
export function shown(value: unknown): string {
  if (value === undefined || value === null) return "unset";
  return JSON.stringify(value);
}
