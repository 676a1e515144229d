import { setTimeout as sleepFor } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_SIMULATION_START,
  SimulatedClock,
  SimulatedClockStalledError,
} from "../../src/simulation";

describe("SimulatedClock", () => {
  it("starts at a fixed time and moves only when advanced", async () => {
    const clock = new SimulatedClock();
    expect(clock.now()).toBe(DEFAULT_SIMULATION_START);
    expect(clock.isoString()).toBe("2026-01-05T09:00:00.000Z");
    await clock.advance(90_000);
    expect(clock.isoString()).toBe("2026-01-05T09:01:30.000Z");
  });

  it("wakes sleepers in time order, each at its own time", async () => {
    const clock = new SimulatedClock({ start: 0 });
    const woke: [string, number][] = [];
    void clock.sleep(300).then(() => woke.push(["c", clock.now()]));
    void clock.sleep(100).then(() => woke.push(["a", clock.now()]));
    void clock.sleep(200).then(() => woke.push(["b", clock.now()]));
    await clock.advance(250);
    expect(woke).toEqual([
      ["a", 100],
      ["b", 200],
    ]);
    expect(clock.now()).toBe(250);
    await clock.advance(50);
    expect(woke.at(-1)).toEqual(["c", 300]);
  });

  it("lets woken code schedule more timers inside the same advance", async () => {
    const clock = new SimulatedClock({ start: 0 });
    const times: number[] = [];
    const loop = async () => {
      for (let poll = 0; poll < 3; poll++) {
        await clock.sleep(15_000);
        times.push(clock.now());
      }
    };
    const done = loop();
    await clock.advance(60_000);
    await done;
    expect(times).toEqual([15_000, 30_000, 45_000]);
  });

  it("fires scheduled events when time reaches them, and never advances for them", async () => {
    const clock = new SimulatedClock({ start: 0, autoAdvance: true });
    const fired: number[] = [];
    const event = clock.schedule(60_000, () => fired.push(clock.now()), "promotion done");
    clock.schedule(10_000, () => fired.push(clock.now()));
    await sleepFor(5);
    expect(fired).toEqual([]);
    expect(clock.pendingTimers().map((timer) => timer.label)).toEqual(["event", "promotion done"]);
    clock.cancel(event);
    await clock.advance(120_000);
    expect(fired).toEqual([10_000]);
  });

  it("auto-advances to the next sleeper when nothing else runs", async () => {
    const clock = new SimulatedClock({ start: 0, autoAdvance: true });
    const started = Date.now();
    await clock.sleep(5 * 60_000);
    expect(clock.now()).toBe(300_000);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("auto-advance runs concurrent sleepers in order", async () => {
    const clock = new SimulatedClock({ start: 0, autoAdvance: true });
    const order: string[] = [];
    await Promise.all([
      clock.sleep(2_000).then(() => order.push(`long@${clock.now()}`)),
      clock.sleep(1_000).then(() => order.push(`short@${clock.now()}`)),
    ]);
    expect(order).toEqual(["short@1000", "long@2000"]);
  });

  it("drives a promise that sleeps in manual mode", async () => {
    const clock = new SimulatedClock({ start: 0 });
    const work = (async () => {
      await clock.sleep(15_000);
      await clock.sleep(15_000);
      return clock.now();
    })();
    await expect(clock.drive(work)).resolves.toBe(30_000);
  });

  it("fails drive() when the promise waits past the simulated limit", async () => {
    const clock = new SimulatedClock({ start: 0 });
    const forever = clock.sleep(10 * 60_000, "stuck poll");
    await expect(clock.drive(forever, { maxSimulatedMs: 60_000 })).rejects.toThrow(
      new SimulatedClockStalledError(
        'drive(): the promise did not settle within 60000 ms of simulated time; next timer "stuck poll" is due at 1970-01-01T00:10:00.000Z',
      ),
    );
  });

  it("serves Date.now() and new Date() while installed as the global Date", async () => {
    const clock = new SimulatedClock({ start: Date.UTC(2026, 2, 1) });
    const restore = clock.installAsGlobalDate();
    try {
      await clock.advance(1_000);
      expect(new Date().toISOString()).toBe("2026-03-01T00:00:01.000Z");
      expect(Date.now()).toBe(Date.UTC(2026, 2, 1, 0, 0, 1));
      expect(new Date(0).toISOString()).toBe("1970-01-01T00:00:00.000Z");
      expect(new Date() instanceof Date).toBe(true);
    } finally {
      restore();
    }
    expect(Date.now()).toBeGreaterThan(Date.UTC(2025, 0, 1));
  });

  it("makes timers/promises setTimeout sleep on the clock while installed", async () => {
    const clock = new SimulatedClock({ start: 0, autoAdvance: true });
    const restore = clock.installAsTimersPromises();
    try {
      const timers = await import("node:timers/promises");
      const value = await timers.setTimeout(30_000, "polled");
      expect(value).toBe("polled");
      expect(clock.now()).toBe(30_000);
    } finally {
      restore();
    }
  });
});
