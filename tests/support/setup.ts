/**
 * Vitest setup of every test file (vitest.config.mts `test.setupFiles`).
 */
import launcher from "../../src/app-bundle/run.cjs";
import { ensurePromiseWithResolvers } from "../../src/simulation/promise-with-resolvers";

// aws-local-stepfunctions 3 calls Promise.withResolvers, which Node 22 has and Node 20 lacks.
ensurePromiseWithResolvers();

// cdktf records a full stack trace for every token it creates, for the "creation stack" of a
// resolve error; under vitest's source maps formatting them is two thirds of a synth (1.7 s
// against 0.6 s for the three envs). The synth users run leaves them out too (run.cjs); no test
// reads a creation stack.
launcher.stubTokenStackTraces();
