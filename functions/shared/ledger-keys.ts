/**
 * The partition keys of the operation ledger's fixed items (functions/orchestration/ledger.ts
 * describes each). Here, without the SDK, so the automation construct can scope IAM to them
 * (`dynamodb:LeadingKeys`).
 */
export const LOCK_KEY = "LOCK";
export const LATEST_KEY = "LATEST";
export const PENDING_TRIGGER_KEY = "TRIGGER#PENDING";
export const TRAFFIC_FENCES_KEY = "TRAFFIC#FENCES";
