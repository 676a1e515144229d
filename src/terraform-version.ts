/**
 * Which Terraform runs the stacks. No imports: the CLIs, the stack and the tests read it.
 */

/** The version the workflows pin (`hashicorp/setup-terraform`) and the CLIs recommend. */
export const TERRAFORM_VERSION = "1.13.5";

/**
 * The oldest Terraform that applies the stacks: write-only arguments (the database password)
 * came in 1.11 (https://developer.hashicorp.com/terraform/language/manage-sensitive-data/write-only),
 * after ephemeral blocks and S3-native locking in 1.10.
 */
export const MINIMUM_TERRAFORM_VERSION = "1.11";
