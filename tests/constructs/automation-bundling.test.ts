import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { unzipSync } from "fflate";
import { afterAll, describe, expect, it } from "vitest";
import {
  BUNDLE_OPTIONS,
  BundlingError,
  bundleFunctions,
  clearProcessCache,
  lastBundlingRun,
  PROJECT_ROOT,
  ZIP_FILE_MODE,
  zipDeterministically,
} from "../../src/constructs/automation/bundling";
import { FUNCTION_NAMES } from "../../src/constructs/automation/functions";

const FIXTURE = "tests/fixtures/automation/handler.ts";
/** A fixture that pulls a real SDK client out of node_modules, as the handlers do. */
const SDK_FIXTURE = "tests/fixtures/automation/sdk-handler.ts";

const scratch = mkdtempSync(join(tmpdir(), "shopsmart-bundling-test-"));
/** Entries must sit inside the project; this directory is removed after the tests. */
const projectScratch = mkdtempSync(join(PROJECT_ROOT, ".tmp-bundling-test-"));
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  rmSync(projectScratch, { recursive: true, force: true });
});

interface ZipEntry {
  name: string;
  madeBy: number;
  dosTime: number;
  dosDate: number;
  unixMode: number;
}

/** The central directory of a zip, read by hand: what unzip tools see as metadata. */
function centralDirectory(zip: Uint8Array): ZipEntry[] {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const end = zip.byteLength - 22;
  expect(view.getUint32(end, true)).toBe(0x06054b50); // no archive comment
  const count = view.getUint16(end + 10, true);
  let offset = view.getUint32(end + 16, true);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    expect(view.getUint32(offset, true)).toBe(0x02014b50);
    const nameLength = view.getUint16(offset + 28, true);
    const extraLength = view.getUint16(offset + 30, true);
    const commentLength = view.getUint16(offset + 32, true);
    entries.push({
      name: new TextDecoder().decode(zip.subarray(offset + 46, offset + 46 + nameLength)),
      madeBy: view.getUint8(offset + 5),
      dosTime: view.getUint16(offset + 12, true),
      dosDate: view.getUint16(offset + 14, true),
      unixMode: view.getUint32(offset + 38, true) >>> 16,
    });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function fresh(entries: Record<string, string>) {
  clearProcessCache();
  return bundleFunctions(entries, { cacheDir: false });
}

function zipFiles(path: string): Record<string, string> {
  const files = unzipSync(readFileSync(path));
  return Object.fromEntries(
    Object.entries(files).map(([name, bytes]) => [name, new TextDecoder().decode(bytes)]),
  );
}

describe("deterministic zips", () => {
  it("sorts entries and fixes their timestamp (1980-01-01 00:00), Unix mode 0644 and made-by system", () => {
    const zip = zipDeterministically({
      "z.txt": new TextEncoder().encode("last"),
      "a.txt": new TextEncoder().encode("first"),
    });
    expect(centralDirectory(zip)).toEqual([
      {
        name: "a.txt",
        madeBy: 3,
        dosTime: 0,
        dosDate: (0 << 9) | (1 << 5) | 1,
        unixMode: ZIP_FILE_MODE,
      },
      {
        name: "z.txt",
        madeBy: 3,
        dosTime: 0,
        dosDate: (0 << 9) | (1 << 5) | 1,
        unixMode: ZIP_FILE_MODE,
      },
    ]);
  });

  it("gives the same bytes for the same files, whatever their order", () => {
    const a = new TextEncoder().encode("a");
    const b = new TextEncoder().encode("b");
    const first = zipDeterministically({ "a.js": a, "b.js": b });
    const second = zipDeterministically({ "b.js": b, "a.js": a });
    expect(Buffer.from(second).equals(Buffer.from(first))).toBe(true);
  });
});

describe("bundling", () => {
  it("packages index.js and its linked source map, for the index.handler entry point", () => {
    const { fixture } = fresh({ fixture: FIXTURE });
    const files = zipFiles(fixture.zipPath);
    expect(Object.keys(files)).toEqual(["index.js", "index.js.map"]);
    expect(files["index.js"].endsWith("//# sourceMappingURL=index.js.map\n")).toBe(true);
    const map = JSON.parse(files["index.js.map"]) as {
      sources: string[];
      sourcesContent?: unknown;
    };
    expect(map.sourcesContent).toBeUndefined();
    expect(map.sources).toEqual(["../../tests/fixtures/automation/handler.ts"]);
    // CommonJS: `handler` is exported from module.exports.
    const module = { exports: {} as { handler?: unknown } };
    new Function("module", "exports", "require", files["index.js"])(
      module,
      module.exports,
      require,
    );
    expect(typeof module.exports.handler).toBe("function");
    expect(fixture.bundleBytes).toBe(Buffer.byteLength(files["index.js"]));
    expect(fixture.zipSha256Base64).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });

  it("builds the same bytes twice, and a cached package equals a fresh one", () => {
    const entries = { sdk: SDK_FIXTURE };
    const first = readFileSync(fresh(entries).sdk.zipPath);
    const second = readFileSync(fresh(entries).sdk.zipPath);
    expect(second.equals(first)).toBe(true);

    clearProcessCache();
    const cacheDir = join(scratch, "cache");
    bundleFunctions(entries, { cacheDir });
    clearProcessCache();
    const cached = bundleFunctions(entries, { cacheDir });
    expect(lastBundlingRun().builtFunctions).toEqual([]);
    expect(readFileSync(cached.sdk.zipPath).equals(first)).toBe(true);
  });

  it("minifies, bundles the AWS SDK (ESM build) and leaks no path of this machine", () => {
    const { sdk } = fresh({ sdk: SDK_FIXTURE });
    const files = zipFiles(sdk.zipPath);
    for (const [name, text] of Object.entries(files)) {
      expect(text.includes(PROJECT_ROOT), `${name} contains ${PROJECT_ROOT}`).toBe(false);
      expect(text.includes(homedir()), `${name} contains ${homedir()}`).toBe(false);
    }
    // Bundled, not required at run time (error messages may still name other SDK packages).
    expect(/require\("(@aws-sdk\/client-|@smithy\/)/.test(files["index.js"])).toBe(false);
    const inputs = Object.keys(sdk.inputBytes);
    expect(
      inputs.some((input) => input.startsWith("node_modules/@aws-sdk/client-sns/dist-es/")),
    ).toBe(true);
    expect(inputs.every((input) => !input.startsWith("/"))).toBe(true);
    expect(BUNDLE_OPTIONS).toMatchObject({
      minify: true,
      platform: "node",
      target: "node24",
      format: "cjs",
      mainFields: ["module", "main"],
      sourcemap: "linked",
      sourcesContent: false,
      legalComments: "none",
    });
  });

  it("rebuilds a cached package when a file it was built from changes", () => {
    const cacheDir = join(scratch, "invalidation");
    const entry = join(projectScratch, "entry.ts");
    const helper = join(projectScratch, "helper.ts");
    writeFileSync(
      entry,
      'import { greeting } from "./helper";\nexport const handler = async () => greeting;\n',
    );
    writeFileSync(helper, 'export const greeting = "hello";\n');
    const entries = { changing: relative(PROJECT_ROOT, entry) };

    clearProcessCache();
    const before = bundleFunctions(entries, { cacheDir });
    clearProcessCache();
    bundleFunctions(entries, { cacheDir });
    expect(lastBundlingRun().builtFunctions).toEqual([]);

    writeFileSync(helper, 'export const greeting = "hello again";\n');
    clearProcessCache();
    const after = bundleFunctions(entries, { cacheDir });
    expect(lastBundlingRun().builtFunctions).toEqual(["changing"]);
    expect(after.changing.zipSha256Hex).not.toBe(before.changing.zipSha256Hex);
    expect(zipFiles(after.changing.zipPath)["index.js"]).toContain("hello again");
  });

  it("fails with esbuild's message when an entry does not resolve", () => {
    const missing = join(projectScratch, "broken.ts");
    writeFileSync(
      missing,
      'import { nothing } from "./does-not-exist";\nexport const handler = nothing;\n',
    );
    clearProcessCache();
    expect(() =>
      bundleFunctions({ broken: relative(PROJECT_ROOT, missing) }, { cacheDir: false }),
    ).toThrow(BundlingError);
    expect(() =>
      bundleFunctions({ broken: relative(PROJECT_ROOT, missing) }, { cacheDir: false }),
    ).toThrow(
      /Bundling the Lambda handlers broken failed:\n {2}.*broken\.ts:1: Could not resolve "\.\/does-not-exist"/,
    );
  });
});

describe("the real handlers", () => {
  const handlers = readdirSync(join(PROJECT_ROOT, "functions/handlers"))
    .filter((file) => file.endsWith(".ts"))
    .map((file) => file.replace(/\.ts$/, ""))
    .sort();

  it("are exactly the functions the construct deploys", () => {
    expect(handlers).toEqual([...FUNCTION_NAMES].sort());
  });

  it("bundle into minified packages with no path of this machine, reporting their sizes", () => {
    clearProcessCache();
    const bundles = bundleFunctions(
      Object.fromEntries(handlers.map((name) => [name, `functions/handlers/${name}.ts`])),
    );
    for (const name of handlers) {
      const bundle = bundles[name];
      const files = zipFiles(bundle.zipPath);
      expect(files["index.js"].includes(PROJECT_ROOT), name).toBe(false);
      expect(files["index.js.map"].includes(PROJECT_ROOT), name).toBe(false);
      expect(bundle.bundleBytes, name).toBeGreaterThan(0);
      expect(Object.keys(bundle.inputBytes), name).toContain(`functions/handlers/${name}.ts`);
    }
  });

  it("stay within the SPEC's 400 KB (400,000 bytes) of minified code each", () => {
    // A size, not a time: checked here so that a change that outgrows it fails CI, not only the
    // bench (promote-database is within tens of bytes of it).
    const bundles = bundleFunctions(
      Object.fromEntries(handlers.map((name) => [name, `functions/handlers/${name}.ts`])),
    );
    for (const name of handlers) {
      expect(bundles[name].bundleBytes, name).toBeLessThanOrEqual(400_000);
    }
  });
});
