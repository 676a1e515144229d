/**
 * The Node.js release every Lambda function runs on, and the esbuild target that follows it, in
 * one place so the two cannot disagree.
 *
 * Choose the newest Node.js runtime that (1) Lambda lists as supported with the longest time to
 * deprecation (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html) and (2) the
 * pinned AWS provider accepts: it validates `runtime` against the Lambda enum of the AWS SDK for
 * Go it was built with, so a runtime newer than the provider fails at plan time (nodejs24.x from
 * provider 6.19, https://github.com/hashicorp/terraform-provider-aws/issues/44986). nodejs20.x
 * was deprecated on 2026-04-30; Lambda blocks creating functions on it from 2027-02-01 and
 * updating them from 2027-03-03. nodejs24.x is supported until 2028-04-30. Move on before that
 * date: docs/architecture.md, "Lambda runtime and the project's Node", says how.
 */
export const LAMBDA_NODE_MAJOR = 24;

/** Lambda's identifier of the runtime, e.g. `nodejs24.x`. */
export const LAMBDA_RUNTIME = `nodejs${LAMBDA_NODE_MAJOR}.x`;

/** esbuild's target for the bundles: no syntax is lowered that the runtime understands. */
export const BUNDLE_TARGET = `node${LAMBDA_NODE_MAJOR}`;
