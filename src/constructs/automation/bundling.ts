import {
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  type Stats,
  statSync,
  utimesSync,
} from "node:fs";
import { availableParallelism } from "node:os";
import { join, relative, resolve, sep } from "node:path";
import { performance } from "node:perf_hooks";
import { MessageChannel, receiveMessageOnPort, Worker } from "node:worker_threads";
import { type BuildOptions, buildSync, version as esbuildVersion, type Metafile } from "esbuild";
import { type ZipOptions, type Zippable, zipSync } from "fflate";
import {
  awaitBackgroundPackaging,
  startBackgroundPackaging,
} from "../../app-bundle/background-packaging.cjs";
import {
  BuildInputs,
  type Fingerprint,
  PARTIAL_SUFFIX,
  sha256,
  writeAtomically,
} from "../../app-bundle/build-inputs.cjs";
import { BUNDLE_TARGET } from "./lambda-runtime";

/**
 * Lambda bundles, built with esbuild at synth time and zipped deterministically.
 *
 * Every handler becomes one minified CommonJS file for the functions' Node.js runtime (`lambda-runtime.ts`) with the AWS SDK bundled in (the
 * runtime's own SDK is whatever version Lambda ships that week; a bundled one is pinned by the
 * lock file and tree-shaken to the commands the handler uses), plus a linked source map. The zip
 * holds `index.js` and `index.js.map` with fixed timestamps and attributes, so the same sources
 * give the same bytes on every machine, and a function's `source_code_hash` changes only when
 * its code does.
 *
 * Bundling all handlers takes esbuild a few seconds, far over the synth budget, so packages are
 * cached: per process (an app with several stacks bundles each handler once) and on disk under
 * `node_modules/.cache`, keyed by the build settings, the lock file and the entry, and valid while
 * every file esbuild read for it still has the same content.
 */

/** The project root: entries, source map sources and metafile paths are relative to it. */
export const PROJECT_ROOT = resolve(__dirname, "../../..");

/** Name of the bundle inside the zip; the function's handler is `index.handler`. */
export const BUNDLE_FILE = "index.js";
export const SOURCE_MAP_FILE = `${BUNDLE_FILE}.map`;
export const HANDLER = "index.handler";

/**
 * Output directory esbuild computes paths against. Nothing is written there (`write: false`);
 * it fixes the relative paths in the source maps (`../../functions/handlers/x.ts`), which
 * therefore do not depend on where the repository is checked out.
 */
const VIRTUAL_OUTDIR = join(PROJECT_ROOT, ".lambda-bundles");

/** Default on-disk cache, next to the caches of other build tools. */
export const DEFAULT_CACHE_DIR = join(
  PROJECT_ROOT,
  "node_modules",
  ".cache",
  "shopsmart-dr-lambda",
);

/** Bump when the cache layout or anything that shapes a package changes outside the options. */
const CACHE_FORMAT = 3;

/**
 * Credential providers of the SDK's default chain that a Lambda function never reaches, left out
 * of the bundles: with the SSO, SSO-OIDC, STS and sign-in clients they use, 110 to 125 KB of each.
 *
 * `defaultProvider` (@aws-sdk/credential-provider-node) tries the environment first, and Lambda
 * sets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN from the execution role
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime),
 * so the chain stops there. Every later link loads its provider with a dynamic `import()` when it
 * runs, i.e. only after the environment provider failed: SSO, shared config/credentials files,
 * `credential_process`, web identity token file, then container credentials (HTTP); the packages
 * those pull in (nested-clients, token-providers, credential-provider-login) are imported from
 * them alone. The environment provider and the chain itself stay bundled, and so does
 * @smithy/credential-provider-imds (container and instance metadata, about 8 KB): no @smithy
 * package is loaded from outside a bundle.
 *
 * esbuild turns an `import()` of an external module into a `require()` made at call time (see
 * `supported` below), so nothing is loaded unless a link is reached. If one ever were (AWS_PROFILE
 * set on a function, or a runtime mode without the environment credentials), the `require()`
 * resolves from the Lambda runtime's own SDK: the Node.js runtimes include the SDK v3 and put
 * /var/runtime/node_modules on NODE_PATH. tests/constructs/automation-credentials.test.ts runs a
 * bundled client with environment credentials and checks that it signs its request and loads
 * none of these modules.
 */
