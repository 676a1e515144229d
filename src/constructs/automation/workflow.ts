import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Construct } from "constructs";
import { addLoggedStateMachine } from "./logged-state-machine";
import { type WorkflowFunctionArns, workflowDefinition } from "./state-machine";

export interface OperationWorkflowProps {
  readonly provider: AwsProvider;
  readonly region: string;
  readonly accountId: string;
  /** State machine name; its ARN is known before it exists (the functions' settings need it). */
  readonly name: string;
  readonly functionArns: WorkflowFunctionArns;
  /** Encrypts the state machine's definition and execution data, and its log group. */
  readonly kmsKeyArn: string;
  readonly logRetentionDays: number;
  readonly tracingEnabled: boolean;
}

export { stateMachineArnOf } from "./logged-state-machine";

/** Every execution of the state machine: `arn:aws:states:<region>:<account>:execution:<name>:*`. */
export function executionsArnOf(region: string, accountId: string, name: string): string {
  return `arn:aws:states:${region}:${accountId}:execution:${name}:*`;
}

/**
 * The failover/failback workflow (its 90 days of execution history serve GET /operations/{id}),
 * in the layout of {@link addLoggedStateMachine}: its role may only invoke the step functions,
 * deliver its logs and use the key.
 */
export class OperationWorkflow extends Construct {
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  readonly roleArn: string;

  constructor(scope: Construct, id: string, props: OperationWorkflowProps) {
    super(scope, id);
    const functionArns = Object.values(props.functionArns);
    const { stateMachine, role } = addLoggedStateMachine(this, {
      ...props,
      definition: workflowDefinition(props.functionArns),
      invokeStatement: {
        // `<arn>:*` covers invocations of a version or alias of the same function.
        sid: "InvokeSteps",
        actions: ["lambda:InvokeFunction"],
        resources: [...functionArns, ...functionArns.map((arn) => `${arn}:*`)],
      },
      policyName: "run-workflow",
    });
    this.stateMachineArn = stateMachine.arn;
    this.stateMachineName = props.name;
    this.roleArn = role.arn;
  }
}
