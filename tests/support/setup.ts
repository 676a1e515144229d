/**
 * Vitest setup of every test file (vitest.config.mts `test.setupFiles`).
 */
import { ensurePromiseWithResolvers } from "../../src/simulation/promise-with-resolvers";

// aws-local-stepfunctions 3 calls Promise.withResolvers, which Node 22 has and Node 20 lacks.
ensurePromiseWithResolvers();
