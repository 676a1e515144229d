/**
 * Test doubles of the run-drill tests: a report writer that keeps what it is given, and the
 * settings the drill Lambda reads (the operations API is tests/support/fake-operations-api.ts).
 */
import type { DrillSettings } from "../../functions/shared/drill-settings";
import type { ObjectWriter, PutObjectRequest } from "../../functions/shared/s3-object-writer";
import { SETTINGS } from "./steps/fixtures";

export const DRILL_SETTINGS: DrillSettings = {
  reportBucket: "shopsmart-prod-drills-111122223333",
  reportKmsKeyArn: "arn:aws:kms:us-west-2:111122223333:key/secondary",
  appUrl: "https://shop.example.com/",
  healthPath: "/health",
  metricNamespace: "ShopSmart/DR",
  holdMinutes: 5,
  pollSeconds: 10,
};

/** The automation settings of the step tests (prod, us-east-2 / us-west-2), with the API URL. */
export const AUTOMATION_SETTINGS = {
  ...SETTINGS,
  apiBaseUrl: "https://a1b2c3d4e5.execute-api.us-west-2.amazonaws.com",
};

/** Keeps every object written, by key. */
export class MemoryObjectWriter implements ObjectWriter {
  readonly objects = new Map<string, PutObjectRequest>();

  async putObject(request: PutObjectRequest): Promise<void> {
    this.objects.set(request.key, request);
  }
}

/** A clock that moves only when told to. */
export function manualClock(start = Date.parse("2026-01-07T06:00:00Z")) {
  let now = start;
  return {
    now: () => new Date(now),
    advance(seconds: number) {
      now += seconds * 1000;
    },
  };
}
