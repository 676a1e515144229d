import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // Synth-heavy tests share little; forks keep cdktf's global state per file.
    pool: "forks",
    testTimeout: 60_000,
  },
});