export const EXTERNAL_CREDENTIAL_PROVIDERS = [
  "@aws-sdk/credential-provider-http",
  "@aws-sdk/credential-provider-ini",
  "@aws-sdk/credential-provider-process",
  "@aws-sdk/credential-provider-sso",
  "@aws-sdk/credential-provider-web-identity",
] as const;

/**
 * The esbuild options of every bundle. `mainFields` prefers packages' ESM builds: the AWS SDK's
 * ESM build tree-shakes to about 60% of the size of its CommonJS build. `linked` writes the map
 * as its own file and appends the `//# sourceMappingURL=index.js.map` comment that Node's
 * `--enable-source-maps` follows; `sourcesContent: false` keeps the map to the mappings.
 */
export const BUNDLE_OPTIONS: Readonly<BuildOptions> = {
  bundle: true,
  minify: true,
  platform: "node",
  target: BUNDLE_TARGET,
  format: "cjs",
  mainFields: ["module", "main"],
  sourcemap: "linked",
  sourcesContent: false,
  legalComments: "none",
  external: [...EXTERNAL_CREDENTIAL_PROVIDERS],
  // `import()` of an external module becomes `require()`, which follows NODE_PATH, where Lambda
  // puts its own SDK (see EXTERNAL_CREDENTIAL_PROVIDERS), in Node everywhere. Node's ES module
  // resolution ignores NODE_PATH; Lambda's runtime searches it for ES modules too since Node.js 18
  // (https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html#designate-es-module), but the
  // tests here, on plain Node, could not then load what a function would.
  supported: { "dynamic-import": false },
  metafile: true,
  write: false,
  logLevel: "silent",
  absWorkingDir: PROJECT_ROOT,
  outdir: VIRTUAL_OUTDIR,
};

/**
 * DOS time has no time zone and starts in 1980; fflate encodes the local-time fields of the
 * Date, so building it from local fields gives 1980-01-01 00:00 in every time zone.
 */
export const ZIP_MTIME = new Date(1980, 0, 1, 0, 0, 0);
/** Unix permissions of every entry: a regular file, rw-r--r--, readable by Lambda's runtime user. */
export const ZIP_FILE_MODE = 0o100644;
const ZIP_ENTRY_OPTIONS: ZipOptions = {
  // Deflate's default level: level 9 takes twice as long for 0.5% smaller zips.
  level: 6,
  mtime: ZIP_MTIME,
  os: 3, // "made by" Unix, so unzip tools honour the mode below
  attrs: (ZIP_FILE_MODE * 0x10000) >>> 0,
};

/** One function's deployment package. */
export interface LambdaBundle {
  /** The handler's name, e.g. `read-topology`. */
  readonly name: string;
  /** The entry file, relative to the project root (posix separators). */
  readonly entry: string;
  /** Where the zip is on disk, named `<name>.zip`; TerraformAsset copies it from here. */
  readonly zipPath: string;
  /** Base64 SHA-256 of the zip: the function's `source_code_hash`. */
  readonly zipSha256Base64: string;
  /** Hex SHA-256 of the zip. */
  readonly zipSha256Hex: string;
  /** Bytes of the zip. */
  readonly zipBytes: number;
  /** Bytes of the minified bundle (`index.js`). */
  readonly bundleBytes: number;
  /** Bytes of the source map (`index.js.map`). */
  readonly sourceMapBytes: number;
  /**
   * Bytes each input file contributes to the minified bundle (from esbuild's metafile), keyed by
   * path relative to the project root: what the bench breaks bundle sizes down by.
   */
  readonly inputBytes: Readonly<Record<string, number>>;
}

