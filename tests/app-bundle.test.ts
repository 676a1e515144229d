import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import Module from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DefaultTokenResolver, Lazy, StringConcat, Testing, Token } from "cdktf";
import * as esbuild from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BuildInputs, isInstalled } from "../src/app-bundle/build-inputs.cjs";
import launcher from "../src/app-bundle/run.cjs";

/**
 * The launcher of `npm run synth` and `cdktf synth`: the bundle cache and the two things it
 * leaves out of cdktf. That the bundle synthesizes the same bytes as the sources is in
 * tests/app.test.ts.
 */

const ROOT = resolve(__dirname, "..");
const RESOLVE_JS = join(ROOT, "node_modules/cdktf/lib/tokens/private/resolve.js");

/** Loads `source` as if it were cdktf's resolve.js, so its relative requires find cdktf. */
function loadAsResolveJs(source: string): {
  resolve: (obj: unknown, options: Record<string, unknown>) => unknown;
} {
  // cdktf's modules require each other in cycles; loaded from its index first, they are complete.
  Module.createRequire(RESOLVE_JS)("cdktf");
  const loaded = new Module(RESOLVE_JS) as Module & {
    _compile(code: string, filename: string): void;
    paths: string[];
  };
  loaded.filename = RESOLVE_JS;
  loaded.paths = (
    Module as unknown as { _nodeModulePaths(dir: string): string[] }
  )._nodeModulePaths(join(ROOT, "node_modules/cdktf/lib/tokens/private"));
  loaded._compile(source, RESOLVE_JS);
  return loaded.exports;
}

function errorOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  throw new Error("expected an error");
}

describe("the lazy resolve path", () => {
  const original = readFileSync(RESOLVE_JS, "utf8");

  it("applies to the installed cdktf (if this fails, cdktf changed: look at run.cjs)", () => {
    const patched = launcher.lazyResolvePathSource(original);
    expect(patched).toBeDefined();
    expect(patched).not.toContain("const pathName");
    expect(patched).not.toMatch(/\bpathName\b/);
  });

  it("reports the same path in resolve errors as cdktf does", () => {
    const patched = launcher.lazyResolvePathSource(original) as string;
    // A function value is refused with its path: one of the errors that name it.
    const options = { prefix: ["resource", "aws_s3_bucket", "logs"], resolver: {} };
    const value = () => "not a token";
    const expected = errorOf(() => loadAsResolveJs(original).resolve(value, options));
    expect(expected).toContain("/resource/aws_s3_bucket/logs");
    expect(errorOf(() => loadAsResolveJs(patched).resolve(value, options))).toBe(expected);
  });

  it("leaves a source of another shape alone", () => {
    expect(launcher.lazyResolvePathSource("function resolve(obj) { return obj; }")).toBeUndefined();
    // A use of the path that is not an error's first argument: rewriting would be guesswork.
    const otherUse = original.replace(
      "if (prefix.length > 200) {",
      "console.log(pathName);\n    if (prefix.length > 200) {",
    );
    expect(launcher.lazyResolvePathSource(otherUse)).toBeUndefined();
  });
});

