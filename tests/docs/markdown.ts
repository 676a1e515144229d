import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { USAGE as DRILL_USAGE } from "../../src/cli/drill";
import { USAGE as OPERATIONS_USAGE } from "../../src/cli/operations";
import { USAGE as VALIDATE_USAGE } from "../../src/cli/validate";

/**
 * What the docs tests read: the Markdown pages (README.md and docs/*.md), the commands they show
 * and the headings their links point at. Helpers only; the checks are in the *.test.ts files.
 */

export const ROOT = resolve(__dirname, "../..");

/** README.md and every docs/*.md, as paths relative to the repository root. */
export function markdownPages(): string[] {
  const docs = readdirSync(resolve(ROOT, "docs"))
    .filter((file) => file.endsWith(".md"))
    .sort()
    .map((file) => `docs/${file}`);
  return ["README.md", ...docs];
}

export function read(path: string): string {
  return readFileSync(resolve(ROOT, path), "utf8");
}

export const scripts = (
  JSON.parse(read("package.json")) as {
    scripts: Record<string, string>;
  }
).scripts;

export const environments = readdirSync(resolve(ROOT, "envs"))
  .filter((file) => file.endsWith(".json"))
  .map((file) => file.replace(/\.json$/, ""));

/**
 * The text outside fenced code blocks, with each fenced line blanked (line numbers kept). A block
 * opened by N backticks closes only at a line of at least N, so a ```` block can show a report
 * that holds a ``` block of its own.
 */
export function prose(markdown: string): string {
  let fence = 0;
  return markdown
    .split("\n")
    .map((line) => {
      const ticks = /^\s*(`{3,})(.*)$/.exec(line);
      if (fence === 0 && ticks) {
        fence = ticks[1]?.length ?? 3;
        return "";
      }
      if (fence > 0 && ticks && (ticks[1]?.length ?? 0) >= fence && ticks[2]?.trim() === "") {
        fence = 0;
        return "";
      }
      return fence > 0 ? "" : line;
    })
    .join("\n");
}

export interface Command {
  readonly text: string;
  readonly script: string;
  readonly args: string;
}

/** Each `npm run [-s] <script> [-- args]`, args up to the end of the line, a backtick or a `#`. */
export function npmCommands(markdown: string): Command[] {
  return [...markdown.matchAll(/npm run (?:-s )?([a-z:-]+)(?: -- ([^\n`#]*))?/g)].map((match) => ({
    text: match[0].trim(),
    script: match[1] ?? "",
    args: match[2] ?? "",
  }));
}

/** The `--flags` of a command line (placeholders such as `<id>` are not flags). */
export function flagsOf(args: string): string[] {
  return [...args.matchAll(/(?:^|\s)(--[a-z][a-z0-9-]*)/g)].map((match) => match[1] ?? "");
}

/** The usage text a script's flags must appear in. */
export function usageOf(script: string): string | undefined {
  if (script === "drill") return DRILL_USAGE;
  if (script === "status" || script === "failover" || script === "failback") {
    return OPERATIONS_USAGE[script];
  }
  if (script === "validate") return VALIDATE_USAGE;
  if (script === "budget") return read("src/cli/budget.ts");
  if (script === "deploy-guard") return read("src/cli/deploy-guard.ts");
  return undefined;
}

/** Each flag a command passes that its CLI's usage does not list, as `<flag> in: <command>`. */
export function unlistedFlags(commands: readonly Command[]): string[] {
  return commands.flatMap((command) => {
    const usage = usageOf(command.script);
    if (usage === undefined) return [];
    return flagsOf(command.args)
      .filter((flag) => !new RegExp(`${flag}(?![a-z-])`).test(usage))
      .map((flag) => `${flag} in: ${command.text}`);
  });
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-");
}

/** The headings of a page, in order, outside code blocks. */
export function headings(markdown: string): { level: number; text: string }[] {
  return [...prose(markdown).matchAll(/^(#{1,6}) +(.+?) *#*$/gm)].map((match) => ({
    level: match[1]?.length ?? 0,
    text: match[2] ?? "",
  }));
}

/** Every anchor a page has, duplicates numbered as GitHub numbers them (`-1`, `-2`, ...). */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const heading of headings(markdown)) {
    const base = slug(heading.text);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

export interface Link {
  readonly page: string;
  readonly text: string;
  readonly target: string;
}

/** The Markdown links of a page outside code blocks and inline code. */
export function links(page: string): Link[] {
  const text = prose(read(page)).replace(/`[^`\n]*`/g, "``");
  return [...text.matchAll(/\[([^\]]*)\]\(([^)\s]+)(?: "[^"]*")?\)/g)].map((match) => ({
    page,
    text: match[1] ?? "",
    target: match[2] ?? "",
  }));
}

/** Why a relative link does not resolve, or undefined when it does (external links pass). */
export function brokenLink(link: Link): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(link.target)) return undefined;
  const [path = "", anchor] = link.target.split("#", 2);
  const file = path === "" ? resolve(ROOT, link.page) : resolve(ROOT, dirname(link.page), path);
  const shown = `${link.page}: [${link.text}](${link.target})`;
  if (!existsSync(file)) return `${shown}: no file ${relative(ROOT, file)}`;
  if (anchor === undefined || !file.endsWith(".md")) return undefined;
  const known = anchors(readFileSync(file, "utf8"));
  return known.has(anchor)
    ? undefined
    : `${shown}: no heading #${anchor} in ${relative(ROOT, file)}`;
}
