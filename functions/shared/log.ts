/**
 * The functions' log lines: one JSON object per line with `level`, `message`, the function's
 * `handler` name and Lambda's `requestId` (the names Lambda's own JSON log format uses), so Logs
 * Insights can filter one request of one function (`filter requestId = "..."`) and by level.
 *
 * In Lambda's default plain-text format each line is also prefixed with the time, request id and
 * level; with `log_format = "JSON"` Lambda wraps it
 * (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-logformat.html).
 * Not AWS Lambda Powertools' logger: bundled, it costs more bytes than the largest function has
 * left under the 400 KB bundle budget (bench/lambda.ts). The request id comes from the context
 * Lambda passes each invocation (`context.awsRequestId`,
 * https://docs.aws.amazon.com/lambda/latest/dg/nodejs-context.html); a Node.js sandbox runs one
 * invocation at a time, so the module keeps the current one.
 */

/** The console method of each level: Lambda's text format labels each line with it. */
export type LogLevel = "info" | "warn" | "error";

let current: { handler: string; requestId: string | undefined } | undefined;

/** What Lambda passes a handler as its second argument, as far as the logs need it. */
export interface InvocationContext {
  readonly awsRequestId?: string;
}

/** Wraps a Lambda handler so that every line it logs names the handler and the request. */
export function logged<Event, Result>(
  handlerName: string,
  handler: (event: Event) => Promise<Result>,
): (event: Event, context?: InvocationContext) => Promise<Result> {
  return (event, context) => {
    current = { handler: handlerName, requestId: context?.awsRequestId };
    return handler(event);
  };
}

/**
 * Writes one line: `{"level":"INFO","message","handler","requestId",...fields}`. `fields` come last
 * and so would replace a standard field of the same name: none of the objects logged today has
 * one (spreading them first would cost promote-database bytes it does not have).
 */
export function log(level: LogLevel, message: string, fields?: object): void {
  console[level](JSON.stringify({ level: level.toUpperCase(), message, ...current, ...fields }));
}
