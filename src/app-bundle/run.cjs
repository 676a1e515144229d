// @ts-check
"use strict";
/**
 * Runs a TypeScript entry point from a prebuilt JavaScript bundle: the app (main.ts), what
 * `npm run synth` and `cdktf synth` (cdktf.json's `app`) start, and the CLIs the npm scripts
 * start (`node src/app-bundle/run.cjs src/cli/state.ts <args>`).
 *
 * Transpiling main.ts and its ~600 modules with tsx on every synth cost about a second (the CJS
 * loader, tsx's ESM hooks and their worker, one stat per lookup), more than all the project's
 * constructs take; a CLI spent 0.5 s of its 0.7 s starting tsx. So each entry is bundled once
 * with esbuild into one CommonJS file under
 * node_modules/.cache/shopsmart-dr-app/<checkout>/<entry>/<kind>/ and run from there: first a
 * bundle of the project's sources, from the second run on one with the installed packages too
 * (`BundleKind` below). A bundle is rebuilt when any file esbuild read for it changed (checked by
 * size and modification time, then by content for project files), or this file, the lock file,
 * esbuild's version or the checkout's path did.
 *
 * Work cdktf does that the app does not need is left out (see `tokenStackTraces` and
 * `resolveShortcuts`: built into the complete bundles, applied as cdktf loads for the sources
 * bundles); none of it changes a synthesized byte (tests/app.test.ts compares the bundles'
 * cdktf.out with the sources').
 *
 * For the app it first starts the Lambda packages building in a worker thread, which the app's
 * first stack then waits for (background-packaging.cjs): a first synth's longest build no longer
 * waits for the app bundle and the loading of the app.
 *
 * `SHOPSMART_SYNTH_FROM_SOURCE=1` runs the entry from source through tsx instead: for a stack
 * trace into the TypeScript sources, or to rule the bundle out.
 *
 * Plain JavaScript, because it runs before anything that could transpile TypeScript is loaded.
 */
const { readdirSync, readFileSync, rmSync, statSync } = require("node:fs");
const { dirname, join, relative, resolve, sep } = require("node:path");
const { BuildInputs, sha256, writeAtomically } = require("./build-inputs.cjs");

const PROJECT_ROOT = resolve(__dirname, "../..");
/** The entry when the first argument is not a .ts file: the cdktf app. */
const DEFAULT_ENTRY = "main.ts";
/** What builds the app's Lambda packages while the app is built and loaded (see below). */
const PACKAGING_WORKER = "src/constructs/automation/packaging-worker.ts";
/**
 * One directory per checkout: worktrees that share node_modules through a symlink would
 * otherwise rebuild on every alternate run and delete each other's bundle while it is in use.
 */
const CACHE_ROOT = join(
  PROJECT_ROOT,
  "node_modules",
  ".cache",
  "shopsmart-dr-app",
  sha256(PROJECT_ROOT).slice(0, 12),
);
const MANIFEST_FILE = "manifest.json";
/** Bump when the manifest's layout or anything that shapes the bundle changes outside this file. */
const CACHE_FORMAT = 1;

/**
 * @typedef {import("./build-inputs.cjs").Fingerprint} Fingerprint
 * @typedef {{
 *   format: number,
 *   projectRoot: string,
 *   esbuild: string,
 *   bundle: string,
 *   inputs: Record<string, Fingerprint>,
 * }} Manifest
 */

/**
 * cdktf records a full stack trace each time it creates a token (`captureStackTrace` in
 * tokens/private/stack-trace.js, called by every `Intrinsic`, `Lazy` and reference), for the
 * "Object creation stack" of a resolve error. A stack synthesizes tens of thousands of tokens;
 * capturing and formatting their traces was a fifth of the synth. In the bundle the capture
 * returns no frames: resolve errors keep their message and path, without the creation stack.
 *
 * @type {import("esbuild").Plugin}
 */
const tokenStackTraces = {
  name: "cdktf-token-stack-traces-off",
  setup(build) {
    build.onLoad(
      { filter: /[\\/]cdktf[\\/]lib[\\/]tokens[\\/]private[\\/]stack-trace\.js$/ },
      () => ({
        contents: "exports.captureStackTrace = function captureStackTrace() { return []; };",
        loader: "js",
      }),
    );
  },
};