describe("plain values taken as they are", () => {
  const original = readFileSync(RESOLVE_JS, "utf8");
  const resolveWith = (source: string, value: unknown) =>
    loadAsResolveJs(source).resolve(value, {
      scope: Testing.app(),
      prefix: [],
      resolver: new DefaultTokenResolver(new StringConcat()),
      preparing: false,
    });

  it("applies to the installed cdktf (if this fails, cdktf changed: look at run.cjs)", () => {
    const patched = launcher.plainValuesSource(original);
    expect(patched).toBeDefined();
    expect(patched).toContain("function isPlainValue(x)");
  });

  it("resolves every kind of value as cdktf does: plain, token, number token, list token", () => {
    const patched = launcher.plainValuesSource(original) as string;
    const text = Lazy.stringValue({ produce: () => "from-a-token" });
    const count = Lazy.numberValue({ produce: () => 42 });
    const list = Lazy.listValue({ produce: () => ["a", "b"] });
    const value = {
      plain: "arn:aws:s3:::bucket/*",
      bool: true,
      number: 7,
      exponent: "1e5 and 2.5e-3",
      braces: "{not a token}",
      escaped: "$${literal}",
      [text]: `key from a token ${text}`,
      embeddedNumber: `count-${count}`,
      count,
      list,
      nested: [{ [`k-${text}`]: ["x", text, false, `${count}`] }],
      nothing: undefined,
    };
    const expected = resolveWith(original, value);
    expect(expected).toMatchObject({ "from-a-token": "key from a token from-a-token", count: 42 });
    expect(resolveWith(patched, value)).toEqual(expected);
  });

  it("refuses the map-token values in a string context as cdktf does", () => {
    const patched = launcher.plainValuesSource(original) as string;
    for (const mapValue of [Token.STRING_MAP_TOKEN_VALUE, Token.ANY_MAP_TOKEN_VALUE]) {
      const expected = errorOf(() => resolveWith(original, { tags: mapValue }));
      expect(errorOf(() => resolveWith(patched, { tags: mapValue }))).toBe(expected);
    }
  });

  it("is applied as cdktf loads from node_modules, for the sources bundle", () => {
    // A process of its own: this one loaded cdktf already.
    const probe = spawnSync(
      process.execPath,
      [
        "-e",
        `require(${JSON.stringify(join(ROOT, "src/app-bundle/run.cjs"))}).resolveShortcutsOnLoad();
        const { resolve } = require(${JSON.stringify(RESOLVE_JS)});
        console.log(String(resolve).includes("isPlainValue(key)") && !String(resolve).includes("const pathName"));`,
      ],
      { encoding: "utf8", cwd: ROOT },
    );
    expect(probe.stderr).toBe("");
    expect(probe.stdout).toBe("true\n");
  });

  it("leaves a source of another shape alone", () => {
    const otherShape = original.replace(
      "const resolvedKey = makeContext()[0].resolve(key);",
      "const resolvedKey = makeContext()[0].resolve(String(key));",
    );
    expect(launcher.plainValuesSource(otherShape)).toBeUndefined();
  });
});

describe("the bundle cache", () => {
  let cacheDir: string;
  let bundle: string;
  const manifestFile = () => join(cacheDir, "manifest.json");
  const readManifest = () => JSON.parse(readFileSync(manifestFile(), "utf8"));
  const writeManifest = (manifest: unknown) =>
    writeFileSync(manifestFile(), JSON.stringify(manifest));

  beforeAll(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), "shopsmart-app-bundle-"));
    bundle = await launcher.buildBundle(esbuild, "main.ts", cacheDir);
  }, 60_000);
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

  it("records every file esbuild read, the launcher and the lock file", () => {
    const inputs = Object.keys(readManifest().inputs);
    expect(inputs).toEqual(
      expect.arrayContaining([
        "main.ts",
        "src/stacks/environment-stack.ts",
        "functions/shared/dr-metrics.ts",
        "node_modules/cdktf/lib/tokens/private/resolve.js",
        "src/app-bundle/run.cjs",
        "package-lock.json",
      ]),
    );
  });

  it("serves the bundle while its inputs are unchanged", () => {
    expect(launcher.cachedBundle(esbuild.version, cacheDir)).toBe(bundle);
  });

  it("serves it when only an input's modification time changed (a fresh checkout)", () => {
    const manifest = readManifest();
    manifest.inputs["main.ts"].mtimeMs = 0;
    writeManifest(manifest);
    expect(launcher.cachedBundle(esbuild.version, cacheDir)).toBe(bundle);
  });

  it("rebuilds when an input's content changed", () => {
    const manifest = readManifest();
    const saved = structuredClone(manifest);
    try {
      manifest.inputs["src/stacks/environment-stack.ts"] = {
        ...manifest.inputs["src/stacks/environment-stack.ts"],
        sha256: "0".repeat(64),
        mtimeMs: 0,
      };
      writeManifest(manifest);
      expect(launcher.cachedBundle(esbuild.version, cacheDir)).toBeUndefined();
    } finally {
      writeManifest(saved);
    }
  });

  it("rebuilds for another esbuild version or another checkout path", () => {
    expect(launcher.cachedBundle("0.0.0", cacheDir)).toBeUndefined();
    const manifest = readManifest();
    try {
      writeManifest({ ...manifest, projectRoot: "/elsewhere" });
      expect(launcher.cachedBundle(esbuild.version, cacheDir)).toBeUndefined();
    } finally {
      writeManifest(manifest);
    }
  });

  it("leaves cdktf's token stack traces out of the bundle", () => {
    const source = readFileSync(bundle, "utf8");
    expect(source).toMatch(
      /exports\d*\.captureStackTrace = function captureStackTrace\d*\(\) \{\s*return \[\];\s*\};/,
    );
    expect(source).not.toContain("Error.captureStackTrace(object, below)");
  });
});

