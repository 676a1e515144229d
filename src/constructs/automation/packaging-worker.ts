/**
 * Lambda packaging at launch (src/app-bundle/background-packaging.cjs). run.cjs bundles this
 * file like any entry, so it runs the project's own bundling code, loads it and calls
 * {@link startPackaging}; the worker thread that starts runs this same bundle, and builds.
 */
import { handlerEntries } from "../../../functions/shared/function-names";
import { runIfPackagingWorker } from "../../app-bundle/background-packaging.cjs";
import {
  bundleFunctions,
  type PackagingRequest,
  startPackaging as startPackagingEntries,
} from "./bundling";

/**
 * Takes every handler's package from the disk cache, or starts building it in a worker thread
 * that runs `workerScript` (this file's bundle).
 */
export function startPackaging(workerScript: string): readonly string[] {
  return startPackagingEntries(handlerEntries(), workerScript);
}

runIfPackagingWorker((request: PackagingRequest) => {
  bundleFunctions(request.entries, { cacheDir: request.cacheDir });
});
