/**
 * Limits of a drill that the infrastructure (the schedule's input) and the run-drill Lambda (an
 * execution's input) both enforce. No imports: synth loads this file too.
 */

/** A day at most: a longer hold is a failover, not a drill. */
export const MAX_HOLD_MINUTES = 24 * 60;
