/**
 * The npm scripts that run the cdktf CLI keep it offline: cdktf-cli reports every run to
 * HashiCorp's Checkpoint service unless CHECKPOINT_DISABLE is set (an environment variable
 * only: cdktf.json has no such setting, https://developer.hashicorp.com/terraform/cdktf/telemetry),
 * and without network access it prints `getaddrinfo ENOTFOUND checkpoint-api.hashicorp.com`.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(__dirname, "..");
const scripts = (
  JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
    scripts: Record<string, string>;
  }
).scripts;

/** The `&&`-separated commands of a script that start the cdktf CLI. */
function cdktfCommands(script: string): string[] {
  return script
    .split("&&")
    .map((command) => command.trim())
    .filter((command) => /(^|\s)cdktf(\s|$)/.test(command));
}

describe("npm scripts that run the cdktf CLI", () => {
  const running = Object.entries(scripts).filter(([, script]) => cdktfCommands(script).length > 0);

  it("include cdktf and bootstrap, the wrappers the docs use for deploy, diff and destroy", () => {
    expect(running.map(([name]) => name)).toEqual(
      expect.arrayContaining(["synth:cli", "cdktf", "bootstrap"]),
    );
    expect(scripts.cdktf).toBe("CHECKPOINT_DISABLE=1 cdktf");
    expect(scripts.bootstrap).toBe("cd bootstrap && CHECKPOINT_DISABLE=1 cdktf");
  });

  it.each(running)("%s sets CHECKPOINT_DISABLE=1 for the cdktf command", (_name, script) => {
    for (const command of cdktfCommands(script)) {
      expect(command).toMatch(/^CHECKPOINT_DISABLE=1 (\S+=\S+ )*cdktf(\s|$)/);
    }
  });

  it("rely on the switch the installed cdktf-cli reads: process.env.CHECKPOINT_DISABLE", () => {
    // The CLI runs from its bundle, which inlines @cdktf/commons' environment switches; a rename
    // (e.g. in the cdktn fork) must fail here rather than quietly phone home again.
    const cli = dirname(require.resolve("cdktf-cli/package.json"));
    for (const file of ["bundle/bin/cdktf.js", "bundle/bin/cmds/handlers.js"]) {
      expect(readFileSync(join(cli, file), "utf8"), file).toMatch(
        /=!!process\.env\.CHECKPOINT_DISABLE[,;]/,
      );
    }
  });
});
