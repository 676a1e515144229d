// @ts-check
/**
 * Worker thread of `zipEachDeterministically` (bundling.ts): zips the packages it is given with
 * the entries and options the caller prepared, posts the zips on the port it was handed, then
 * wakes the caller, which is blocked in `Atomics.wait`. Plain CommonJS, so the same file serves
 * the app bundle and a run from source. Every failure is posted too: a blocked caller never sees
 * the worker's `error` event.
 */
const { workerData } = require("node:worker_threads");

/** @type {{ jobs: import("fflate").Zippable[], port: import("node:worker_threads").MessagePort, done: Int32Array }} */
const { jobs, port, done } = workerData;
try {
  const { zipSync } = require("fflate");
  const zips = jobs.map((entries) => zipSync(entries));
  port.postMessage({ zips }, [...new Set(zips.map((zip) => zip.buffer))]);
} catch (error) {
  port.postMessage({ error: error instanceof Error ? error.message : String(error) });
} finally {
  Atomics.store(done, 0, 1);
  Atomics.notify(done, 0);
}
