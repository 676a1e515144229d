/**
 * Values a Lambda sandbox creates once and reuses while it is warm (settings, SDK clients), made
 * on the first invocation rather than at module scope: constructing clients at import time adds
 * to every cold start's init, and a handler that fails on bad settings should fail in its
 * invocation, where withStepErrors classifies the error.
 */

/** A getter that calls `create` the first time and returns that value ever after. */
export function lazy<Value extends object>(create: () => Value): () => Value {
  let value: Value | undefined;
  return () => {
    value ??= create();
    return value;
  };
}
