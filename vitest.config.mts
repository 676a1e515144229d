import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

/**
 * Test files that only synthesize and read the result: they patch nothing global (no module
 * mocks, SDK client mocks, fake timers, environment or network patches), so they share their
 * worker's modules instead of loading cdktf, the provider bindings and the constructs once per
 * file (isolate: false). Loading those was about 90 s of a 260 s run.
 */
const SHARED_MODULE_TESTS = [
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

export default defineConfig({
  test: {
    // Node 20 lacks Promise.withResolvers, which aws-local-stepfunctions 3 uses.
    setupFiles: ["tests/support/setup.ts"],
    // Synth-heavy tests share little; forks keep cdktf's global state per worker.
    pool: "forks",
    // Vitest's default is one worker fewer than there are cores: one worker on the 2-core
    // machine. Tests are CPU-bound or wait on child processes, so every core gets one.
    maxWorkers: availableParallelism(),
    testTimeout: 60_000,
    env: {
      // The SDK's one notice that Node 20 will stop getting SDK releases in January 2027, printed
      // by every worker and CLI child on this machine's Node 20 (CI runs Node 24, where it never
      // appears). Only that notice: other warnings still print. The switch is the SDK's own
      // (aws-sdk-js-v3 packages/core/src/submodules/client/emitWarningIfUnsupportedVersion.ts).
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    },
    projects: [
      {
        extends: true,
        test: { name: "synth", include: SHARED_MODULE_TESTS, isolate: false },
      },
      {
        extends: true,
        test: {
          name: "isolated",
          include: ["tests/**/*.test.ts"],
          exclude: SHARED_MODULE_TESTS,
        },
      },
    ],
  },
});