export interface BundleFunctionsOptions {
  /**
   * Directory of the on-disk cache; `false` builds without reading or writing it.
   * @default DEFAULT_CACHE_DIR (node_modules/.cache/shopsmart-dr-lambda)
   */
  readonly cacheDir?: string | false;
  /**
   * Called with every package once all zips are on disk, before the cache's manifests are
   * written: what a packaging worker hands the synth that waits for it (packaging-worker.ts).
   * @default - none
   */
  readonly onPackaged?: (packages: Readonly<Record<string, LambdaBundle>>) => void;
}

/** Why bundling failed: esbuild's messages. */
export class BundlingError extends Error {
  override name = "BundlingError";
}

/** What a cache manifest records about one package. */
interface CacheManifest {
  readonly format: number;
  /** Every file esbuild read, relative to the project root. */
  readonly inputs: Readonly<Record<string, Fingerprint>>;
  readonly zipSha256Hex: string;
  readonly zipSha256Base64: string;
  readonly zipBytes: number;
  readonly bundleBytes: number;
  readonly sourceMapBytes: number;
}

/**
 * Packages this thread has found or built, by cache key. Every copy of this module in the thread
 * shares it: run.cjs loads one to start packaging at launch ({@link startPackaging}) and the app
 * bundle holds another, so what the launcher found in the disk cache is not looked up again.
 */
const processCache = sharedInThread(
  "shopsmart-dr.lambda-packages",
  () => new Map<string, LambdaBundle>(),
);
/** The packaging workers' answers whose packages this thread has put in {@link processCache}. */
const adoptedHandOvers = sharedInThread(
  "shopsmart-dr.adopted-lambda-hand-overs",
  () => new WeakSet<object>(),
);
/** Inputs hashed and found unchanged in this process, each file once. */
let inputs = new BuildInputs(PROJECT_ROOT);
let lastRun = { builtFunctions: [] as string[], milliseconds: 0 };

/**
 * Bundles the given handlers (name -> entry file relative to the project root) and returns their
 * packages. Handlers found in neither cache are built together in one esbuild run.
 *
 * When the launcher started building packages at launch ({@link startPackaging}), this first
 * waits for that and takes the packages the worker handed over (then the caches), so nothing is
 * built twice. What the worker failed to build is built here, so a handler that does not compile
 * is reported by this call, after a second esbuild run.
 */
export function bundleFunctions(
  entries: Readonly<Record<string, string>>,
  options: BundleFunctionsOptions = {},
): Readonly<Record<string, LambdaBundle>> {
  const started = performance.now();
  const background = awaitBackgroundPackaging();
  if (background !== undefined && !adoptedHandOvers.has(background)) {
    // Taken once: a later call (after clearProcessCache, say) looks in the caches again.
    adoptedHandOvers.add(background);
    for (const bundle of Object.values(handedOver(background.packages))) {
      processCache.set(cacheKey(bundle.name, bundle.entry), bundle);
    }
  }
  const cacheDir = options.cacheDir ?? DEFAULT_CACHE_DIR;
  const { bundles, toBuild } = lookUp(entries, cacheDir);
  if (toBuild.length > 0) {
    const built = build(toBuild, cacheDir, (packages) =>
      options.onPackaged?.({ ...bundles, ...packages }),
    );
    for (const bundle of built) {
      processCache.set(cacheKey(bundle.name, bundle.entry), bundle);
      bundles[bundle.name] = bundle;
    }
    if (cacheDir) pruneUnreferencedZips(cacheDir);
    if (background?.error !== undefined) {
      // The same sources built here: the worker failed for a reason of its own, and the synth
      // paid for the build it was meant to take off its path.
      process.stderr.write(
        `warning: packaging the Lambda functions at launch failed (${background.error}); ` +
          "the synth built them itself\n",
      );
    }
  } else {
    options.onPackaged?.(bundles);
  }
  lastRun = {
    builtFunctions: toBuild.map(([name]) => name),
    milliseconds: performance.now() - started,
  };
  return bundles;
}

/** What a packaging worker handed over (its own `onPackaged`), by name; nothing if it did not. */
function handedOver(packages: unknown): Readonly<Record<string, LambdaBundle>> {
  return typeof packages === "object" && packages !== null
    ? (packages as Record<string, LambdaBundle>)
    : {};
}

