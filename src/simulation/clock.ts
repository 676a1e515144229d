import { createRequire, syncBuiltinESMExports } from "node:module";

/**
 * Simulated time for the AWS simulation: every delay in the model (a switchover finishing,
 * instances coming into service, DNS changes going INSYNC, a Wait state, a retry back-off) is a
 * timer on this clock, so a five-minute drill runs in milliseconds of real time.
 *
 * Two kinds of timers:
 * - **sleepers** ({@link SimulatedClock.sleep}) are code waiting for time to pass; in auto-advance
 *   mode the clock jumps to the earliest sleeper as soon as the program is otherwise idle;
 * - **scheduled events** ({@link SimulatedClock.schedule}) are things the world does at a time
 *   (a promotion completes); they fire when time reaches them but never make time pass.
 */

export interface SimulatedClockOptions {
  /**
   * Start time, epoch milliseconds or a Date.
   * @default - 2026-01-05T09:00:00Z, a fixed Monday morning so runs are reproducible
   */
  readonly start?: number | Date;
  /**
   * Jump to the next sleeper whenever nothing else is runnable, so code that sleeps never waits
   * in real time. Off: time moves only through {@link SimulatedClock.advance} and friends.
   * @default false
   */
  readonly autoAdvance?: boolean;
}

/** A pending timer, as listed by {@link SimulatedClock.pendingTimers}. */
export interface PendingTimer {
  readonly at: number;
  readonly label: string;
  readonly kind: "sleep" | "event";
}

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly label: string;
  readonly kind: "sleep" | "event";
  readonly fire: () => void;
}

/** Handle of a scheduled event, for {@link SimulatedClock.cancel}. */
export interface ScheduledEvent {
  readonly id: number;
  readonly at: number;
}

/** Thrown by {@link SimulatedClock.drive} when the promise does not settle within its limits. */
export class SimulatedClockStalledError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SimulatedClockStalledError";
  }
}

const nodeRequire = createRequire(`${process.cwd()}/`);

/**
 * The real Date and timers, captured at load: the clock keeps working while its own
 * installAsGlobalDate, or a test framework's fake timers, replace the globals.
 */
const RealDate = globalThis.Date;
const realSetImmediate = globalThis.setImmediate;
const realSetTimeout = globalThis.setTimeout;

export const DEFAULT_SIMULATION_START = Date.UTC(2026, 0, 5, 9, 0, 0);

/** Lets every queued promise reaction run (one macrotask turn). */
function settle(): Promise<void> {
  return new Promise((resolve) => realSetImmediate(resolve));
}

export class SimulatedClock {
  private current: number;
  private timers: Timer[] = [];
  private nextId = 1;
  private autoAdvanceEnabled: boolean;
  private autoAdvanceScheduled = false;
  private advancing = false;
  /** Serializes advances so two callers never fire timers concurrently. */
  private advanceQueue: Promise<void> = Promise.resolve();

  constructor(options: SimulatedClockOptions = {}) {
    const start = options.start ?? DEFAULT_SIMULATION_START;
    this.current = typeof start === "number" ? start : start.getTime();
    this.autoAdvanceEnabled = options.autoAdvance ?? false;
  }

  /** Current simulated time, epoch milliseconds. */
  now(): number {
    return this.current;
  }

  /** Current simulated time as a Date. */
  date(): Date {
    return new RealDate(this.current);
  }

  /** Current simulated time as ISO-8601. */
  isoString(): string {
    return this.date().toISOString();
  }

  /** Whether the clock jumps to the next sleeper on its own. */
  get autoAdvance(): boolean {
    return this.autoAdvanceEnabled;
  }

  /** Turns auto-advance on or off; turning it on wakes any code already sleeping. */
  setAutoAdvance(enabled: boolean): void {
    this.autoAdvanceEnabled = enabled;
    if (enabled) this.scheduleAutoAdvance();
  }

  /**
   * Resolves when simulated time has moved `ms` forward (at once for `ms <= 0`, after queued
   * reactions run, like `setTimeout(fn, 0)`).
   */
  sleep(ms: number, label = "sleep"): Promise<void> {
    return new Promise((resolve) => {
      this.addTimer(this.current + Math.max(0, ms), label, "sleep", resolve);
      this.scheduleAutoAdvance();
    });
  }

  /** Runs `callback` when simulated time reaches now + `delayMs`; never makes time pass by itself. */
  schedule(delayMs: number, callback: () => void, label = "event"): ScheduledEvent {
    const timer = this.addTimer(this.current + Math.max(0, delayMs), label, "event", callback);
    return { id: timer.id, at: timer.at };
  }

  /** Cancels a scheduled event; no-op when it already fired. */
  cancel(event: ScheduledEvent): void {
    this.timers = this.timers.filter((timer) => timer.id !== event.id);
  }

