/**
 * The run-drill Lambda's event: which task of the drill state machine runs, validated and routed
 * to drill-run.ts with the settings and clients a container keeps.
 * - `{"action":"start","input":{"holdMinutes":5}}`: the execution input, as the schedule sends it;
 * - `{"action":"advance","drill":<DrillState>,"advances":<n>}`: the state the last task returned;
 * - `{"action":"report","drill":<DrillState>|null,"error":{"Error","Cause"}|null}`.
 */
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";
import { MAX_HOLD_MINUTES } from "../shared/drill-limits";
import { type DrillSettings, loadDrillSettings } from "../shared/drill-settings";
import { InvalidEventError } from "../shared/operation";
import { type AutomationSettings, loadSettings } from "../shared/settings";
import type { DrillState } from "./drill";
import {
  type CaughtError,
  continueDrill,
  type DrillReportResult,
  type DrillRunContext,
  type DrillStartInput,
  type DrillTickResult,
  reportDrill,
  startDrill,
} from "./drill-run";

// zod/mini loads no messages by default; English ones, as classic `zod` would load.
z.config(en());

const startInputSchema: z.ZodMiniType<DrillStartInput> = z.strictObject({
  holdMinutes: z.optional(
    z
      .number()
      .check(
        z.minimum(0, "a number of minutes >= 0"),
        z.maximum(MAX_HOLD_MINUTES, `at most ${MAX_HOLD_MINUTES} minutes`),
      ),
  ),
  dryRun: z.optional(z.boolean()),
  reason: z.optional(z.string().check(z.minLength(1, "a non-empty string"))),
});

/**
 * The drill state is the driver's own output handed back by Step Functions; only what routes it
 * is checked here, the driver owns the rest.
 */
const drillStateSchema = z.looseObject({
  version: z.literal(1),
  drillId: z.string().check(z.minLength(1, "a non-empty string")),
  options: z.looseObject({ environment: z.string() }),
  phases: z.array(z.looseObject({ name: z.string(), status: z.string() })),
});

const caughtErrorSchema = z.looseObject({
  Error: z.optional(z.string()),
  Cause: z.optional(z.string()),
});

const eventSchema = z.discriminatedUnion("action", [
  z.object({ action: z.literal("start"), input: z.optional(startInputSchema) }),
  z.object({
    action: z.literal("advance"),
    drill: drillStateSchema,
    advances: z.int("a whole number").check(z.minimum(0, "a whole number >= 0")),
  }),
  z.object({
    action: z.literal("report"),
    drill: z.nullable(drillStateSchema),
    error: z.nullable(caughtErrorSchema),
  }),
]);

export type RunDrillEvent =
  | { action: "start"; input?: DrillStartInput }
  | { action: "advance"; drill: DrillState; advances: number }
  | { action: "report"; drill: DrillState | null; error: CaughtError | null };

/** Validates the event; a bad one is a terminal `InvalidEvent` naming the first bad field. */
export function parseRunDrillEvent(event: unknown): RunDrillEvent {
  const result = eventSchema.safeParse(event, {
    error: (issue) => (issue.input === undefined ? "required field is missing" : undefined),
  });
  if (result.success) return result.data as unknown as RunDrillEvent;
  const issue = result.error.issues[0];
  throw new InvalidEventError(
    "run-drill",
    issue?.path.length ? issue.path.map(String).join(".") : "(root)",
    issue?.message ?? "invalid",
  );
}

/** What a container keeps between invocations: the validated settings and the clients. */
export type DrillContainer = Omit<DrillRunContext, "now">;

/**
 * Everything the drill needs, from the environment's settings; `connect` builds the API client
 * and the report writer (the real ones in AWS, fakes in tests).
 */
export function drillContainerFrom(
  environment: NodeJS.ProcessEnv,
  connect: (
    settings: AutomationSettings,
    drill: DrillSettings,
  ) => Pick<DrillRunContext, "api" | "clients">,
): DrillContainer {
  const settings = loadSettings(environment);
  const drill = loadDrillSettings(environment);
  return { settings, drill, ...connect(settings, drill) };
}

/**
 * The Lambda's logic with its container and clock supplied: what the handler runs, and what the
 * local state machine tests bind to the drill definition's tasks with a fake API and clients.
 */
export function runDrillWith(
  container: () => DrillContainer,
  now: () => Date,
): (event: unknown) => Promise<DrillTickResult | DrillReportResult> {
  return async (event) => {
    const parsed = parseRunDrillEvent(event);
    const run: DrillRunContext = { ...container(), now };
    switch (parsed.action) {
      case "start":
        return startDrill(run, parsed.input ?? {});
      case "advance":
        return continueDrill(run, parsed.drill, parsed.advances);
      case "report":
        return reportDrill(run, parsed.drill, parsed.error);
    }
  };
}
