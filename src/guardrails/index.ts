/**
 * Guardrails: the security and DR rules checked on every synth, their suppressions, and the
 * hooks the app and stacks call. See docs/configuration.md, section Guardrails.
 */
export { checkStack, evaluate, type GuardrailReport, type SuppressedFinding } from "./check";
export { assertGuardrails, attachGuardrails, guardrailSummary, reportFor } from "./guardrails";
export { GUARDRAILS } from "./pack";
export type { Finding, Rule, RuleCheck, RuleLevel } from "./rule";
export { Guardrails, MINIMUM_REASON_LENGTH, type Suppression } from "./suppressions";
export type { GuardrailOptions } from "./terraform-model";
