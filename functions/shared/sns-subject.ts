/** SNS: "Subjects must be ... less than 100 characters long". */
export const MAX_SUBJECT_LENGTH = 99;

/**
 * The automation's subject for one environment, `[shopsmart-dr <env>] <what>`, on one line (SNS
 * subjects must not contain line breaks or control characters) and cut to SNS's length.
 */
export function automationSubject(environment: string, what: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
  const line = `[shopsmart-dr ${environment}] ${what}`.replace(/[\u0000-\u001f\u007f]+/g, " ");
  return line.slice(0, MAX_SUBJECT_LENGTH);
}
