import { parseArgs } from "node:util";
import type { OperationRecord, Plan } from "../../functions/shared/operation";
import { formatDuration, operationProgressLines } from "../../functions/shared/operation-progress";
import {
  isTransientApiError,
  type OperationsApi,
  OperationsApiError,
  type StatusResponse,
  type TriggerResponse,
} from "../../functions/shared/operations-api";
import {
  createOperationsApiClient,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type OperationsApiClientOptions,
} from "../../functions/shared/operations-api-client";
import { REGION_ROLES, type RegionRole } from "../../functions/shared/region-roles";
import { UserInputError } from "../errors";
import { selectEnvironment } from "./environment-selection";
import {
  API_URL_VARIABLE,
  type OperationsEndpoint,
  type ResolveEndpointOptions,
  resolveOperationsEndpoint,
} from "./operations-api-endpoint";

/**
 * `npm run status|failover|failback -- --env <env> ...`: the operations API of a deployed
 * environment, signed with SigV4 by the default credential chain.
 *
 * Exit codes: 0 done (for --watch: the operation succeeded; for a dry run: no blockers);
 * 1 the operation failed, the dry run has blockers, or the API call failed (403, 409, timeout,
 * network, credentials...); 2 a usage error (bad flags, unknown environment, no API URL).
 * Every error is one message on stderr, never a stack trace.
 */

export const COMMANDS = ["status", "failover", "failback"] as const;
export type OperationsCommand = (typeof COMMANDS)[number];

/** How often --watch reads the operation. */
export const WATCH_INTERVAL_MS = 5_000;
/** Polls in a row that may fail (timeout, network, 5xx) before --watch gives up. */
export const WATCH_TOLERATED_FAILURES = 3;

const COMMON_USAGE = [
  "  --env <name|file>    environment, required: a name (envs/<name>.json, or in",
  "                       SHOPSMART_ENVS_DIR) or the path of an env file",
  `  --api-url <url>      the operations API (default: ${API_URL_VARIABLE}, else the stack's`,
  "                       status_api_url output via terraform output)",
  `  --timeout <seconds>  per request (default ${DEFAULT_REQUEST_TIMEOUT_MS / 1000})`,
  "  --json               print the API's answer as JSON (progress goes to stderr)",
];

export const USAGE: Record<OperationsCommand, string> = {
  status: [
    "usage: npm run status -- --env <name> [--operation <id>] [--watch] [--api-url <url>] [--json]",
    "Where the writer is, DNS health, capacity, replication lag, the latest operation.",
    "  --operation <id>     show this operation (steps, errors, RTO) instead",
    "  --watch              follow the operation (the given one, else the running one) until it ends",
    ...COMMON_USAGE,
  ].join("\n"),
  failover: [
    'usage: npm run failover -- --env <name> --mode planned|unplanned --reason "..." [--dry-run] [--watch]',
    "Moves the writer and traffic to the secondary region.",
    "  --mode planned       switchover without data loss; both regions must be up",
    "  --mode unplanned     failover allowing data loss, for when the primary region is down",
    '  --reason "..."       why (recorded with the operation), required',
    "  --dry-run            print the plan; change nothing",
    "  --watch              follow the operation until it ends; exit 0 only if it succeeded",
    ...COMMON_USAGE,
  ].join("\n"),
  failback: [
    'usage: npm run failback -- --env <name> --reason "..." [--dry-run] [--watch]',
    "Moves the writer and traffic back to the primary region (always planned).",
    '  --reason "..."       why (recorded with the operation), required',
    "  --dry-run            print the plan; change nothing",
    "  --watch              follow the operation until it ends; exit 0 only if it succeeded",
    ...COMMON_USAGE,
  ].join("\n"),
};

interface CommonArgs {
  env: string;
  apiUrl?: string;
  json: boolean;
  timeoutMs: number;
}

export type OperationsArgs =
  | ({ command: "status"; operationId?: string; watch: boolean } & CommonArgs)
  | ({
      command: "failover";
      mode: "planned" | "unplanned";
      reason: string;
      dryRun: boolean;
      watch: boolean;
    } & CommonArgs)
  | ({ command: "failback"; reason: string; dryRun: boolean; watch: boolean } & CommonArgs);

export type ParsedOperationsArgs =
  | { kind: "run"; args: OperationsArgs }
  | { kind: "help"; command: OperationsCommand | undefined }
  | { kind: "error"; command: OperationsCommand | undefined; message: string };

