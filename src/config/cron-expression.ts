/**
 * Validation of EventBridge Scheduler cron expressions: `cron(min hour day-of-month month
 * day-of-week year)`. Checked at synth time because a bad schedule is otherwise only rejected by
 * the Scheduler API during `terraform apply`, half-way through a deploy.
 */

interface CronField {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /**
   * Extra tokens the field accepts besides numbers, ranges and steps (case-insensitive). A
   * captured group is a value that must itself be in range (the `15` of `15W`).
   */
  readonly special?: RegExp;
}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const WEEKDAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

const FIELDS: readonly CronField[] = [
  { name: "minutes", min: 0, max: 59 },
  { name: "hours", min: 0, max: 23 },
  { name: "day-of-month", min: 1, max: 31, special: /^(?:\?|L|LW|(\d{1,2})W)$/i },
  { name: "month", min: 1, max: 12, names: MONTHS },
  {
    name: "day-of-week",
    min: 1,
    max: 7,
    names: WEEKDAYS,
    special: /^(?:\?|L|([A-Z]{3}|\d)L|([A-Z]{3}|\d)#[1-5])$/i,
  },
  { name: "year", min: 1970, max: 2199 },
];

/** Returns why `expression` is not a valid Scheduler cron expression, or `undefined` if it is. */
export function cronExpressionProblem(expression: string): string | undefined {
  const match = /^cron\((.*)\)$/.exec(expression.trim());
  if (!match) return "the form cron(minutes hours day-of-month month day-of-week year)";
  const parts = match[1].trim().split(/\s+/);
  if (parts.length !== FIELDS.length) {
    return `6 fields inside cron(...), found ${parts.length}: minutes hours day-of-month month day-of-week year`;
  }
  for (const [index, field] of FIELDS.entries()) {
    const problem = fieldProblem(parts[index], field);
    if (problem) return problem;
  }
  const [dayOfMonth, dayOfWeek] = [parts[2], parts[4]];
  if ((dayOfMonth === "?") === (dayOfWeek === "?")) {
    return "exactly one of day-of-month and day-of-week to be '?', e.g. cron(0 6 ? * MON *)";
  }
  return undefined;
}

function fieldProblem(text: string, field: CronField): string | undefined {
  for (const item of text.split(",")) {
    const special = field.special?.exec(item);
    if (special) {
      const value = special.slice(1).find((group) => group !== undefined);
      if (value !== undefined && parseValue(value, field) === undefined) {
        return outOfRange(item, field);
      }
      continue;
    }
    const [range, step] = item.split("/");
    if (step !== undefined && !/^[1-9]\d*$/.test(step)) return outOfRange(item, field);
    if (range === "*") continue;
    const bounds = range.split("-");
    if (bounds.length > 2 || bounds.some((b) => parseValue(b, field) === undefined)) {
      return outOfRange(item, field);
    }
  }
  return undefined;
}

function parseValue(text: string, field: CronField): number | undefined {
  const upper = text.toUpperCase();
  const named = field.names?.indexOf(upper) ?? -1;
  if (named >= 0) return named + 1;
  if (!/^\d+$/.test(text)) return undefined;
  const value = Number(text);
  return value >= field.min && value <= field.max ? value : undefined;
}

function outOfRange(item: string, field: CronField): string {
  const names = field.names ? ` or ${field.names[0]}-${field.names[field.names.length - 1]}` : "";
  return `${field.name} field '${item}' to be ${field.min}-${field.max}${names}, a range, a list or a step`;
}