describe("which bundle an entry runs from", () => {
  // A small entry with one installed package (fflate) besides esbuild.
  const entry = "src/constructs/automation/packaging-worker.ts";
  let root: string;
  const dirOf = (kind: string) => join(root, kind);
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "shopsmart-bundle-kinds-"));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("is the sources bundle the first time, the complete one from the second time on", async () => {
    const first = await launcher.bundleToRun(esbuild, entry, undefined, dirOf);
    expect(first.kind).toBe("sources");
    expect(launcher.cachedBundle(esbuild.version, dirOf("complete"))).toBeUndefined();
    const second = await launcher.bundleToRun(esbuild, entry, undefined, dirOf);
    expect(second.kind).toBe("complete");
    const third = await launcher.bundleToRun(esbuild, entry, undefined, dirOf);
    expect(third).toEqual(second);
    // Installed packages: required from node_modules by the one, inside the other.
    expect(readFileSync(first.path, "utf8")).toMatch(/require\("fflate"\)/);
    expect(readFileSync(second.path, "utf8")).not.toMatch(/require\("fflate"\)/);
  }, 60_000);

  it("is the kind asked for, whatever the cache holds", async () => {
    const asked = await launcher.bundleToRun(esbuild, entry, "sources", dirOf);
    expect(asked.kind).toBe("sources");
    expect(asked.path.startsWith(dirOf("sources"))).toBe(true);
  });
});

describe("every CLI of package.json, run from the bundle of its sources", () => {
  const scripts = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts as Record<
    string,
    string
  >;
  const entries = [
    ...new Set(
      Object.values(scripts).flatMap((command) => [
        ...command.matchAll(/run\.cjs (src\/cli\/[a-z-]+\.ts)/g),
      ]),
    ),
  ].map((match) => match[1] as string);

  it("loads (Node requires what the bundle leaves to node_modules) and prints its usage", async () => {
    expect(entries.length).toBeGreaterThanOrEqual(7);
    const runs = await Promise.all(
      [...new Set(entries)].map(
        (entry) =>
          new Promise<{ entry: string; output: string }>((done) => {
            const child = spawn(
              process.execPath,
              [join(ROOT, "src/app-bundle/run.cjs"), entry, "--help"],
              {
                cwd: ROOT,
                env: { ...process.env, [launcher.BUNDLE_KIND_VARIABLE]: "sources" },
              },
            );
            let output = "";
            child.stdout.on("data", (chunk) => {
              output += chunk;
            });
            child.stderr.on("data", (chunk) => {
              output += chunk;
            });
            child.on("close", () => done({ entry, output }));
          }),
      ),
    );
    for (const { entry, output } of runs) {
      expect(output, entry).toContain("usage: npm run");
      // No warning line, no error, no stack frame.
      expect(output, entry).not.toMatch(/^(warning:|\w*Error\b)|^\s+at /m);
    }
  }, 60_000);
});