  /** Timers not yet fired, earliest first. */
  pendingTimers(): PendingTimer[] {
    return this.sortedTimers().map(({ at, label, kind }) => ({ at, label, kind }));
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due in order and letting the code
   * each one wakes run (and schedule more timers) before the next fires.
   */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.current + Math.max(0, ms));
  }

  /** Moves time forward to `time` (epoch ms); see {@link advance}. */
  advanceTo(time: number): Promise<void> {
    const run = this.advanceQueue.then(() => this.advanceNow(time));
    this.advanceQueue = run.catch(() => undefined);
    return run;
  }

  private async advanceNow(time: number): Promise<void> {
    this.advancing = true;
    try {
      await settle();
      for (;;) {
        const next = this.sortedTimers()[0];
        if (!next || next.at > time) break;
        this.timers = this.timers.filter((timer) => timer.id !== next.id);
        this.current = Math.max(this.current, next.at);
        next.fire();
        await settle();
      }
      this.current = Math.max(this.current, time);
    } finally {
      this.advancing = false;
    }
  }

  /** Advances to the earliest pending timer (of either kind); false when there is none. */
  async advanceToNextTimer(): Promise<boolean> {
    const next = this.sortedTimers()[0];
    if (!next) return false;
    await this.advanceTo(next.at);
    return true;
  }

  /**
   * Keeps advancing time (to the next sleeper, or the next event when nobody sleeps) until
   * `promise` settles, and returns its result: the way a test in manual mode runs code that
   * sleeps. Throws {@link SimulatedClockStalledError} past `maxSimulatedMs` or when nothing is
   * pending and the promise still waits after `maxIdleRealMs` of real time.
   */
  async drive<T>(
    promise: Promise<T>,
    limits: { maxSimulatedMs?: number; maxIdleRealMs?: number } = {},
  ): Promise<T> {
    const maxSimulatedMs = limits.maxSimulatedMs ?? 24 * 60 * 60 * 1000;
    const maxIdleRealMs = limits.maxIdleRealMs ?? 2_000;
    const deadline = this.current + maxSimulatedMs;
    let settled = false;
    const observed = promise.then(
      (value) => {
        settled = true;
        return value;
      },
      (error: unknown) => {
        settled = true;
        throw error;
      },
    );
    observed.catch(() => undefined);
    let idleSince = performance.now();
    while (!settled) {
      await settle();
      await settle();
      if (settled) break;
      const timers = this.sortedTimers();
      const next = timers.find((timer) => timer.kind === "sleep") ?? timers[0];
      if (next) {
        if (next.at > deadline) {
          throw new SimulatedClockStalledError(
            `drive(): the promise did not settle within ${maxSimulatedMs} ms of simulated time; ` +
              `next timer "${next.label}" is due at ${new RealDate(next.at).toISOString()}`,
          );
        }
        await this.advanceTo(next.at);
        idleSince = performance.now();
      } else {
        if (performance.now() - idleSince > maxIdleRealMs) {
          throw new SimulatedClockStalledError(
            `drive(): the promise is still pending, no simulated timer is pending and nothing ` +
              `happened for ${maxIdleRealMs} ms of real time (is it waiting on a real timer?)`,
          );
        }
        await new Promise((resolve) => realSetTimeout(resolve, 1));
      }
    }
    return observed;
  }

  /**
   * Makes `Date.now()` and `new Date()` (no arguments) read this clock, so timestamps written
   * by code under simulation (records, RTO) are in simulated time. Returns the function that
   * restores the real Date. Other Date uses (parsing, `new Date(ms)`) behave as usual.
   */
  installAsGlobalDate(): () => void {
    const clock = this;
    const Simulated = class extends RealDate {
      constructor(...args: unknown[]) {
        if (args.length === 0) super(clock.now());
        else super(...(args as [string | number | Date]));
      }
      static override now(): number {
        return clock.now();
      }
    };
    const previous = globalThis.Date;
    globalThis.Date = Simulated as DateConstructor;
    return () => {
      globalThis.Date = previous;
    };
  }

  /**
   * Makes `setTimeout` of `node:timers/promises` (how handlers pause between polls) sleep on this
   * clock, for ES module and CommonJS importers alike (`module.syncBuiltinESMExports`). Returns
   * the function that restores it.
   */
  installAsTimersPromises(): () => void {
    const timers = nodeRequire("node:timers/promises") as { setTimeout: unknown };
    const original = timers.setTimeout;
    timers.setTimeout = <T>(delay?: number, value?: T) =>
      this.sleep(Number(delay ?? 0), "timers/promises setTimeout").then(() => value as T);
    syncBuiltinESMExports();
    return () => {
      timers.setTimeout = original;
      syncBuiltinESMExports();
    };
  }

  private addTimer(at: number, label: string, kind: Timer["kind"], fire: () => void): Timer {
    const timer: Timer = { id: this.nextId++, at, label, kind, fire };
    this.timers.push(timer);
    return timer;
  }

  private sortedTimers(): Timer[] {
    return [...this.timers].sort((a, b) => a.at - b.at || a.id - b.id);
  }

  private scheduleAutoAdvance(): void {
    if (!this.autoAdvanceEnabled || this.autoAdvanceScheduled) return;
    this.autoAdvanceScheduled = true;
    void this.autoAdvanceLoop();
  }

  /** Jumps to the next sleeper once two macrotask turns pass with the program otherwise idle. */
  private async autoAdvanceLoop(): Promise<void> {
    try {
      for (;;) {
        await settle();
        await settle();
        if (!this.autoAdvanceEnabled) return;
        if (this.advancing) continue;
        const sleeper = this.sortedTimers().find((timer) => timer.kind === "sleep");
        if (!sleeper) return;
        await this.advanceTo(sleeper.at);
      }
    } finally {
      this.autoAdvanceScheduled = false;
    }
  }
}
