/**
 * Setup of the test files that share a worker but must not share state (vitest.config.mts,
 * project "shared"). The worker keeps cdktf, the provider bindings and the SDK loaded; what a
 * file could leave behind for the next is reset:
 *
 * - the project's own modules are evaluated afresh: handlers keep clients and settings in module
 *   scope, as in a Lambda sandbox, and one file's must not serve the next;
 * - SDK clients bound to a simulated pair (tests/support/simulated-aws.ts) or stubbed with
 *   aws-sdk-client-mock are restored once the file is done: both replace `send` on the client's
 *   prototype, which outlives the file (aws-sdk-client-mock through sinon's default sandbox).
 */
import { createRequire } from "node:module";
import { afterAll, vi } from "vitest";
import { removeLeftoverTransports } from "../../src/simulation/sdk-transport";

vi.resetModules();

const sinon = createRequire(require.resolve("aws-sdk-client-mock"))("sinon") as {
  restore(): void;
};
afterAll(() => {
  sinon.restore();
  removeLeftoverTransports();
});
