import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // Node 20 lacks Promise.withResolvers, which aws-local-stepfunctions 3 uses.
    setupFiles: ["tests/support/setup.ts"],
    // Synth-heavy tests share little; forks keep cdktf's global state per file.
    pool: "forks",
    testTimeout: 60_000,
    env: {
      // The SDK's one notice that Node 20 will stop getting SDK releases in January 2027, printed
      // by every worker and CLI child on this machine's Node 20 (CI runs Node 24, where it never
      // appears). Only that notice: other warnings still print. The switch is the SDK's own
      // (aws-sdk-js-v3 packages/core/src/submodules/client/emitWarningIfUnsupportedVersion.ts).
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    },
  },
});
