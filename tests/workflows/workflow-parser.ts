import { readFileSync } from "node:fs";
import { register } from "node:module";
import { join } from "node:path";

/**
 * GitHub's own workflow parser (@actions/workflow-parser: the schema and checks github.com
 * uses), for the workflow tests and for a generated workflow (tests/cli/add-environment.test.ts).
 */

/**
 * @actions/workflow-parser (ESM only) imports its JSON schema without `with { type: "json" }`,
 * which Node rejects (ERR_IMPORT_ASSERTION_TYPE_MISSING; actions/languageservices#387). A loader
 * hook adds the attribute to JSON imports in this test process; drop it once upstream is fixed.
 */
let jsonHookRegistered = false;
export async function workflowParser() {
  if (!jsonHookRegistered) {
    const hook = `export async function load(url, context, next) {
      if (!url.endsWith(".json")) return next(url, context);
      return next(url, { ...context, importAttributes: { ...context.importAttributes, type: "json" } });
    }`;
    register(`data:text/javascript,${encodeURIComponent(hook)}`);
    jsonHookRegistered = true;
  }
  return import("@actions/workflow-parser");
}

/**
 * Every error GitHub's parser reports for the workflow `content` (named `name`, e.g.
 * `.github/workflows/deploy.yml`), called workflows included: `uses: ./.github/workflows/ci.yml`
 * is read from `root` and checked against its inputs.
 */
export async function workflowProblems(
  name: string,
  content: string,
  root: string,
): Promise<string[]> {
  const { parseWorkflow, convertWorkflowTemplate, NoOperationTraceWriter } = await workflowParser();
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (parsed.value === undefined)
    return errors.length > 0 ? errors : ["the parser returned nothing"];
  const files = {
    getFileContent: async (ref: { path: string }) => ({
      name: ref.path,
      content: readFileSync(join(root, ref.path), "utf8"),
    }),
  };
  const template = await convertWorkflowTemplate(parsed.context, parsed.value, files, {
    fetchReusableWorkflowDepth: 1,
  });
  return [...errors, ...(template.errors ?? []).map((e) => e.Message)];
}
