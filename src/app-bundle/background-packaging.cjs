// @ts-check
"use strict";
/**
 * Lambda packaging that starts with the synth process.
 *
 * A first synth spends most of its time on two builds: the app bundle (run.cjs) and the 12
 * Lambda packages (esbuild, then deflate; src/constructs/automation/bundling.ts). The packages
 * are asked for only once the app is loaded and constructs its first stack, so the two used to
 * run one after the other, with one core idle while Node loaded the app. run.cjs now starts the
 * packages at launch, in a worker thread that runs the same `bundleFunctions` as the Automation
 * construct, so they build while esbuild builds the app bundle and Node loads it. The
 * construct's call waits for the worker (it runs in a constructor, so it blocks in
 * `Atomics.wait`), then takes the packages from the worker's answer.
 *
 * The worker hands the packages over as soon as their zips are on disk, and writes the cache's
 * manifests after that, while the synth goes on: a first synth's last 0.2-0.3 s were the
 * manifests written and read back. The process then waits for the worker before it exits, so
 * the next synth finds the cache complete.
 *
 * Whatever the worker does, the construct's own call decides what the synth gets: a package the
 * worker failed to build is built again there, and a bundling error is then reported by the
 * synth, with esbuild's messages.
 *
 * Plain CommonJS, because run.cjs loads it before anything can transpile TypeScript. The app
 * bundle holds its own copy of this file, so the two copies meet on a global symbol.
 */
const { MessageChannel, receiveMessageOnPort, Worker, workerData } = require("node:worker_threads");

const HANDLE = Symbol.for("shopsmart-dr.background-lambda-packaging");
/** The key of the request in the worker's data: a thread started for anything else has none. */
const REQUEST = "shopsmartPackaging";
/**
 * Longer than a cold build on a loaded 2-core machine; past it the synth builds by itself. Only
 * a worker that died without a word (out of memory) makes a synth wait this long: the bootstrap
 * below reports every error, loading the script's included.
 */
const WAIT_LIMIT_MS = 180_000;
/** How long a process waits at its end for a worker still writing the cache (see `wait`). */
const CACHE_WRITE_LIMIT_MS = 60_000;

/**
 * The worker's own code: loads the script, whose code runs the job ({@link runIfPackagingWorker}),
 * and reports what stopped it from doing so, an error thrown later included: the launcher is
 * blocked and sees nothing but the report.
 */
const BOOTSTRAP = `"use strict";
const { workerData } = require("node:worker_threads");
const job = workerData[${JSON.stringify(REQUEST)}];
const report = (error) => {
  if (Atomics.load(job.done, 0) === 1) {
    // The launcher has its answer: only the cache can be incomplete, which costs a rebuild.
    process.stderr.write("warning: the Lambda packaging worker failed after it answered the synth (" +
      (error instanceof Error ? error.message : String(error)) + "); the next synth may build the packages again\\n");
    return;
  }
  job.port.postMessage({ error: error instanceof Error ? error.message : String(error) });
  Atomics.store(job.done, 0, 1);
  Atomics.notify(job.done, 0);
};
process.on("uncaughtException", report);
try {
  require(job.script);
  if (!job.ran) throw new Error(job.script + " does not run the packaging job");
} catch (error) {
  report(error);
}`;

/**
 * @typedef {{ error?: string, packages?: unknown }} Outcome what the worker reports: why it
 *   failed, or what it handed over early (see {@link runIfPackagingWorker}), or nothing
 * @typedef {{ wait(): Outcome, exited: Promise<void> }} Handle
 */

/**
 * Starts a worker on `script` to build what `request` asks (bundling.ts, on behalf of run.cjs),
 * and makes it what {@link awaitBackgroundPackaging} waits for in this thread.
 *
 * @param {string} script a bundle whose code calls {@link runIfPackagingWorker}
 * @param {unknown} request handed to the worker's build (structured-cloned)
 */
