/**
 * Lambda packaging at launch (src/app-bundle/background-packaging.cjs). run.cjs bundles this
 * file like any entry, loads the bundle and calls {@link startPackagingAllHandlers}; the worker
 * thread that starts runs this same bundle, and builds. The bundle holds its own copy of
 * bundling.ts, which meets the app's copy through the thread's globals.
 */
import { handlerEntries } from "../../../functions/shared/function-names";
import { runIfPackagingWorker } from "../../app-bundle/background-packaging.cjs";
import { bundleFunctions, type PackagingRequest, startPackaging } from "./bundling";

/**
 * Takes every handler's package from the disk cache, or starts building it in a worker thread
 * that runs `workerScript` (this file's bundle).
 */
export function startPackagingAllHandlers(workerScript: string): readonly string[] {
  return startPackaging(handlerEntries(), workerScript);
}

/**
 * The bundle's own copy of {@link startPackaging}, for given entries: what the tests start the
 * handoff with, as run.cjs does, from a copy other than theirs.
 */
export { startPackaging };

runIfPackagingWorker((request: PackagingRequest, handOver) => {
  bundleFunctions(request.entries, { cacheDir: request.cacheDir, onPackaged: handOver });
});
