/**
 * SSM Parameter Store of each simulated region (the app's `<parameterPath>` settings, e.g. the
 * database writer endpoint that detach-and-promote rewrites).
 *
 * Sources (Systems Manager API Reference): PutParameter (Overwrite; ParameterAlreadyExists when
 * the name exists and Overwrite is not true; returns Version and Tier); GetParameter /
 * GetParameters (ParameterNotFound; InvalidParameters lists unknown names).
 */
import type {
  GetParameterRequest,
  GetParametersRequest,
  PutParameterRequest,
} from "@aws-sdk/client-ssm";
import type { SimulatedClock } from "./clock";
import { SimulatorUnsupportedError, serviceError } from "./errors";

export interface StoredParameter {
  readonly name: string;
  readonly value: string;
  readonly type: string;
  readonly version: number;
  readonly lastModified: number;
}

export class SsmSimulation {
  private readonly parameters = new Map<string, Map<string, StoredParameter>>();
  private readonly accountId: string;
  private readonly clock: SimulatedClock;

  constructor(accountId: string, clock: SimulatedClock) {
    this.accountId = accountId;
    this.clock = clock;
  }

  /** Seeds or overwrites a parameter without a call (initial state, scenario setup). */
  seed(region: string, name: string, value: string, type = "String"): void {
    const store = this.store(region);
    const version = (store.get(name)?.version ?? 0) + 1;
    store.set(name, { name, value, type, version, lastModified: this.clock.now() });
  }

  /** A parameter's current value in a region, or undefined. */
  value(region: string, name: string): string | undefined {
    return this.store(region).get(name)?.value;
  }

  /** Every parameter of a region. */
  parametersOf(region: string): StoredParameter[] {
    return [...this.store(region).values()].map((parameter) => ({ ...parameter }));
  }

  handle(operation: string, input: Record<string, unknown>, region: string): unknown {
    switch (operation) {
      case "PutParameter":
        return this.putParameter(input as unknown as PutParameterRequest, region);
      case "GetParameter":
        return this.getParameter(input as unknown as GetParameterRequest, region);
      case "GetParameters":
        return this.getParameters(input as unknown as GetParametersRequest, region);
      default:
        throw new SimulatorUnsupportedError(`SSM ${operation} is not modelled`);
    }
  }

  private putParameter(input: PutParameterRequest, region: string) {
    const name = input.Name as string;
    const store = this.store(region);
    const existing = store.get(name);
    if (existing && input.Overwrite !== true) {
      throw serviceError(
        "ssm",
        "ParameterAlreadyExists",
        "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.",
      );
    }
    const version = (existing?.version ?? 0) + 1;
    store.set(name, {
      name,
      value: input.Value as string,
      type: input.Type ?? existing?.type ?? "String",
      version,
      lastModified: this.clock.now(),
    });
    return { Version: version, Tier: "Standard" };
  }

  private getParameter(input: GetParameterRequest, region: string) {
    const parameter = this.store(region).get(input.Name as string);
    if (!parameter) {
      throw serviceError("ssm", "ParameterNotFound", `Parameter ${input.Name} not found.`);
    }
    return { Parameter: this.describe(parameter, region) };
  }

  private getParameters(input: GetParametersRequest, region: string) {
    const store = this.store(region);
    const names = input.Names ?? [];
    return {
      Parameters: names
        .map((name) => store.get(name))
        .filter((parameter): parameter is StoredParameter => parameter !== undefined)
        .map((parameter) => this.describe(parameter, region)),
      InvalidParameters: names.filter((name) => !store.has(name)),
    };
  }

  private describe(parameter: StoredParameter, region: string) {
    return {
      Name: parameter.name,
      Type: parameter.type,
      Value: parameter.value,
      Version: parameter.version,
      LastModifiedDate: new Date(parameter.lastModified),
      ARN: `arn:aws:ssm:${region}:${this.accountId}:parameter${parameter.name}`,
      DataType: "text",
    };
  }

  private store(region: string): Map<string, StoredParameter> {
    let store = this.parameters.get(region);
    if (!store) {
      store = new Map();
      this.parameters.set(region, store);
    }
    return store;
  }
}