/**
 * The same for a process that loads cdktf from node_modules (the tests, a sources bundle): cdktf's modules call
 * `captureStackTrace` through the exports object of stack-trace.js, so replacing that property
 * reaches every caller.
 *
 * @param {string} [projectRoot] where node_modules is
 */
function stubTokenStackTraces(projectRoot = PROJECT_ROOT) {
  const cdktfRequire = require("node:module").createRequire(join(projectRoot, "package.json"));
  const stackTrace = cdktfRequire(
    join(dirname(cdktfRequire.resolve("cdktf")), "tokens", "private", "stack-trace.js"),
  );
  stackTrace.captureStackTrace = () => [];
}

/**
 * Two shortcuts in cdktf's `resolve` (tokens/private/resolve.js), which walks every value of a
 * stack. It joins the path of the value it is resolving (`"/" + prefix.join("/")`) on every call,
 * although only its error messages use it: in the bundle the path is joined when an error is
 * raised ({@link lazyResolvePathSource}). And it resolves every key and every plain value of an
 * object or array through a fresh resolution context and three regular expressions: in the
 * bundle a value no token encoding can match is taken as it is ({@link plainValuesSource}).
 * Each rewrite is exact text: if cdktf changes that code, the bundle is built without it, with a
 * warning (and tests/app-bundle.test.ts fails, so someone looks).
 *
 * @type {import("esbuild").Plugin}
 */
const resolveShortcuts = {
  name: "cdktf-resolve-shortcuts",
  setup(build) {
    build.onLoad(
      { filter: /[\\/]cdktf[\\/]lib[\\/]tokens[\\/]private[\\/]resolve\.js$/ },
      (args) => {
        const { contents, notApplied } = resolveWithShortcuts(readFileSync(args.path, "utf8"));
        return { contents, loader: "js", warnings: notApplied.map((text) => ({ text })) };
      },
    );
  },
};

/**
 * resolve.js's source with both shortcuts, and what could not be applied.
 *
 * @param {string} source
 * @returns {{ contents: string, notApplied: string[] }}
 */
function resolveWithShortcuts(source) {
  const notApplied = [];
  let contents = source;
  for (const [rewrite, warning] of /** @type {const} */ ([
    [lazyResolvePathSource, LAZY_PATH_NOT_APPLIED],
    [plainValuesSource, PLAIN_VALUES_NOT_APPLIED],
  ])) {
    const rewritten = rewrite(contents);
    if (rewritten === undefined) notApplied.push(warning);
    else contents = rewritten;
  }
  return { contents, notApplied };
}

/**
 * {@link resolveShortcuts} for a process that loads cdktf from node_modules (a sources bundle,
 * which a first synth runs): resolve.js is rewritten as Node loads it, through the CommonJS
 * loader's `.js` handler (what tsx and other loaders hook on Node 20). It must be installed
 * before cdktf is first loaded.
 *
 * @param {string} [projectRoot] where node_modules is
 */
function resolveShortcutsOnLoad(projectRoot = PROJECT_ROOT) {
  const nodeModule = require("node:module");
  const cdktfRequire = nodeModule.createRequire(join(projectRoot, "package.json"));
  const resolveJs = join(dirname(cdktfRequire.resolve("cdktf")), "tokens", "private", "resolve.js");
  /** @typedef {NodeModule & { _compile(code: string, filename: string): void }} LoadedModule */
  const handlers =
    /** @type {{ _extensions: Record<string, (module: LoadedModule, filename: string) => void> }} */ (
      /** @type {unknown} */ (nodeModule)
    )._extensions;
  const loadJs = /** @type {(module: LoadedModule, filename: string) => void} */ (handlers[".js"]);
  if (require.cache[resolveJs] !== undefined) {
    process.stderr.write(
      "warning: app bundle: cdktf was loaded before its resolve shortcuts were installed; running without them\n",
    );
    return;
  }
  handlers[".js"] = (module, filename) => {
    if (filename !== resolveJs) return loadJs(module, filename);
    const { contents, notApplied } = resolveWithShortcuts(readFileSync(filename, "utf8"));
    for (const warning of notApplied) process.stderr.write(`warning: app bundle: ${warning}\n`);
    module._compile(contents, filename);
  };
}
const EAGER_PATH = 'const pathName = "/" + prefix.join("/");';
const LAZY_PATH_NOT_APPLIED = `cdktf's resolve.js no longer contains \`${EAGER_PATH}\`; bundled without the lazy path`;