describe("cdktf loaded from node_modules (the tests)", () => {
  it("records no stack trace for a token once stubTokenStackTraces ran", () => {
    launcher.stubTokenStackTraces();
    expect(Lazy.anyValue({ produce: () => "value" }).creationStack).toEqual([]);
  });
});

describe("build inputs (both build caches)", () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "shopsmart-build-inputs-"));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  function recorded(content: string) {
    writeFileSync(join(root, "input.ts"), content);
    return new BuildInputs(root).fingerprint("input.ts");
  }

  it("keeps an input whose size and modification time are as recorded", () => {
    const before = recorded("export const a = 1;");
    expect(new BuildInputs(root).unchanged("input.ts", before)).toBe(true);
  });

  it("keeps an input rewritten with the same content (a checkout, a touch)", () => {
    const before = recorded("export const a = 1;");
    writeFileSync(join(root, "input.ts"), "export const a = 1;");
    utimesSync(join(root, "input.ts"), new Date(2030, 0, 1), new Date(2030, 0, 1));
    expect(new BuildInputs(root).unchanged("input.ts", before)).toBe(true);
  });

  it("drops an input of the same size with other content, or of another size, or gone", () => {
    const before = recorded("export const a = 1;");
    writeFileSync(join(root, "input.ts"), "export const a = 2;");
    utimesSync(join(root, "input.ts"), new Date(2030, 0, 1), new Date(2030, 0, 1));
    expect(new BuildInputs(root).unchanged("input.ts", before)).toBe(false);
    writeFileSync(join(root, "input.ts"), "export const a = 10;");
    expect(new BuildInputs(root).unchanged("input.ts", before)).toBe(false);
    rmSync(join(root, "input.ts"));
    expect(new BuildInputs(root).unchanged("input.ts", before)).toBe(false);
    expect(new BuildInputs(root).hash("input.ts")).toBe("missing");
  });

  describe("an installed file (under node_modules, fixed by the lock file in both cache keys)", () => {
    const installed = "node_modules/some-package/index.js";
    function recordedInstalled(content: string) {
      mkdirSync(join(root, "node_modules/some-package"), { recursive: true });
      writeFileSync(join(root, installed), content);
      return new BuildInputs(root).fingerprint(installed);
    }

    it("is recorded by size and modification time, without reading it", () => {
      const before = recordedInstalled("module.exports = 1;");
      expect(before).toEqual({ size: 19, mtimeMs: expect.any(Number) });
      expect(new BuildInputs(root).unchanged(installed, before)).toBe(true);
    });

    it("counts as changed once its modification time changed, even with the same content", () => {
      const before = recordedInstalled("module.exports = 1;");
      utimesSync(join(root, installed), new Date(2030, 0, 1), new Date(2030, 0, 1));
      expect(new BuildInputs(root).unchanged(installed, before)).toBe(false);
    });

    it("is told apart from a project file by its first path segment only", () => {
      expect(isInstalled("node_modules/cdktf/lib/index.js")).toBe(true);
      expect(isInstalled("node_modules\\cdktf\\lib\\index.js")).toBe(true);
      expect(isInstalled("src/node_modules/x.ts")).toBe(false);
      expect(isInstalled("functions/handlers/finish.ts")).toBe(false);
    });
  });
});

describe("the app bundle cache", () => {
  it("keeps each checkout's bundles in a directory of its own (worktrees share node_modules)", () => {
    const checkout = join(
      ROOT,
      "node_modules/.cache/shopsmart-dr-app",
      createHash("sha256").update(ROOT).digest("hex").slice(0, 12),
    );
    expect(launcher.cacheDirOf("src/cli/state.ts")).toBe(join(checkout, "src-cli-state/complete"));
    expect(launcher.cacheDirOf("src/cli/state.ts", "sources")).toBe(
      join(checkout, "src-cli-state/sources"),
    );
  });
});
