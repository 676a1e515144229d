/**
 * The automation's Lambda functions: each is `functions/handlers/<name>.ts` and is deployed under
 * this name. The construct, the simulator and the benches all read this one list.
 */
export const FUNCTION_NAMES = [
  "read-topology",
  "read-traffic",
  "plan-operation",
  "promote-database",
  "check-writer",
  "scale-capacity",
  "flip-dns",
  "finish",
  "operations-api",
  "auto-failover",
  "probe-primary",
  "run-drill",
] as const;

export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** Where the handler of each function lives, by default. */
export const HANDLERS_DIR = "functions/handlers";

/** The handler entry of a function, relative to the project root: `functions/handlers/<name>.ts`. */
export function handlerEntry(name: FunctionName): string {
  return `${HANDLERS_DIR}/${name}.ts`;
}

/** Every function's handler entry, in FUNCTION_NAMES order: what synth and the bench bundle. */
export function handlerEntries(): Record<FunctionName, string> {
  return Object.fromEntries(FUNCTION_NAMES.map((name) => [name, handlerEntry(name)])) as Record<
    FunctionName,
    string
  >;
}

/** `<namePrefix>-dr-<fn>`: the deployed function, its role and its log group. */
export function functionName(namePrefix: string, fn: FunctionName): string {
  return `${namePrefix}-dr-${fn}`;
}