const OPTIONS = {
  env: { type: "string" },
  "api-url": { type: "string" },
  json: { type: "boolean" },
  timeout: { type: "string" },
  help: { type: "boolean", short: "h" },
  operation: { type: "string" },
  watch: { type: "boolean" },
  mode: { type: "string" },
  reason: { type: "string" },
  "dry-run": { type: "boolean" },
} as const;

/** Which options each command takes (beyond --env, --api-url, --json, --timeout, --help). */
const COMMAND_OPTIONS: Record<OperationsCommand, readonly string[]> = {
  status: ["operation", "watch"],
  failover: ["mode", "reason", "dry-run", "watch"],
  failback: ["reason", "dry-run", "watch"],
};
const COMMON_OPTIONS = ["env", "api-url", "json", "timeout", "help"];

function parseOptions(args: readonly string[]) {
  return parseArgs({ args: [...args], options: OPTIONS, strict: true, allowPositionals: false });
}

/** `<command> [options]`: the first argument is the command (the npm scripts put it there). */
export function parseOperationsArgs(argv: readonly string[]): ParsedOperationsArgs {
  const [first, ...rest] = argv;
  const command = COMMANDS.find((name) => name === first);
  if (command === undefined) {
    return {
      kind: "error",
      command: undefined,
      message: `unknown command ${JSON.stringify(first ?? "")}: use status, failover or failback`,
    };
  }
  const error = (message: string): ParsedOperationsArgs => ({ kind: "error", command, message });
  let values: ReturnType<typeof parseOptions>["values"];
  try {
    ({ values } = parseOptions(rest));
  } catch (parseError) {
    return error((parseError as Error).message);
  }
  if (values.help) return { kind: "help", command };
  for (const name of Object.keys(values)) {
    if (!COMMON_OPTIONS.includes(name) && !COMMAND_OPTIONS[command].includes(name)) {
      const why =
        command === "failback" && name === "mode"
          ? "a failback is always planned; drop --mode"
          : `npm run ${command} does not take it`;
      return error(`--${name}: ${why}`);
    }
  }
  if (values.env === undefined || values.env.trim() === "") {
    return error("--env is required (e.g. --env staging)");
  }
  let timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS;
  if (values.timeout !== undefined) {
    const seconds = Number(values.timeout);
    if (!/^\d+(\.\d+)?$/.test(values.timeout) || seconds <= 0 || seconds > 600) {
      return error(
        `--timeout: got "${values.timeout}"; expected seconds, more than 0, at most 600`,
      );
    }
    timeoutMs = Math.round(seconds * 1000);
  }
  const common: CommonArgs = {
    env: values.env,
    json: values.json ?? false,
    timeoutMs,
    ...(values["api-url"] === undefined ? {} : { apiUrl: values["api-url"] }),
  };
  const watch = values.watch ?? false;
  if (command === "status") {
    const operationId = values.operation;
    if (operationId !== undefined && !/^[A-Za-z0-9._-]+$/.test(operationId)) {
      return error(
        `--operation: got "${operationId}"; expected an operation id such as op-20261125T214500Z-3f9a1c`,
      );
    }
    return {
      kind: "run",
      args: { command, watch, ...common, ...(operationId === undefined ? {} : { operationId }) },
    };
  }

  const reason = values.reason?.trim();
  if (reason === undefined || reason === "") {
    return error(
      `--reason is required: say why (recorded with the operation), e.g. --reason "quarterly DR drill"`,
    );
  }
  const dryRun = values["dry-run"] ?? false;
  if (dryRun && watch)
    return error("--watch with --dry-run: a dry run starts nothing to watch; drop one");
  if (command === "failback")
    return { kind: "run", args: { command, reason, dryRun, watch, ...common } };
  if (values.mode === undefined) {
    return error(
      "--mode is required: planned (switchover, no data loss, both regions up) or unplanned " +
        "(allows data loss, for when the primary region is down)",
    );
  }
  if (values.mode !== "planned" && values.mode !== "unplanned") {
    return error(`--mode: got "${values.mode}"; expected planned or unplanned`);
  }
  return { kind: "run", args: { command, mode: values.mode, reason, dryRun, watch, ...common } };
}

