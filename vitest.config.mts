import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

/** Every test file, relative to the repository root. */
function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

/**
 * Test files that only synthesize and read the result, keeping no state between files: they
 * share their worker's modules, the project's included.
 */
const SYNTH_TESTS = [
  "tests/constructs/**/*.test.ts",
  "tests/stacks/**/*.test.ts",
  "tests/guardrails/**/*.test.ts",
  "tests/budget/**/*.test.ts",
  "tests/docs/**/*.test.ts",
  "tests/workflows/**/*.test.ts",
  "tests/config.test.ts",
  "tests/imports.test.ts",
  "tests/bootstrap.test.ts",
  "tests/app.test.ts",
  "tests/app-bundle.test.ts",
];

/**
 * Test files that replace modules (`vi.mock`): they run in a process of their own, because a
 * mocked module would serve the next file of a shared worker. Found by what the file uses, so a
 * new test that mocks lands here by itself.
 */
const MODULE_MOCKING_TESTS = testFiles("tests").filter((file) =>
  /\bvi\.(do)?[mM]ock\(/.test(readFileSync(file, "utf8")),
);

export default defineConfig({
  test: {
    setupFiles: ["tests/support/setup.ts"],
    pool: "forks",
    // Vitest's default is one worker fewer than there are cores: one worker on the 2-core
    // machine. Tests are CPU-bound or wait on child processes, so every core gets one.
    maxWorkers: availableParallelism(),
    testTimeout: 60_000,
    env: {
      // The SDK's one notice that Node 20 will stop getting SDK releases in January 2027, printed
      // by every worker and CLI child on this machine's Node 20 (the workflows run Node 22, where it
      // never appears). Only that notice: other warnings still print. The switch is the SDK's own
      // (aws-sdk-js-v3 packages/core/src/submodules/client/emitWarningIfUnsupportedVersion.ts).
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    },
    // Files share a worker's modules (isolate: false), so that cdktf, the provider bindings and
    // the SDK load once per worker instead of once per file: that loading was about 90 s of a
    // 260 s run.
    projects: [
      { extends: true, test: { name: "synth", include: SYNTH_TESTS, isolate: false } },
      {
        extends: true,
        test: {
          name: "shared",
          include: ["tests/**/*.test.ts"],
          exclude: [...SYNTH_TESTS, ...MODULE_MOCKING_TESTS],
          isolate: false,
          setupFiles: ["tests/support/fresh-modules.ts"],
        },
      },
      { extends: true, test: { name: "isolated", include: MODULE_MOCKING_TESTS } },
    ],
  },
});