/**
 * What a launcher calls before it loads the app (run.cjs, through packaging-worker.ts): takes
 * from the disk cache what it holds, and starts a worker thread on `workerScript` that builds
 * the rest while the app is built and loaded (src/app-bundle/background-packaging.cjs). A first
 * synth used to build the app bundle, load the app, and only then build the packages its first
 * stack asked for, with one core idle while Node loaded the app.
 *
 * @param workerScript a bundle of packaging-worker.ts, which builds a {@link PackagingRequest}
 * @returns the handlers the worker builds
 */
export function startPackaging(
  entries: Readonly<Record<string, string>>,
  workerScript: string,
  options: BundleFunctionsOptions = {},
): readonly string[] {
  const cacheDir = options.cacheDir ?? DEFAULT_CACHE_DIR;
  // Without a disk cache the worker's packages could not reach this thread.
  if (cacheDir === false) return [];
  const { toBuild } = lookUp(entries, cacheDir);
  if (toBuild.length > 0) {
    const request: PackagingRequest = { entries: Object.fromEntries(toBuild), cacheDir };
    startBackgroundPackaging(workerScript, request);
  }
  return toBuild.map(([name]) => name);
}

/** What a packaging worker is asked to build, and into which cache. */
export interface PackagingRequest {
  readonly entries: Readonly<Record<string, string>>;
  readonly cacheDir: string;
}

/** The packages either cache holds (remembered in this thread), and the entries neither does. */
function lookUp(
  entries: Readonly<Record<string, string>>,
  cacheDir: string | false,
): { bundles: Record<string, LambdaBundle>; toBuild: [string, string][] } {
  const bundles: Record<string, LambdaBundle> = {};
  const toBuild: [string, string][] = [];
  for (const [name, rawEntry] of Object.entries(entries)) {
    const entry = toPosix(rawEntry);
    const key = cacheKey(name, entry);
    const cached =
      processCache.get(key) ?? (cacheDir ? readDiskCache(cacheDir, key, name, entry) : null);
    if (cached) {
      processCache.set(key, cached);
      bundles[name] = cached;
    } else {
      toBuild.push([name, entry]);
    }
  }
  return { bundles, toBuild };
}

/** One value per thread, whichever copy of this module asks first creates it. */
function sharedInThread<T>(name: string, create: () => T): T {
  const slots = globalThis as unknown as Record<symbol, T | undefined>;
  const slot = Symbol.for(name);
  slots[slot] ??= create();
  return slots[slot];
}

/** What the last {@link bundleFunctions} call built (not cached) and how long the call took. */
export function lastBundlingRun(): {
  readonly builtFunctions: readonly string[];
  readonly milliseconds: number;
} {
  return lastRun;
}

/**
 * Forgets the packages this thread remembers, whichever copy of this module found them (tests
 * that compare fresh builds). The disk cache stays.
 */
export function clearProcessCache(): void {
  processCache.clear();
  inputs = new BuildInputs(PROJECT_ROOT);
}

/**
 * A zip whose bytes depend only on the file names and contents: entries sorted by name, each
 * with the same timestamp, "made by" system, attributes and compression level.
 */
export function zipDeterministically(files: Readonly<Record<string, Uint8Array>>): Uint8Array {
  return zipSync(zipEntries(files));
}

/** Package contents: file name -> bytes. */
export type PackageFiles = Readonly<Record<string, Uint8Array>>;

/**
 * {@link zipDeterministically} for several packages, sharing the work with worker threads when
 * there are cores to spare: deflate is the one CPU-bound step of a first synth that esbuild does
 * not already spread over the cores (12 packages, 10 MB: 0.7-1.0 s on one core here). This thread
 * zips its share and then waits for the workers synchronously, because bundling runs inside a
 * construct's constructor. Workers run the same fflate on the same entries and options, so the
 * bytes are the same as zipping here.
 *
 * @param parallelism threads to use, this one included (default: the cores Node reports)
 */