export interface OperationsCliDependencies {
  /** One line of the command's output. */
  out: (line: string) => void;
  /** One line of progress, warnings and errors. */
  err: (line: string) => void;
  environment: NodeJS.ProcessEnv;
  resolveEndpoint: (options: ResolveEndpointOptions) => Promise<OperationsEndpoint>;
  createApi: (options: OperationsApiClientOptions) => OperationsApi;
  sleep: (ms: number) => Promise<void>;
  watchIntervalMs: number;
  /** Called with the operation being watched (undefined when no longer), for Ctrl-C. */
  onWatching?: (watching: { env: string; operationId: string } | undefined) => void;
}

const defaults: OperationsCliDependencies = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  environment: process.env,
  resolveEndpoint: resolveOperationsEndpoint,
  createApi: createOperationsApiClient,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  watchIntervalMs: WATCH_INTERVAL_MS,
};

/** The whole command; returns the exit code. Never throws for a user or API error. */
export async function runOperationsCli(
  argv: readonly string[],
  overrides: Partial<OperationsCliDependencies> = {},
): Promise<number> {
  const deps: OperationsCliDependencies = { ...defaults, ...overrides };
  const parsed = parseOperationsArgs(argv);
  if (parsed.kind === "help") {
    deps.out(
      parsed.command === undefined ? Object.values(USAGE).join("\n\n") : USAGE[parsed.command],
    );
    return 0;
  }
  if (parsed.kind === "error") {
    const usage =
      parsed.command === undefined ? Object.values(USAGE).join("\n\n") : USAGE[parsed.command];
    deps.err(`${parsed.message}\n${usage}`);
    return 2;
  }
  try {
    // An --env path becomes the file's name: the name the API answers with, and messages use.
    const { name } = selectEnvironment(parsed.args.env, { environment: deps.environment });
    const args = { ...parsed.args, env: name };
    const endpoint = await deps.resolveEndpoint({
      env: parsed.args.env,
      environment: deps.environment,
      ...(args.apiUrl === undefined ? {} : { apiUrl: args.apiUrl }),
    });
    const api = deps.createApi({
      apiBaseUrl: endpoint.apiBaseUrl,
      requestTimeoutMs: args.timeoutMs,
      ...(endpoint.appUrl === undefined ? {} : { appUrl: endpoint.appUrl }),
      ...(endpoint.healthPath === undefined ? {} : { healthPath: endpoint.healthPath }),
    });
    switch (args.command) {
      case "status":
        return await status(api, args, endpoint, deps);
      case "failover":
        await confirmEnvironment(api, args, endpoint, deps);
        return await trigger(
          api,
          args,
          () => api.failover({ mode: args.mode, reason: args.reason, dryRun: args.dryRun }),
          deps,
        );
      case "failback":
        await confirmEnvironment(api, args, endpoint, deps);
        return await trigger(
          api,
          args,
          () => api.failback({ reason: args.reason, dryRun: args.dryRun }),
          deps,
        );
    }
  } catch (error) {
    if (error instanceof UserInputError) {
      deps.err(error.message);
      return 2;
    }
    if (error instanceof OperationsApiError) {
      deps.err(error.message);
      return 1;
    }
    throw error;
  }
}

// ---------------------------------------------------------------- status

async function status(
  api: OperationsApi,
  args: Extract<OperationsArgs, { command: "status" }>,
  endpoint: OperationsEndpoint,
  deps: OperationsCliDependencies,
): Promise<number> {
  if (args.operationId !== undefined) {
    if (args.watch) return finish(await watch(api, args, args.operationId, deps), args, deps);
    const record = await api.operation(args.operationId);
    if (args.json) deps.out(JSON.stringify(record, null, 2));
    else for (const line of renderOperation(record)) deps.out(line);
    return 0;
  }
  const answer = await api.status();
  if (answer.environment !== args.env) {
    deps.err(
      `warning: ${endpoint.apiBaseUrl} (from ${endpoint.source}) is the operations API of ` +
        `environment ${answer.environment}, not ${args.env}.`,
    );
  }
  if (args.json && !args.watch) deps.out(JSON.stringify(answer, null, 2));
  else if (!args.json) for (const line of renderStatus(answer)) deps.out(line);
  if (!args.watch) return 0;
  const latest = answer.latestOperation;
  if (latest === null || latest.status !== "running") {
    deps.err("No operation is running: nothing to watch.");
    if (args.json) deps.out(JSON.stringify(answer, null, 2));
    return 0;
  }
  return finish(await watch(api, args, latest.operationId, deps), args, deps);
}