/**
 * Where resolve.js resolves an object's keys and values and an array's elements, each through
 * `makeContext(...)[0].resolve(...)`; and the line the test for plain values goes after.
 */
const PLAIN_VALUE_SITES = /** @type {const} */ ([
  [
    "const tokenMap = token_map_1.TokenMap.instance();",
    `const tokenMap = token_map_1.TokenMap.instance();
// Added by src/app-bundle/run.cjs: a boolean, or a string that none of the token encodings
// can match (string, list and map tokens start with "\${TfToken[", "#{TfToken[", "&{TfToken[";
// NUMBER_TOKEN_REGEX needs one of "-|0-9.+", an "e", one of "-|0-9.eE+"), and that is not one
// of the two map-token values resolve refuses: what resolve returns unchanged.
const TOKEN_NUMBER_SHAPE = /[-|\\d.+]e[-|\\d.eE+]/;
function isPlainValue(x) {
    return (typeof x === "boolean" ||
        (typeof x === "string" &&
            x.indexOf("{") === -1 &&
            !TOKEN_NUMBER_SHAPE.test(x) &&
            x !== token_1.Token.STRING_MAP_TOKEN_VALUE &&
            x !== token_1.Token.ANY_MAP_TOKEN_VALUE));
}`,
  ],
  [
    // biome-ignore lint/suspicious/noTemplateCurlyInString: cdktf's source text, matched as it is
    "            .map((x, i) => makeContext(`${i}`)[0].resolve(x))",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the same line, rewritten
    "            .map((x, i) => (isPlainValue(x) ? x : makeContext(`${i}`)[0].resolve(x)))",
  ],
  [
    "        const resolvedKey = makeContext()[0].resolve(key);",
    "        const resolvedKey = isPlainValue(key) ? key : makeContext()[0].resolve(key);",
  ],
  [
    "        const value = makeContext(key)[0].resolve(obj[key]);",
    "        const value = isPlainValue(obj[key]) ? obj[key] : makeContext(key)[0].resolve(obj[key]);",
  ],
]);
const PLAIN_VALUES_NOT_APPLIED =
  "cdktf's resolve.js no longer resolves keys and values where expected; bundled without the plain-value shortcut";

/**
 * The source with plain values taken as they are, or undefined when any of the
 * {@link PLAIN_VALUE_SITES} is not there exactly once.
 *
 * @param {string} source
 * @returns {string | undefined}
 */
function plainValuesSource(source) {
  let rewritten = source;
  for (const [site, replacement] of PLAIN_VALUE_SITES) {
    if (rewritten.split(site).length !== 2) return undefined;
    rewritten = rewritten.replace(site, () => replacement);
  }
  return rewritten;
}

/**
 * The source with the path joined only where an error uses it, or undefined when the source is
 * not the shape this expects (the declaration once, every use the first argument of a call to an
 * error factory).
 *
 * @param {string} source
 * @returns {string | undefined}
 */
function lazyResolvePathSource(source) {
  if (source.split(EAGER_PATH).length !== 2) return undefined;
  const withoutDeclaration = source.replace(EAGER_PATH, "");
  const uses = withoutDeclaration.match(/\bpathName\b/g)?.length ?? 0;
  // `(0, errors_1.cannotResolveFunction)(pathName, obj)`: a call of an error factory.
  const errorUses = withoutDeclaration.match(/\)\(pathName\b/g)?.length ?? 0;
  if (uses === 0 || uses !== errorUses) return undefined;
  return withoutDeclaration.replace(/\)\(pathName\b/g, ')("/" + prefix.join("/")');
}

/**
 * Project modules see their own source directory as `__dirname`, as they do when run from
 * source (src/constructs/automation/bundling.ts finds the project root from it). The path is
 * absolute, which is why the checkout's path is part of the cache's validity.
 *
 * @type {import("esbuild").Plugin}
 */