export function zipEachDeterministically(
  packages: readonly PackageFiles[],
  parallelism: number = availableParallelism(),
): Uint8Array[] {
  const jobs = packages.map(zipEntries);
  const lanes = balancedLanes(
    packages.map((files) => Object.values(files).reduce((sum, data) => sum + data.byteLength, 0)),
    Math.max(1, Math.min(parallelism, MAX_ZIP_THREADS, packages.length)),
  );
  const workers = lanes.slice(1).map((lane) => startZipWorker(lane.map((index) => jobs[index])));
  const zips: Uint8Array[] = [];
  for (const index of lanes[0]) zips[index] = zipSync(jobs[index]);
  workers.forEach((worker, w) => {
    const results = worker.wait();
    lanes[w + 1].forEach((index, k) => {
      zips[index] = results[k];
    });
  });
  return zips;
}

/** Past four threads the worker start-up (about 30 ms each) outweighs what is left to share. */
const MAX_ZIP_THREADS = 4;
/** A worker that has not answered by then is taken as lost: bundling fails rather than hangs. */
const ZIP_WORKER_TIMEOUT_MS = 120_000;
const ZIP_WORKER = join(__dirname, "zip-worker.cjs");

/** The zip entries of one package: names sorted, every entry with the same options. */
function zipEntries(files: PackageFiles): Zippable {
  const entries: Record<string, [Uint8Array, ZipOptions]> = {};
  for (const name of Object.keys(files).sort()) {
    entries[name] = [files[name], ZIP_ENTRY_OPTIONS];
  }
  return entries;
}

/** Indexes split into `count` lanes of about equal total size: largest first, to the lightest lane. */
function balancedLanes(sizes: readonly number[], count: number): number[][] {
  const lanes = Array.from({ length: count }, () => ({ total: 0, indexes: [] as number[] }));
  const bySize = sizes.map((size, index) => ({ size, index })).sort((a, b) => b.size - a.size);
  for (const { size, index } of bySize) {
    const lightest = lanes.reduce((min, lane) => (lane.total < min.total ? lane : min));
    lightest.total += size;
    lightest.indexes.push(index);
  }
  return lanes.map((lane) => lane.indexes);
}

/**
 * Starts a worker on its share; `wait()` blocks until it has answered (`Atomics.wait` on a shared
 * flag the worker sets after posting) and reads the answer off the port synchronously.
 */
function startZipWorker(jobs: readonly Zippable[]): { wait(): Uint8Array[] } {
  const done = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(ZIP_WORKER, {
    // Plain CommonJS needs no loader: without this a worker would start tsx's (or vitest's) again.
    execArgv: [],
    workerData: { jobs, port: port2, done },
    transferList: [port2],
  });
  worker.unref();
  return {
    wait() {
      const outcome = Atomics.wait(done, 0, 0, ZIP_WORKER_TIMEOUT_MS);
      const answer = receiveMessageOnPort(port1)?.message as
        | { zips: Uint8Array[]; error?: undefined }
        | { error: string }
        | undefined;
      port1.close();
      void worker.terminate();
      if (outcome === "timed-out" || answer === undefined) {
        throw new BundlingError(
          `A zip worker thread gave no answer within ${ZIP_WORKER_TIMEOUT_MS / 1000} s`,
        );
      }
      if (answer.error !== undefined) {
        throw new BundlingError(`Zipping a Lambda package failed: ${answer.error}`);
      }
      return answer.zips;
    },
  };
}

/** Everything besides the inputs' contents that decides a package's bytes. */
function cacheKey(name: string, entry: string): string {
  const settings = JSON.stringify({
    format: CACHE_FORMAT,
    esbuild: esbuildVersion,
    options: {
      ...BUNDLE_OPTIONS,
      absWorkingDir: ".",
      outdir: relative(PROJECT_ROOT, VIRTUAL_OUTDIR),
    },
    zip: { ...ZIP_ENTRY_OPTIONS, mtime: ZIP_MTIME.getTime() },
    // Resolution depends on installed package manifests, which esbuild does not list as inputs.
    lockFile: inputs.hash("package-lock.json"),
    // Where node_modules really is, seen from the project: a checkout whose node_modules is a
    // symlink to another checkout's (a worktree) shares that cache, but its source maps name
    // the packages through a different relative path.
    nodeModules: relative(PROJECT_ROOT, realpathSync(join(PROJECT_ROOT, "node_modules"))),
    name,
    entry,
  });
  return sha256(settings);
}

