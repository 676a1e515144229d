import type { OperationRecord } from "./operation";

/**
 * Live progress of an operation as lines of text, shared by `npm run failover|failback|status
 * --watch` and the drill (in the CLI and in its Lambda): each poll of `GET /operations/{id}` is
 * compared with the one before, and only what changed is printed, so a 15-minute operation polled
 * every 5 seconds reads as one line per step change instead of 180 repeated states.
 */

type Step = OperationRecord["steps"][number];

/** What a comparison needs of the previous reading; small enough to carry in a drill's state. */
export interface OperationReading {
  status: OperationRecord["status"];
  steps: Pick<Step, "name" | "status" | "error">[];
}

/** The part of a record {@link operationProgressLines} compares the next one with. */
export function readingOf(record: OperationRecord): OperationReading {
  return {
    status: record.status,
    steps: record.steps.map(({ name, status, error }) => ({
      name,
      status,
      ...(error === undefined ? {} : { error }),
    })),
  };
}

/**
 * What changed between two readings of the same operation: one line per step that appeared or
 * changed status (or error), then one line when the operation ended. Times are offsets from the
 * operation's `requestedAt`, taken from the record's own timestamps (not this machine's clock),
 * so the lines read the same however late they are polled. `previous` undefined: everything in
 * `next` is new.
 */
export function operationProgressLines(
  previous: OperationReading | undefined,
  next: OperationRecord,
  options: {
    /** Prefix each line with `[+mm:ss]` from the operation's start. @default true */
    offsets?: boolean;
  } = {},
): string[] {
  const lines = progressLines(previous, next);
  return options.offsets === false ? lines.map((line) => line.replace(/^\[[^\]]*\] /, "")) : lines;
}

function progressLines(previous: OperationReading | undefined, next: OperationRecord): string[] {
  const lines: string[] = [];
  const before = new Map((previous?.steps ?? []).map((step) => [step.name, step]));
  const start = Date.parse(next.requestedAt);
  for (const step of next.steps) {
    const old = before.get(step.name);
    if (old !== undefined && old.status === step.status && old.error === step.error) continue;
    lines.push(stepLine(step, start));
  }
  const ended = next.status !== "running";
  if (ended && (previous === undefined || previous.status === "running")) {
    lines.push(endLine(next, start));
  }
  return lines;
}

function stepLine(step: Step, start: number): string {
  const at = step.status === "running" ? step.startedAt : (step.finishedAt ?? step.startedAt);
  const took =
    step.status !== "running" && step.startedAt !== undefined && step.finishedAt !== undefined
      ? ` after ${formatDuration(seconds(step.startedAt, step.finishedAt))}`
      : "";
  const error = step.error === undefined ? "" : `: ${step.error}`;
  const detail = step.detail === undefined ? "" : ` (${step.detail})`;
  return `${offset(at, start)} ${step.name} ${step.status}${took}${error}${detail}`;
}

function endLine(record: OperationRecord, start: number): string {
  const after =
    record.finishedAt === undefined
      ? ""
      : ` after ${formatDuration(seconds(record.requestedAt, record.finishedAt))}`;
  const head = `${offset(record.finishedAt, start)} ${record.kind} ${record.operationId} ${record.status}${after}`;
  if (record.status === "failed") return `${head}: ${record.error ?? "no error recorded"}`;
  const measured: string[] = [];
  if (record.rtoSeconds !== undefined) measured.push(`RTO ${formatDuration(record.rtoSeconds)}`);
  if (record.dataLossSeconds !== undefined) {
    measured.push(
      record.dataLossSeconds === null
        ? "data loss unknown"
        : record.dataLossSeconds === 0
          ? "no data loss"
          : `data loss up to ${formatDuration(record.dataLossSeconds)}`,
    );
  }
  return measured.length === 0 ? head : `${head} (${measured.join(", ")})`;
}

/** `[+mm:ss]` from the start of the operation, or blanks of the same width when unknown. */
function offset(at: string | undefined, start: number): string {
  const time = at === undefined ? Number.NaN : Date.parse(at);
  if (Number.isNaN(time) || Number.isNaN(start)) return "[  ?  ]";
  const total = Math.max(0, Math.round((time - start) / 1000));
  const minutes = Math.floor(total / 60);
  return `[+${String(minutes).padStart(2, "0")}:${String(total % 60).padStart(2, "0")}]`;
}

function seconds(from: string, to: string): number {
  return Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));
}

/** `42s`, `5m 12s`, `1h 02m`. */
export function formatDuration(totalSeconds: number): string {
  const s = Math.round(totalSeconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