export function renderStatus(status: StatusResponse): string[] {
  const region = (role: RegionRole | "unknown") =>
    role === "unknown" ? "unknown" : `${role} (${status.regions[role]})`;
  const { database, dns, capacity } = status;
  const lag =
    database.replicationLagSeconds === null
      ? "replication lag unknown"
      : `replication lag ${formatDuration(database.replicationLagSeconds)}`;
  const lines = [
    `${status.environment}: active region ${region(status.activeRegion)}`,
    `  database  ${database.globalClusterIdentifier}: ${database.status ?? "status unknown"}, ` +
      `writer ${region(database.writerRegion)}, ${lag}`,
  ];
  for (const role of REGION_ROLES) {
    const member = database.members[role];
    const part = member.isWriter === null ? "unknown" : member.isWriter ? "writer" : "reader";
    const detached = member.globalMember === false ? ", detached from the global cluster" : "";
    lines.push(
      `            ${role.padEnd(9)} ${member.clusterIdentifier}: ${member.status ?? "unknown"}, ${part}${detached}`,
    );
  }
  if (database.failover !== null) {
    lines.push(`  failover  in progress: ${database.failover.status}`);
  }
  lines.push(
    `  dns       ${dns.recordName}: primary ${dns.health.primary}, secondary ${dns.health.secondary}`,
  );
  const sizes = (role: RegionRole) => {
    const reading = capacity[role];
    return reading === null
      ? `${role} unknown`
      : `${role} ${reading.inService}/${reading.desiredCapacity} in service (min ${reading.minSize}, max ${reading.maxSize})`;
  };
  lines.push(`  capacity  ${sizes("primary")}; ${sizes("secondary")}`);
  const latest = status.latestOperation;
  lines.push(
    latest === null
      ? "  latest    no operation yet"
      : `  latest    ${latest.operationId}: ${latest.kind} (${latest.mode}) ${latest.status}, ` +
          `requested ${latest.requestedAt}${latest.rtoSeconds === undefined ? "" : `, RTO ${formatDuration(latest.rtoSeconds)}`}`,
  );
  for (const gap of status.unreachable) {
    lines.push(`  unreachable ${gap.role} (${gap.region}): ${gap.reason}`);
  }
  for (const note of status.notes) lines.push(`  note      ${note}`);
  return lines;
}

export function renderOperation(record: OperationRecord): string[] {
  return [
    `${record.operationId}: ${record.kind} (${record.mode}) ${record.status}`,
    `  requested ${record.requestedAt} by ${record.requestedBy}: ${JSON.stringify(record.reason)}`,
    ...operationProgressLines(undefined, record).map((line) => `  ${line}`),
  ];
}

// ---------------------------------------------------------------- failover, failback

/**
 * A URL given by hand (--api-url, SHOPSMART_DR_API_URL) may belong to another environment than
 * --env: a variable exported for prod while failing over staging would move prod. Outputs read
 * from the env's own stack need no check. The check asks GET /status; if that cannot answer
 * (which an outage may cause), the operation goes ahead with a warning rather than being blocked.
 */
async function confirmEnvironment(
  api: OperationsApi,
  args: OperationsArgs,
  endpoint: OperationsEndpoint,
  deps: OperationsCliDependencies,
): Promise<void> {
  if (endpoint.source !== "--api-url" && endpoint.source !== API_URL_VARIABLE) return;
  let environment: string;
  try {
    environment = (await api.status()).environment;
  } catch (error) {
    // What an outage causes must not block a failover; nor may a policy that allows the POST
    // but not GET /status (the POST's own answer then says what is wrong). Without credentials
    // the POST cannot succeed either: say so once.
    const passable =
      isTransientApiError(error) ||
      (error instanceof OperationsApiError && error.kind === "forbidden");
    if (!passable) throw error;
    deps.err(
      `warning: could not confirm that ${endpoint.apiBaseUrl} is the API of ${args.env} ` +
        `(GET /status: ${error.message}); going ahead.`,
    );
    return;
  }
  if (environment !== args.env) {
    throw new UserInputError(
      `${endpoint.apiBaseUrl} (from ${endpoint.source}) is the operations API of environment ` +
        `${environment}, not ${args.env}; nothing was started. Pass the ${args.env} API's URL, ` +
        `or --env ${environment} if that is the one you mean.`,
    );
  }
}

