import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { Construct } from "constructs";
import { describe, expect, it } from "vitest";
import { InvalidPropsError } from "../../src/errors";
import { checkStack, GUARDRAILS, Guardrails } from "../../src/guardrails";
import { violation } from "../support/guardrails";
import { stackWithProviders } from "../support/synth";

/** Two bare buckets (violating every S3 rule) under `logs` and `data` in the primary region. */
function twoBuckets() {
  const { stack, providers } = stackWithProviders();
  const logs = new Construct(stack, "logs");
  const data = new Construct(stack, "data");
  new S3Bucket(logs, "bucket", { provider: providers.primary, bucket: "logs" });
  new S3Bucket(data, "bucket", { provider: providers.primary, bucket: "data" });
  return { stack, logs, data };
}

const S3_1 = GUARDRAILS.filter((rule) => rule.id === "SS-S3-1");

describe("Guardrails.suppress", () => {
  it("excuses the rule for the construct and everything under it, and nothing else", () => {
    const { stack, logs } = twoBuckets();
    Guardrails.suppress(logs, "SS-S3-1", "receives S3 server access logs, which require SSE-S3");
    const report = checkStack(stack, {}, S3_1);
    expect(
      report.violations.map(
        (v) => `[${v.ruleId}] ${v.constructPath}: ${v.problem}. Fix: ${v.fix}.`,
      ),
    ).toEqual([
      violation(
        "SS-S3-1",
        "test/data/bucket",
        "has no aws_s3_bucket_server_side_encryption_configuration, so objects get S3-managed keys (SSE-S3), not a KMS key",
      ),
    ]);
    expect(report.suppressed.map((s) => [s.ruleId, s.constructPath, s.suppression.reason])).toEqual(
      [["SS-S3-1", "test/logs/bucket", "receives S3 server access logs, which require SSE-S3"]],
    );
    expect(report.suppressions).toEqual([
      {
        ruleId: "SS-S3-1",
        constructPath: "test/logs",
        reason: "receives S3 server access logs, which require SSE-S3",
      },
    ]);
  });

  it("leaves other rules on the suppressed construct in force", () => {
    const { stack, logs } = twoBuckets();
    Guardrails.suppress(logs, "SS-S3-1", "receives S3 server access logs, which require SSE-S3");
    const report = checkStack(stack);
    expect(
      report.violations.filter((v) => v.constructPath === "test/logs/bucket").map((v) => v.ruleId),
    ).toEqual(["SS-S3-2", "SS-S3-3", "SS-S3-4", "SS-DR-1"]);
  });

  it("fails a reason shorter than 10 characters, naming the construct and rule", () => {
    const { logs } = twoBuckets();
    const attempt = () => Guardrails.suppress(logs, "SS-S3-1", " ok ");
    expect(attempt).toThrow(InvalidPropsError);
    expect(attempt).toThrow(
      'Invalid props for test/logs:\n  - Guardrails.suppress("SS-S3-1").reason: got " ok "; expected at least 10 characters saying why the rule does not apply here; a suppression without a reason cannot be reviewed',
    );
  });

  it("fails an unknown rule id, listing the known ones", () => {
    const { logs } = twoBuckets();
    expect(() =>
      Guardrails.suppress(logs, "SS-S3-9", "a reason that is long enough to review"),
    ).toThrow(
      `Invalid props for test/logs:\n  - Guardrails.suppress("SS-S3-9").ruleId: got "SS-S3-9"; expected the id of a rule in src/guardrails/pack.ts (${GUARDRAILS.map((r) => r.id).join(", ")})`,
    );
  });
});
