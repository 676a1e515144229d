import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";

/**
 * What every regional construct needs of one region of the pair: its provider, its name and its
 * KMS key. The stack builds one per role, once; a construct whose region needs more extends it.
 */
export interface RegionContext {
  /** Provider of the region; the construct's resources in that region are created with it. */
  readonly provider: AwsProvider;
  /** Region of `provider`, e.g. `us-east-2`. */
  readonly region: string;
  /** The region's customer-managed KMS key (what each construct encrypts with it: its props say). */
  readonly kmsKeyArn: string;
}
