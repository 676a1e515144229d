/**
 * Lambda plan-operation: the workflow's plan, built from the preflight readings by the same code
 * as the dry run, so the real run stops on exactly the blockers a dry run reports.
 */

import { buildPlan, workflowPlan } from "../orchestration/plan";
import { withStepErrors } from "../shared/errors";
import { lazy } from "../shared/lazy";
import { parsePlanEvent } from "../shared/operation";
import { loadSettings } from "../shared/settings";

/** Read on the first invocation and reused by the warm sandbox. */
const planSettings = lazy(loadSettings);

export const handler = withStepErrors("plan-operation", async (event: unknown) => {
  const settings = planSettings();
  const { operation, topology, traffic, writerCheckIntervalSeconds } = parsePlanEvent(
    "plan-operation",
    event,
  );
  // No runningOperationId: the lock this execution holds is its own.
  const plan = buildPlan(operation, topology, traffic, { settings });
  return workflowPlan(plan, writerCheckIntervalSeconds);
});