async function trigger(
  api: OperationsApi,
  args: Extract<OperationsArgs, { command: "failover" | "failback" }>,
  call: () => Promise<TriggerResponse>,
  deps: OperationsCliDependencies,
): Promise<number> {
  const answer = await call();
  if (answer.dryRun) {
    if (args.json) deps.out(JSON.stringify(answer, null, 2));
    else for (const line of renderPlan(args.env, answer.plan)) deps.out(line);
    return answer.plan.blockers.length === 0 ? 0 : 1;
  }
  const { operationId, statusUrl } = answer;
  const follow = `npm run status -- --env ${args.env} --operation ${operationId} --watch`;
  if (!args.watch) {
    if (args.json) deps.out(JSON.stringify(answer, null, 2));
    else {
      deps.out(`Started ${args.command} ${operationId} in ${args.env}.`);
      deps.out(`  status: ${statusUrl}`);
      deps.out(`  follow: ${follow}`);
    }
    return 0;
  }
  (args.json ? deps.err : deps.out)(
    `Started ${args.command} ${operationId} in ${args.env}; watching it (Ctrl-C stops the ` +
      "watching, not the operation).",
  );
  return finish(await watch(api, args, operationId, deps), args, deps);
}

export function renderPlan(env: string, plan: Plan): string[] {
  const lag =
    plan.replicationLagSeconds === null ? "unknown" : formatDuration(plan.replicationLagSeconds);
  const lines = [
    `Dry run of ${plan.kind} (${plan.mode}) in ${env}: nothing was changed.`,
    `  ${plan.source} -> ${plan.target}; writer now in ${plan.writerRegion}; replication lag ${lag}`,
    `  health: primary ${plan.health.primary}, secondary ${plan.health.secondary}`,
    "  would:",
    ...plan.steps.map((step, index) => `    ${index + 1}. ${step}`),
  ];
  if (plan.blockers.length === 0) {
    lines.push("  no blockers: the same command without --dry-run would start it.");
  } else {
    lines.push("  blocked, it would not start:", ...plan.blockers.map((b) => `    - ${b}`));
  }
  return lines;
}

// ---------------------------------------------------------------- --watch

/** Polls the operation until it ends, printing what changed; returns the final record. */
async function watch(
  api: OperationsApi,
  args: OperationsArgs,
  operationId: string,
  deps: OperationsCliDependencies,
): Promise<OperationRecord> {
  const progress = args.json ? deps.err : deps.out;
  deps.onWatching?.({ env: args.env, operationId });
  let previous: OperationRecord | undefined;
  let failures = 0;
  try {
    for (;;) {
      let record: OperationRecord;
      try {
        record = await api.operation(operationId);
        failures = 0;
      } catch (error) {
        // A failover in progress is exactly when the API may answer slowly; a few misses in a
        // row are not a reason to stop watching.
        if (!isTransientApiError(error) || ++failures > WATCH_TOLERATED_FAILURES) throw error;
        deps.err(
          `could not read ${operationId} (${error.message}); trying again in ` +
            `${formatDuration(deps.watchIntervalMs / 1000)} (${failures}/${WATCH_TOLERATED_FAILURES})`,
        );
        await deps.sleep(deps.watchIntervalMs);
        continue;
      }
      for (const line of operationProgressLines(previous, record)) progress(line);
      previous = record;
      if (record.status !== "running") return record;
      await deps.sleep(deps.watchIntervalMs);
    }
  } finally {
    deps.onWatching?.(undefined);
  }
}

function finish(
  record: OperationRecord,
  args: OperationsArgs,
  deps: OperationsCliDependencies,
): number {
  if (args.json) deps.out(JSON.stringify(record, null, 2));
  if (record.status === "succeeded") return 0;
  deps.err(
    `${record.kind} ${record.operationId} failed. Every step is idempotent: fix the cause ` +
      "named above, then run the same command again.",
  );
  return 1;
}

// ---------------------------------------------------------------- main

if (require.main === module) {
  let watching: { env: string; operationId: string } | undefined;
  process.on("SIGINT", () => {
    if (watching !== undefined) {
      console.error(
        `\nStopped watching ${watching.operationId}; the operation goes on in AWS. Follow it with ` +
          `npm run status -- --env ${watching.env} --operation ${watching.operationId} --watch`,
      );
    }
    process.exit(130);
  });
  runOperationsCli(process.argv.slice(2), {
    onWatching: (value) => {
      watching = value;
    },
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      // A bug, not a user or API error; still one line, as every other message.
      console.error(`unexpected error: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    },
  );
}
