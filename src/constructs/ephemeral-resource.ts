import { ref, TerraformElement, type TerraformProvider, Token } from "cdktf";
import type { Construct } from "constructs";

export interface EphemeralResourceProps {
  /** The ephemeral resource type, e.g. `aws_secretsmanager_random_password`. */
  readonly type: string;
  readonly provider: TerraformProvider;
  /** Its arguments, as Terraform spells them (snake_case); tokens are resolved. */
  readonly config: Readonly<Record<string, unknown>>;
}

/**
 * A Terraform `ephemeral` block (Terraform >= 1.10): opened anew in each plan and apply and never
 * written to the plan or the state, so its values can only feed write-only arguments or other
 * ephemeral blocks (https://developer.hashicorp.com/terraform/language/ephemeral). cdktf 0.21 has
 * no construct for them (https://github.com/hashicorp/terraform-cdk/issues/3886); this element
 * writes `ephemeral.<type>.<logical id>` into the synthesized JSON, where the JSON syntax takes it
 * like any labelled block (https://developer.hashicorp.com/terraform/language/syntax/json).
 */
export class EphemeralResource extends TerraformElement {
  private readonly props: EphemeralResourceProps;

  constructor(scope: Construct, id: string, props: EphemeralResourceProps) {
    super(scope, id, `ephemeral.${props.type}`);
    this.props = props;
  }

  /** A reference to one of its attributes, e.g. `random_password`. */
  attribute(name: string): string {
    return Token.asString(
      ref(`ephemeral.${this.props.type}.${this.friendlyUniqueId}.${name}`, this.cdktfStack),
    );
  }

  override toTerraform(): Record<string, unknown> {
    return {
      ephemeral: {
        [this.props.type]: {
          [this.friendlyUniqueId]: { provider: this.props.provider.fqn, ...this.props.config },
        },
      },
    };
  }

  override toHclTerraform(): Record<string, unknown> {
    throw new Error(
      `${this.node.path}: ephemeral blocks are written to JSON only; synthesize without hclOutput`,
    );
  }
}
