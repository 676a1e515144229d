/**
 * Vitest setup (register in vitest.config.mts `test.setupFiles`): aws-local-stepfunctions 3 calls
 * Promise.withResolvers, which Node 22 has and Node 20 lacks.
 */
import { ensurePromiseWithResolvers } from "../../src/simulation/promise-with-resolvers";

ensurePromiseWithResolvers();