const sourceDirname = {
  name: "source-dirname",
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      if (args.path.split(sep).includes("node_modules")) return undefined;
      const source = readFileSync(args.path, "utf8");
      if (!/\b__dirname\b/.test(source)) return undefined;
      return {
        contents: source.replace(/\b__dirname\b/g, JSON.stringify(dirname(args.path))),
        loader: "ts",
      };
    });
  },
};

/**
 * What an entry's bundle holds.
 * - `sources`: the project's modules only. Node loads the installed packages (cdktf, the
 *   provider bindings, zod, ...) from node_modules as the entry runs, and cdktf's token stack
 *   traces and resolve shortcuts are applied as it loads ({@link stubTokenStackTraces},
 *   {@link resolveShortcutsOnLoad}). esbuild builds it in 0.1-0.3 s and 0.35 s of CPU; a synth
 *   from it takes 0.2-0.8 s longer (bench/results.md), Node loading some 560 files from
 *   node_modules.
 * - `complete`: the installed packages bundled too, with the cdktf changes above. esbuild
 *   needs 0.6-1.2 s and 1.4-1.9 s of CPU for it (the provider's 79 modules are 11 MB of
 *   source); the fastest synth.
 * An entry runs from `sources` the first time after its sources changed and from `complete`
 * from the next time on ({@link bundleToRun}): a CI job's one synth and the first synth after an
 * edit skip the expensive build, which pays off only for an entry run again. A first synth of
 * a fresh clone builds the Lambda packages at the same time, on the same two cores, so the CPU
 * the complete bundle takes is time it loses (docs/architecture.md, "The first synth").
 *
 * @typedef {"sources" | "complete"} BundleKind
 */
/** @type {readonly BundleKind[]} */
const BUNDLE_KINDS = ["sources", "complete"];
/** Overrides {@link bundleToRun}'s choice (the bench and troubleshooting). */
const BUNDLE_KIND_VARIABLE = "SHOPSMART_APP_BUNDLE_KIND";

/**
 * @param {string} entry relative to the project root
 * @param {string} cacheDir
 * @param {BundleKind} kind
 * @returns {import("esbuild").BuildOptions}
 */
function buildOptions(entry, cacheDir, kind) {
  return {
    entryPoints: [join(PROJECT_ROOT, entry)],
    absWorkingDir: PROJECT_ROOT,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    // esbuild's JavaScript API finds its native binary next to its own package; tsx is only
    // located (`require.resolve("tsx/cli")` in validate.ts), to run the bootstrap app.
    // The AWS SDK stays in node_modules: a local game day binds the simulator to the SDK's client
    // classes, and the Lambda bundles it runs load those from node_modules. A copy inside the CLI
    // bundle would be a second set of classes that the handlers never use, and their calls would
    // go to AWS.
    external: ["esbuild", "tsx", "@aws-sdk/*", "@smithy/*", "@aws-crypto/*", "@aws/*"],
    ...(kind === "sources" ? { packages: "external" } : {}),
    plugins: [sourceDirname, tokenStackTraces, resolveShortcuts],
    write: false,
    metafile: true,
    outfile: join(cacheDir, "main.js"),
    logLevel: "silent",
  };
}

const inputs = new BuildInputs(PROJECT_ROOT);

/**
 * Files the bundle depends on besides what esbuild read: this file (options and plugins) and the
 * lock file (package manifests decide resolution; esbuild does not list them as inputs).
 */
function extraInputs() {
  return [relative(PROJECT_ROOT, __filename), "package-lock.json"].map(toPosix);
}

/** @param {string} path */
function toPosix(path) {
  return path.split(sep).join("/");
}

/**
 * Where an entry's bundle of a kind is cached:
 * `src/cli/state.ts` -> `<cache root>/<checkout>/src-cli-state/<kind>`.
 *
 * @param {string} entry relative to the project root
 * @param {BundleKind} [kind]
 */
function cacheDirOf(entry, kind = "complete") {
  return join(CACHE_ROOT, toPosix(entry).replace(/\.ts$/, "").replaceAll("/", "-"), kind);
}

/**
 * The bundle on disk if it is still what a build would produce, else undefined.
 *
 * @param {string} esbuildVersion
 * @param {string} cacheDir
 * @returns {string | undefined}
 */
