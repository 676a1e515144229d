import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

/**
 * `npm run drill -- --local`, the README's first command, as users run it: the CLI from its
 * prebuilt bundle (src/app-bundle/run.cjs), in a child process without AWS credentials. The
 * in-process game-day tests load the CLI from source, so they cannot see what the bundle changes
 * (a bundled copy of the AWS SDK once sent the handlers' calls to AWS instead of the simulator).
 */

const ROOT = resolve(__dirname, "../..");
const reportDir = mkdtempSync(join(tmpdir(), "shopsmart-drill-npm-"));
afterAll(() => rmSync(reportDir, { recursive: true, force: true }));

describe("npm run drill -- --local", () => {
  it("passes from the CLI's bundle, with no AWS credentials, and measures real time", () => {
    const env: NodeJS.ProcessEnv = { ...process.env, CHECKPOINT_DISABLE: "1" };
    for (const name of Object.keys(env)) {
      if (name.startsWith("AWS_") || name.startsWith("SHOPSMART_")) delete env[name];
    }
    const run = spawnSync(
      process.execPath,
      ["src/app-bundle/run.cjs", "src/cli/drill.ts", "--local", "--report-dir", reportDir],
      { cwd: ROOT, env, encoding: "utf8", timeout: 240_000 },
    );

    expect(run.stderr).not.toMatch(/CredentialsProviderError|Could not load credentials/);
    expect(run.status, run.stdout + run.stderr).toBe(0);
    const [markdown] = readdirSync(reportDir).filter((file) => file.endsWith(".md"));
    const report = readFileSync(join(reportDir, markdown ?? "missing.md"), "utf8");
    expect(report).toMatch(/^### DR drill staging: PASSED/);
    const realSeconds = Number(/simulated time in (-?[\d.]+) s/.exec(report)?.[1]);
    expect(realSeconds).toBeGreaterThan(0);
    expect(realSeconds).toBeLessThan(240);
  }, 300_000);
});
