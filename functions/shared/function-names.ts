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

/** `<namePrefix>-dr-<fn>`: the deployed function, its role and its log group. */
export function functionName(namePrefix: string, fn: FunctionName): string {
  return `${namePrefix}-dr-${fn}`;
}
