import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // Node 20 lacks Promise.withResolvers, which aws-local-stepfunctions 3 uses.
    setupFiles: ["tests/support/setup.ts"],
    // Synth-heavy tests share little; forks keep cdktf's global state per file.
    pool: "forks",
    testTimeout: 60_000,
  },
});