function startBackgroundPackaging(script, request) {
  const done = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(BOOTSTRAP, {
    eval: true,
    // Plain CommonJS needs no loader, whatever the parent was started with.
    execArgv: [],
    workerData: { [REQUEST]: { script, request, port: port2, done, ran: false } },
    transferList: [port2],
  });
  // A synth that fails before it needs the packages exits without waiting for them.
  worker.unref();
  /** @type {Promise<void>} */
  const exited = new Promise((resolve) => worker.once("exit", () => resolve()));
  // Without a listener, an error the worker could not report (it ran out of memory, say) would
  // end the synth, possibly after it had written everything; the synth's own build covers it.
  worker.on("error", (error) => {
    process.stderr.write(`warning: the Lambda packaging worker failed: ${error.message}\n`);
  });
  /** @type {Outcome | undefined} */
  let outcome;
  /** @type {Handle} */
  const handle = {
    wait() {
      if (outcome === undefined) {
        const waited = Atomics.wait(done, 0, 0, WAIT_LIMIT_MS);
        outcome = /** @type {Outcome | undefined} */ (receiveMessageOnPort(port1)?.message) ?? {
          error:
            waited === "timed-out"
              ? `no answer within ${WAIT_LIMIT_MS / 1000} s`
              : "the worker stopped without an answer",
        };
        port1.close();
        // Handed over early, it may still be writing the cache: the process waits for that, but
        // not for a worker stuck on a hung file system once the synth's output is written.
        if (outcome.packages !== undefined) {
          worker.ref();
          setTimeout(() => {
            process.stderr.write(
              `warning: the Lambda packaging worker was still writing the package cache after ${CACHE_WRITE_LIMIT_MS / 1000} s; not waiting for it\n`,
            );
            worker.unref();
          }, CACHE_WRITE_LIMIT_MS).unref();
        }
      }
      return outcome;
    },
    exited,
  };
  /** @type {Record<symbol, unknown>} */ (globalThis)[HANDLE] = handle;
}

/**
 * Blocks until the packaging started at launch has finished, when there is one in this thread
 * (bundling.ts, before it looks at its caches). Returns its outcome, or undefined when none was
 * started.
 *
 * @returns {Outcome | undefined}
 */
function awaitBackgroundPackaging() {
  const handle = /** @type {Handle | undefined} */ (
    /** @type {Record<symbol, unknown>} */ (globalThis)[HANDLE]
  );
  return handle?.wait();
}

/**
 * When the worker started in this thread has exited (undefined when none was started): what a
 * caller that needs the cache complete waits for, since the worker writes it after handing the
 * packages over.
 *
 * @returns {Promise<void> | undefined}
 */
function backgroundPackagingExited() {
  const handle = /** @type {Handle | undefined} */ (
    /** @type {Record<symbol, unknown>} */ (globalThis)[HANDLE]
  );
  return handle?.exited;
}

/**
 * In a packaging worker, runs `build` on the request it was given and reports to the launcher;
 * anywhere else (the main thread, a test runner's worker), does nothing. `build` may hand its
 * result over before it returns (`handOver`): the launcher wakes with it while `build` goes
 * on. Every outcome is posted before the launcher is woken: a blocked thread never sees the
 * worker's `error` event.
 *
 * @template Request
 * @param {(request: Request, handOver: (packages: unknown) => void) => void} build
 */
function runIfPackagingWorker(build) {
  /** @type {{ request: Request, port: import("node:worker_threads").MessagePort, done: Int32Array, ran: boolean } | undefined} */
  const job = workerData?.[REQUEST];
  if (job === undefined || job.ran) return;
  job.ran = true;
  const { request, port, done } = job;
  /** @param {Outcome} outcome */
  const answer = (outcome) => {
    if (Atomics.load(done, 0) === 1) return false;
    port.postMessage(outcome);
    Atomics.store(done, 0, 1);
    Atomics.notify(done, 0);
    return true;
  };
  try {
    build(request, (packages) => answer({ packages }));
    answer({});
  } catch (error) {
    // After a hand-over the launcher has its answer: the bootstrap warns of the error.
    if (!answer({ error: error instanceof Error ? error.message : String(error) })) throw error;
  } finally {
    // An open port would keep the worker alive, and the process with it once it waits for it.
    port.close();
  }
}

module.exports = {
  awaitBackgroundPackaging,
  backgroundPackagingExited,
  runIfPackagingWorker,
  startBackgroundPackaging,
};