/**
 * Builds the packages in one esbuild run and writes their zips; calls `onPackaged` once every
 * zip is on disk, then writes the cache's manifests (a manifest's rename makes its entry valid).
 */
function build(
  entries: readonly [string, string][],
  cacheDir: string | false,
  onPackaged: (packages: Record<string, LambdaBundle>) => void = () => {},
): LambdaBundle[] {
  const entryPoints: Record<string, string> = {};
  for (const [name, entry] of entries) entryPoints[`${name}/index`] = join(PROJECT_ROOT, entry);
  let result: ReturnType<typeof buildSync>;
  try {
    result = buildSync({ ...BUNDLE_OPTIONS, entryPoints });
  } catch (error) {
    const names = entries.map(([name]) => name).join(", ");
    throw new BundlingError(`Bundling the Lambda handlers ${names} failed:\n${errorText(error)}`);
  }
  const files = new Map((result.outputFiles ?? []).map((file) => [file.path, file.contents]));
  // The handlers share most of their inputs: each file is fingerprinted once per build.
  const fingerprints = new Map<string, Fingerprint>();
  const fingerprintOnce = (input: string): Fingerprint => {
    let known = fingerprints.get(input);
    if (known === undefined) {
      known = inputs.fingerprint(input);
      fingerprints.set(input, known);
    }
    return known;
  };
  const outputs = entries.map(([name]) => {
    const bundlePath = join(VIRTUAL_OUTDIR, name, BUNDLE_FILE);
    const code = files.get(bundlePath);
    const map = files.get(`${bundlePath}.map`);
    if (!code || !map) {
      throw new BundlingError(`esbuild produced no ${BUNDLE_FILE} for the handler ${name}`);
    }
    return { bundlePath, code, map };
  });
  // Taken right after esbuild read the files, so a file saved while the zips are made or the
  // synth goes on is not recorded as what these packages were built from.
  const recordedInputs = cacheDir
    ? outputs.map(({ bundlePath }) =>
        Object.fromEntries(
          filesRead(result.metafile as Metafile, toPosix(relative(PROJECT_ROOT, bundlePath))).map(
            (input) => [input, fingerprintOnce(input)],
          ),
        ),
      )
    : [];
  const zips = zipEachDeterministically(
    outputs.map(({ code, map }) => ({ [BUNDLE_FILE]: code, [SOURCE_MAP_FILE]: map })),
  );
  const packages = entries.map(([name, entry], index): LambdaBundle => {
    const { bundlePath, code, map } = outputs[index];
    const zip = zips[index];
    const zipSha256Hex = sha256(zip, "hex");
    const zipPath = zipLocation(cacheDir, zipSha256Hex, name);
    writeAtomically(zipPath, zip);
    return {
      name,
      entry,
      zipPath,
      zipSha256Base64: sha256(zip, "base64"),
      zipSha256Hex,
      zipBytes: zip.byteLength,
      bundleBytes: code.byteLength,
      sourceMapBytes: map.byteLength,
      inputBytes: inputBytesOf(
        result.metafile as Metafile,
        toPosix(relative(PROJECT_ROOT, bundlePath)),
      ),
    };
  });
  onPackaged(Object.fromEntries(packages.map((built) => [built.name, built])));
  if (cacheDir) {
    packages.forEach((built, index) => {
      const manifest: CacheManifest = {
        format: CACHE_FORMAT,
        inputs: recordedInputs[index],
        zipSha256Hex: built.zipSha256Hex,
        zipSha256Base64: built.zipSha256Base64,
        zipBytes: built.zipBytes,
        bundleBytes: built.bundleBytes,
        sourceMapBytes: built.sourceMapBytes,
      };
      const key = cacheKey(built.name, built.entry);
      // Written first: the manifest's rename is what makes the entry valid.
      writeAtomically(inputBytesPath(cacheDir, key), JSON.stringify(built.inputBytes));
      writeAtomically(manifestPath(cacheDir, key), JSON.stringify(manifest));
    });
  }
  return packages;
}