function cachedBundle(esbuildVersion, cacheDir) {
  /** @type {Manifest} */
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(cacheDir, MANIFEST_FILE), "utf8"));
  } catch {
    return undefined;
  }
  if (
    manifest.format !== CACHE_FORMAT ||
    manifest.projectRoot !== PROJECT_ROOT ||
    manifest.esbuild !== esbuildVersion
  ) {
    return undefined;
  }
  for (const [path, recorded] of Object.entries(manifest.inputs)) {
    if (!inputs.unchanged(path, recorded)) return undefined;
  }
  const bundle = join(cacheDir, manifest.bundle);
  return statSync(bundle, { throwIfNoEntry: false })?.isFile() ? bundle : undefined;
}

/**
 * Builds the bundle, records what it was built from, and removes older bundles.
 *
 * @param {typeof import("esbuild")} esbuild
 * @param {string} entry relative to the project root
 * @param {string} cacheDir
 * @param {BundleKind} [kind]
 * @returns {Promise<string>} the bundle's path
 */
async function buildBundle(esbuild, entry, cacheDir, kind = "complete") {
  let result;
  try {
    result = await esbuild.build(buildOptions(entry, cacheDir, kind));
  } catch (error) {
    const messages = /** @type {{ errors?: import("esbuild").Message[] }} */ (error).errors ?? [];
    const lines = messages.map((m) =>
      m.location ? `  ${m.location.file}:${m.location.line}: ${m.text}` : `  ${m.text}`,
    );
    throw new Error(`Bundling ${entry} failed:\n${lines.join("\n") || String(error)}`);
  }
  for (const warning of result.warnings) {
    process.stderr.write(`warning: app bundle: ${warning.text}\n`);
  }
  const code = result.outputFiles?.[0]?.contents;
  if (!code) throw new Error(`esbuild produced no bundle for ${entry}`);
  const name = `main-${sha256(code).slice(0, 16)}.js`;
  const read = [...Object.keys(result.metafile?.inputs ?? {}), ...extraInputs()].sort();
  /** @type {Manifest} */
  const manifest = {
    format: CACHE_FORMAT,
    projectRoot: PROJECT_ROOT,
    esbuild: esbuild.version,
    bundle: name,
    inputs: Object.fromEntries(read.map((path) => [path, inputs.fingerprint(path)])),
  };
  writeAtomically(join(cacheDir, name), code);
  writeAtomically(join(cacheDir, MANIFEST_FILE), JSON.stringify(manifest));
  for (const file of readdirSync(cacheDir)) {
    if (file !== name && /^main-[0-9a-f]{16}\.js$/.test(file)) {
      rmSync(join(cacheDir, file), { force: true });
    }
  }
  return join(cacheDir, name);
}

/**
 * Runs the bundle as the main module, with the arguments after the entry: the CLIs run when
 * `require.main === module` and read `process.argv.slice(2)`. `Module._load(path, null, true)` is
 * what Node's own `runMain` calls (and tsx's CLI with it).
 *
 * @param {string} bundle
 * @param {string[]} args
 */
function runAsMain(bundle, args) {
  process.argv = [process.argv[0] ?? process.execPath, bundle, ...args];
  /** @type {{ _load(request: string, parent: null, isMain: boolean): unknown }} */ (
    /** @type {unknown} */ (require("node:module"))
  )._load(bundle, null, true);
}

