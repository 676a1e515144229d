import { afterEach, describe, expect, it, vi } from "vitest";
import { withStepErrors } from "../../../functions/shared/errors";
import { log, logged } from "../../../functions/shared/log";

/** The lines written to one console method, parsed. */
function lines(method: "info" | "warn" | "error"): unknown[] {
  return vi.mocked(console[method]).mock.calls.map(([line]) => JSON.parse(String(line)));
}

describe("the functions' log lines", () => {
  afterEach(() => vi.restoreAllMocks());

  it("name the handler and Lambda's request id, with the level and the console method to match", async () => {
    for (const method of ["info", "warn", "error"] as const) {
      vi.spyOn(console, method).mockImplementation(() => undefined);
    }
    const handler = logged("finish", async (event: { id: string }) => {
      log("info", "operation finished", { operationId: event.id });
      log("warn", "could not read the execution history");
      return event.id;
    });

    await handler({ id: "op-1" }, { awsRequestId: "req-1" });
    await handler({ id: "op-2" }, { awsRequestId: "req-2" });

    expect(lines("info")).toEqual([
      {
        level: "INFO",
        message: "operation finished",
        handler: "finish",
        requestId: "req-1",
        operationId: "op-1",
      },
      {
        level: "INFO",
        message: "operation finished",
        handler: "finish",
        requestId: "req-2",
        operationId: "op-2",
      },
    ]);
    expect(lines("warn")).toEqual([
      expect.objectContaining({ level: "WARN", requestId: "req-1" }),
      expect.objectContaining({ level: "WARN", requestId: "req-2" }),
    ]);
  });

  it("give a failing step's error line the request id as well", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const handler = withStepErrors("promote-database", async () => {
      throw Object.assign(new Error("not allowed"), { name: "AccessDenied" });
    });

    await expect(handler(undefined, { awsRequestId: "req-9" })).rejects.toMatchObject({
      name: "AccessDenied",
    });

    expect(lines("error")).toEqual([
      {
        level: "ERROR",
        message: "not allowed",
        handler: "promote-database",
        requestId: "req-9",
        error: "AccessDenied",
        retryable: false,
      },
    ]);
  });
});