/**
 * A cached package, or null when there is none, or any input has changed, or the zip is gone.
 * An input whose size and modification time are as recorded counts as unchanged; otherwise a
 * project file's content is hashed (a checkout or `touch` changes the time but not the content)
 * and an installed file counts as changed. Dependency upgrades change the lock file, which is
 * part of the key.
 */
function readDiskCache(
  cacheDir: string,
  key: string,
  name: string,
  entry: string,
): LambdaBundle | null {
  let manifest: CacheManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath(cacheDir, key), "utf8")) as CacheManifest;
  } catch {
    return null;
  }
  if (manifest.format !== CACHE_FORMAT) return null;
  for (const [input, recorded] of Object.entries(manifest.inputs)) {
    if (!inputs.unchanged(input, recorded)) return null;
  }
  // Zips are written by rename under their own hash, so a zip of the recorded size is complete.
  const zipPath = zipLocation(cacheDir, manifest.zipSha256Hex, name);
  if (statOrUndefined(zipPath)?.size !== manifest.zipBytes) return null;
  const inputBytesFile = inputBytesPath(cacheDir, key);
  if (statOrUndefined(inputBytesFile) === undefined) return null;
  // The manifest's time is its last use: what the pruning of stale manifests goes by.
  touch(manifestPath(cacheDir, key));
  // Only the bench reads the per-input sizes: a synth does not parse them.
  let inputBytes: Record<string, number> | undefined;
  return {
    name,
    entry,
    zipPath,
    zipSha256Base64: manifest.zipSha256Base64,
    zipSha256Hex: manifest.zipSha256Hex,
    zipBytes: manifest.zipBytes,
    bundleBytes: manifest.bundleBytes,
    sourceMapBytes: manifest.sourceMapBytes,
    get inputBytes() {
      inputBytes ??= JSON.parse(readFileSync(inputBytesFile, "utf8")) as Record<string, number>;
      return inputBytes;
    },
  };
}

/**
 * A zip no longer referenced by any manifest was replaced by a rebuild: without this every code
 * change would leave its 12 packages behind. Only zips older than {@link PRUNE_AFTER_MS} go, so a
 * synth that has written its zip but not yet its manifest (they are written in that order) keeps
 * it. Runs after a build, never on the cached path.
 */
export function pruneUnreferencedZips(cacheDir: string, now: number = Date.now()): string[] {
  const referenced = new Set<string>();
  for (const file of readdirOrEmpty(join(cacheDir, "manifests"))) {
    if (!file.endsWith(".json") || file.endsWith(".input-bytes.json")) continue;
    const path = join(cacheDir, "manifests", file);
    // A manifest is touched whenever a synth uses it: one unused this long belongs to a key
    // nothing has (an older lock file or esbuild, another checkout), and its zip goes with it.
    if (now - (statOrUndefined(path)?.mtimeMs ?? now) > STALE_MANIFEST_MS) {
      rmSync(path, { force: true });
      rmSync(path.replace(/\.json$/, ".input-bytes.json"), { force: true });
      continue;
    }
    try {
      const manifest = JSON.parse(
        readFileSync(join(cacheDir, "manifests", file), "utf8"),
      ) as CacheManifest;
      referenced.add(manifest.zipSha256Hex);
    } catch {
      // Being written by another synth, or unreadable: it references nothing yet.
    }
  }
  removeInterruptedWrites(join(cacheDir, "manifests"), now);
  const removed: string[] = [];
  for (const sha of readdirOrEmpty(join(cacheDir, "zips"))) {
    const dir = join(cacheDir, "zips", sha);
    const stat = statOrUndefined(dir);
    if (stat === undefined || now - stat.mtimeMs < PRUNE_AFTER_MS) continue;
    if (referenced.has(sha)) {
      removeInterruptedWrites(dir, now);
      continue;
    }
    rmSync(dir, { recursive: true, force: true });
    removed.push(sha);
  }
  return removed;
}