async function main() {
  const [first, ...rest] = process.argv.slice(2);
  const explicit = first?.endsWith(".ts") ?? false;
  const entry = explicit ? /** @type {string} */ (first) : DEFAULT_ENTRY;
  const args = explicit ? rest : process.argv.slice(2);
  if (process.env.SHOPSMART_SYNTH_FROM_SOURCE === "1") {
    // Inherited from a parent run of a bundle (a CLI that synthesizes): not this process.
    delete process.env.SHOPSMART_APP_BUNDLE;
    require("tsx/cjs/api").register();
    runAsMain(join(PROJECT_ROOT, entry), args);
    return;
  }
  const esbuild = require("esbuild");
  // Read before any work starts: a bad value is refused without side effects.
  const kind = requestedBundleKind();
  // Installed before anything can load cdktf (the packaging worker's bundle below must not):
  // what the complete bundle has built in (the plugins above), for a sources bundle.
  if (kind !== "complete") resolveShortcutsOnLoad();
  // The app's first stack asks for the Lambda packages; starting them now overlaps their build
  // with the app bundle's and with loading the app (background-packaging.cjs). They start first:
  // on a first synth the app waits for them, so they are what the synth's time depends on.
  if (entry === DEFAULT_ENTRY) await packageInBackground(esbuild);
  const bundle = await bundleToRun(esbuild, entry, kind);
  if (bundle.kind === "sources") stubTokenStackTraces();
  process.env.SHOPSMART_APP_BUNDLE = bundle.path;
  runAsMain(bundle.path, args);
}

/**
 * The kind {@link BUNDLE_KIND_VARIABLE} asks for, or undefined for the launcher's choice.
 *
 * @returns {BundleKind | undefined}
 */
function requestedBundleKind() {
  const value = process.env[BUNDLE_KIND_VARIABLE];
  if (value === undefined || value === "") return undefined;
  const kind = BUNDLE_KINDS.find((known) => known === value);
  if (kind === undefined) {
    throw new Error(
      `${BUNDLE_KIND_VARIABLE}=${value} is not a bundle kind: use ${BUNDLE_KINDS.join(" or ")}, or leave it unset`,
    );
  }
  return kind;
}

/**
 * The bundle an entry runs from (see {@link BundleKind}): the complete one when it is cached,
 * or when the sources bundle is (the entry ran from these sources before, so it is likely to
 * run again); else the sources bundle. `requested` builds that kind if need be.
 *
 * @param {typeof import("esbuild")} esbuild
 * @param {string} entry relative to the project root
 * @param {BundleKind} [requested]
 * @param {(kind: BundleKind) => string} [dirOf] where each kind is cached
 * @returns {Promise<{ kind: BundleKind, path: string }>}
 */
async function bundleToRun(esbuild, entry, requested, dirOf = (kind) => cacheDirOf(entry, kind)) {
  /** @param {BundleKind} kind */
  const cached = (kind) => cachedBundle(esbuild.version, dirOf(kind));
  /** @param {BundleKind} kind */
  const built = async (kind) => ({
    kind,
    path: cached(kind) ?? (await buildBundle(esbuild, entry, dirOf(kind), kind)),
  });
  if (requested !== undefined) return built(requested);
  const complete = cached("complete");
  if (complete !== undefined) return { kind: "complete", path: complete };
  return built(cached("sources") === undefined ? "sources" : "complete");
}

/**
 * Looks up the app's Lambda packages, and starts building the missing ones in a worker thread
 * (packaging-worker.ts, bundled like any entry, so it runs the same bundling code as the app).
 * Whatever goes wrong here only leaves the packages to the app, which builds them itself and
 * reports a source error then (the app bundle is built from the same sources); the warning says
 * the first synth lost its head start.
 *
 * @param {typeof import("esbuild")} esbuild
 */
async function packageInBackground(esbuild) {
  try {
    // The project's modules only: it runs on a first synth, where every bit of CPU counts, and
    // the packages it needs besides esbuild (fflate) are one file.
    const cacheDir = cacheDirOf(PACKAGING_WORKER, "sources");
    const script =
      cachedBundle(esbuild.version, cacheDir) ??
      (await buildBundle(esbuild, PACKAGING_WORKER, cacheDir, "sources"));
    /** @type {{ startPackagingAllHandlers(workerScript: string): readonly string[] }} */ (
      require(script)
    ).startPackagingAllHandlers(script);
  } catch (error) {
    process.stderr.write(
      `warning: could not start packaging the Lambda functions at launch (${
        error instanceof Error ? error.message.split("\n")[0] : String(error)
      }); the synth builds them itself\n`,
    );
  }
}

module.exports = {
  BUNDLE_KIND_VARIABLE,
  buildBundle,
  bundleToRun,
  cachedBundle,
  cacheDirOf,
  lazyResolvePathSource,
  plainValuesSource,
  resolveShortcutsOnLoad,
  stubTokenStackTraces,
};

if (require.main === module) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
