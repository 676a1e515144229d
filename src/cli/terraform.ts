import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";
import { MINIMUM_TERRAFORM_VERSION, TERRAFORM_VERSION } from "../terraform-version";

/**
 * Finding the terraform binary and reading what `terraform init` recorded: shared by the CLIs
 * that run Terraform (state, validate, the operations API endpoint lookup). Kept out of the CLI
 * entry modules, which run when they are the bundle's entry (src/app-bundle/run.cjs): an entry
 * imported by another would run inside its bundle too.
 */

/** The first executable file called `name` in the directories of `pathValue` (a PATH string). */
export function findExecutable(name: string, pathValue: string | undefined): string | undefined {
  const names = process.platform === "win32" ? [`${name}.exe`, name] : [name];
  for (const dir of (pathValue ?? "").split(delimiter)) {
    if (dir === "") continue; // an empty entry would mean the current directory; never search it
    for (const candidate of names) {
      const path = join(dir, candidate);
      try {
        accessSync(path, constants.X_OK);
        if (statSync(path).isFile()) return path;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

export function terraformNotInstalledMessage(stackDir: string): string {
  const v = TERRAFORM_VERSION;
  return [
    `terraform is not installed (not found on PATH), so npm run state cannot run it in ${stackDir}.`,
    `Install Terraform ${MINIMUM_TERRAFORM_VERSION} or newer (CI pins ${v}), then run the command again:`,
    "  Debian/Ubuntu, from HashiCorp's apt repository:",
    "    wget -O- https://apt.releases.hashicorp.com/gpg | sudo gpg --dearmor -o /usr/share/keyrings/hashicorp-archive-keyring.gpg",
    '    echo "deb [signed-by=/usr/share/keyrings/hashicorp-archive-keyring.gpg] https://apt.releases.hashicorp.com $(lsb_release -cs) main" | sudo tee /etc/apt/sources.list.d/hashicorp.list',
    `    sudo apt-get update && sudo apt-get install terraform=${v}-1`,
    "  any OS, with tfenv (https://github.com/tfutils/tfenv):",
    `    tfenv install ${v} && tfenv use ${v}`,
    "  or unzip a binary from https://developer.hashicorp.com/terraform/install onto your PATH.",
  ].join("\n");
}

/**
 * The S3 backend settings that decide which copy of the state Terraform reads. Locking settings
 * (`use_lockfile`, `dynamodb_table`) are not among them: the lock table has the same name in both
 * regions, and after a change of `stateBackend.locking` Terraform's own "Backend configuration
 * changed" error asks for `init -reconfigure`.
 */
export interface BackendIdentity {
  readonly bucket: string;
  readonly key: string;
  readonly region: string;
}

export const IDENTITY_FIELDS = ["bucket", "key", "region"] as const;

function identityOf(config: unknown): BackendIdentity | undefined {
  if (typeof config !== "object" || config === null) return undefined;
  const fields = config as Record<string, unknown>;
  if (typeof fields.bucket !== "string" || typeof fields.region !== "string") return undefined;
  return {
    bucket: fields.bucket,
    key: String(fields.key ?? ""),
    region: fields.region,
  };
}

/** The backend in a synthesized `cdk.tf.json`. */
export function synthesizedBackend(tfJson: unknown): BackendIdentity | undefined {
  const terraform = (tfJson as { terraform?: { backend?: { s3?: unknown } } } | null)?.terraform;
  return identityOf(terraform?.backend?.s3);
}

/**
 * The backend `terraform init` recorded in `<data dir>/terraform.tfstate` (not a state file: the
 * working directory's backend settings), or undefined when the directory was never initialized.
 */
export function initializedBackend(fileContent: string | undefined): BackendIdentity | undefined {
  if (fileContent === undefined) return undefined;
  try {
    const parsed = JSON.parse(fileContent) as { backend?: { type?: string; config?: unknown } };
    return parsed.backend?.type === "s3" ? identityOf(parsed.backend.config) : undefined;
  } catch {
    return undefined;
  }
}
