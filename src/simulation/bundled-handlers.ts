/**
 * The Lambda handlers as esbuild bundles, for the local game day: the same entry points and
 * esbuild options as the deployment packages (src/constructs/automation/bundling.ts), except that
 * the AWS SDK stays outside the bundle and is loaded from node_modules. That one difference is
 * what lets the simulator answer: it binds to the SDK client classes of node_modules
 * (installSimulatedTransport), and a deployment package carries its own copy of them.
 *
 * Everything else a deployment package holds is bundled as deployed: the handler, the
 * orchestration, settings parsing (zod/mini), the SigV4 client. So the game day also proves the
 * handlers still work once bundled (module format, imports esbuild must resolve, no file reads
 * relative to the source tree).
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import { buildSync } from "esbuild";
import { handlerEntry } from "../../functions/shared/function-names";
import { sha256, writeAtomically } from "../app-bundle/build-inputs.cjs";
import { BUNDLE_OPTIONS } from "../constructs/automation/bundling";
import type { LocalFunction } from "./lambda";
import { HANDLER_NAMES, type HandlerName } from "./workflow";

/** Left to node_modules: the SDK the simulator binds to. */
const SDK_PACKAGES = ["@aws-sdk/*", "@smithy/*", "@aws-crypto/*"];

/**
 * Where the bundles of a checkout go: under its node_modules (so they resolve the SDK from
 * there), in a directory of the checkout's own. Checkouts that share one node_modules through a
 * symlink (worktrees) would otherwise overwrite each other's bundles with their own sources.
 */
export function gameDayBundleDir(root: string): string {
  return join(root, "node_modules", ".cache", "shopsmart-dr-game-day", sha256(root).slice(0, 12));
}

/** Bundles every handler into {@link gameDayBundleDir} and loads them. */
export function loadBundledHandlers(root: string): Record<HandlerName, LocalFunction> {
  const outdir = gameDayBundleDir(root);
  if (!builtThisProcess.has(outdir)) {
    build(root, outdir);
    builtThisProcess.add(outdir);
  }
  const load = createRequire(join(outdir, "loader.js"));
  const handlers = {} as Record<HandlerName, LocalFunction>;
  for (const name of HANDLER_NAMES) {
    const path = join(outdir, name, "index.js");
    // A fresh module per game day: handlers cache settings and clients like a Lambda sandbox.
    delete load.cache[path];
    const module = load(path) as { handler?: LocalFunction };
    if (typeof module.handler !== "function") {
      throw new Error(`the bundle of ${handlerEntry(name)} exports no handler function`);
    }
    handlers[name] = module.handler;
  }
  return handlers;
}

/**
 * Output directories bundled by this process. The sources do not change while a process runs
 * game days, so later game days (the tests run seventeen) load the same files afresh.
 */
const builtThisProcess = new Set<string>();

function build(root: string, outdir: string): void {
  const entryPoints = Object.fromEntries(
    HANDLER_NAMES.map((name) => [`${name}/index`, join(root, handlerEntry(name))]),
  );
  const result = buildSync({
    ...BUNDLE_OPTIONS,
    absWorkingDir: root,
    entryPoints,
    outdir,
    external: [...(BUNDLE_OPTIONS.external ?? []), ...SDK_PACKAGES],
    // Stack traces of a failing game day should point at readable code.
    minify: false,
    sourcemap: false,
    metafile: false,
  });
  // Atomically: another process (a test worker, a second drill) may be loading these files.
  for (const file of result.outputFiles ?? []) writeAtomically(file.path, file.contents);
}