/**
 * Temporary files of writes that never got to their rename: a synth that ended before it needed
 * its packages stopped the packaging worker mid-write. Only old ones go: a younger one may be a
 * write in progress.
 */
function removeInterruptedWrites(dir: string, now: number): void {
  for (const file of readdirOrEmpty(dir)) {
    if (!file.endsWith(PARTIAL_SUFFIX)) continue;
    const path = join(dir, file);
    if (now - (statOrUndefined(path)?.mtimeMs ?? now) > PRUNE_AFTER_MS)
      rmSync(path, { force: true });
  }
}

/** How old an unreferenced zip must be before it is removed. */
export const PRUNE_AFTER_MS = 60 * 60 * 1000;
/** How long a manifest may go unused before a build removes it: 30 days. */
export const STALE_MANIFEST_MS = 30 * 24 * 60 * 60 * 1000;

function touch(path: string): void {
  const now = new Date();
  try {
    utimesSync(path, now, now);
  } catch {
    // Read-only cache or a concurrent prune: the entry is still valid for this synth.
  }
}

function readdirOrEmpty(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * Zips are content-addressed (`<sha256>/<name>.zip`): TerraformAsset names the asset after the
 * file, and identical packages share one file.
 */
function zipLocation(cacheDir: string | false, sha256Hex: string, name: string): string {
  const root = cacheDir || join(DEFAULT_CACHE_DIR, "uncached");
  return join(root, "zips", sha256Hex, `${name}.zip`);
}

function manifestPath(cacheDir: string, key: string): string {
  return join(cacheDir, "manifests", `${key}.json`);
}

function inputBytesPath(cacheDir: string, key: string): string {
  return join(cacheDir, "manifests", `${key}.input-bytes.json`);
}

function statOrUndefined(path: string): Stats | undefined {
  return statSync(path, { throwIfNoEntry: false });
}

/** The inputs of one output of a multi-entry build, sorted, with the bytes each contributes. */
function inputBytesOf(metafile: Metafile, bundlePath: string): Record<string, number> {
  const output = metafile.outputs[bundlePath];
  if (!output) throw new BundlingError(`esbuild's metafile has no output ${bundlePath}`);
  const bytes: Record<string, number> = {};
  for (const input of Object.keys(output.inputs).sort()) {
    bytes[input] = output.inputs[input].bytesInOutput;
  }
  return bytes;
}

/**
 * Every file esbuild read for one output: the entry and everything it imports, transitively.
 * More than the output's inputs, which leave out modules tree-shaking dropped entirely; a change
 * to one of those (say, a new side effect) changes the bundle too, so the cache watches them.
 */
function filesRead(metafile: Metafile, bundlePath: string): string[] {
  const entryPoint = metafile.outputs[bundlePath]?.entryPoint;
  if (!entryPoint) throw new BundlingError(`esbuild's metafile has no entry for ${bundlePath}`);
  const seen = new Set<string>([entryPoint]);
  const pending = [entryPoint];
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    for (const imported of metafile.inputs[path]?.imports ?? []) {
      if (!imported.external && !seen.has(imported.path)) {
        seen.add(imported.path);
        pending.push(imported.path);
      }
    }
  }
  return [...seen].sort();
}

function toPosix(path: string): string {
  return path.split(sep).join("/");
}

function errorText(error: unknown): string {
  const messages = (
    error as { errors?: { text: string; location?: { file: string; line: number } | null }[] }
  )?.errors;
  if (Array.isArray(messages) && messages.length > 0) {
    return messages
      .map((m) =>
        m.location ? `  ${m.location.file}:${m.location.line}: ${m.text}` : `  ${m.text}`,
      )
      .join("\n");
  }
  return `  ${error instanceof Error ? error.message : String(error)}`;
}
