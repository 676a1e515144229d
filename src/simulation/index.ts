/**
 * The AWS simulation the failover automation is tested and drilled against: a pair of regions in
 * memory, simulated time, fault injection, SDK bindings and a local state machine runner. No test
 * library is imported here, so the local drill can use it.
 */
export { AutoScalingSimulation, type InstanceState } from "./auto-scaling";
export {
  DEFAULT_SIMULATION_START,
  SimulatedClock,
  type SimulatedClockOptions,
  SimulatedClockStalledError,
} from "./clock";
export {
  type AlarmStateChange,
  type MetricAlarmDefinition,
  REPLICATION_LAG_METRIC,
} from "./cloudwatch";
export {
  installSimulatedDataPlane,
  LOAD_BALANCER_ADDRESSES,
  simulatedAddresses,
  simulatedHealthAnswer,
} from "./data-plane";
export {
  SERVICE_NAMES,
  type ServiceName,
  SimulatorUnsupportedError,
  serverError,
  serviceError,
  throttlingError,
  type UnreachableFailure,
  unreachableError,
} from "./errors";
export {
  type AutomaticFailoverRules,
  type AutomaticFailoverRulesOptions,
  autoFailoverVariableOf,
  connectAutomaticFailoverRules,
  connectProbeSchedule,
  connectStackAutomaticFailoverRules,
  type ProbeSchedule,
  primaryDownAlarmOf,
} from "./event-rules";
export { blobPayload, type LocalFunction, type LocalLambdaContext, lambdaContext } from "./lambda";
export {
  type ConnectOptions,
  connectStateMachine,
  type LocalExecutionOptions,
  type LocalExecutionResult,
  type PreparedDefinition,
  prepareDefinition,
  runLocalStateMachine,
  type TaskFunction,
} from "./local-state-machine";
export { ensurePromiseWithResolvers } from "./promise-with-resolvers";
export type { PromotionRecord, SimulatedCluster } from "./rds";
export {
  type CallFilter,
  type CallRecord,
  DEFAULT_TIMINGS,
  MUTATING_OPERATIONS,
  type RegionDownOptions,
  RegionPair,
  type RegionPairOptions,
  ROUTE53_CONTROL_PLANE_REGION,
  type SimulationTimings,
} from "./region-pair";
export { installSimulatedTransport, operationName, SIMULATED_CLIENTS } from "./sdk-transport";
export {
  DEFAULT_SIMULATED_ENV_FILE,
  type SimulatedSettingsOptions,
  simulatedSettings,
} from "./settings";
export type { PublishedMessage } from "./sns";
export {
  type ExecutionEndedListener,
  type ExecutionHandle,
  type ExecutionOutcome,
  type Executor,
  executionStatusChangeEvent,
  type HistoryEventInput,
  type SimulatedExecution,
} from "./step-functions";
export {
  bindWorkflowFunctions,
  type ConnectWorkflowOptions,
  connectWorkflow,
  HANDLER_NAMES,
  type HandlerName,
  handlerNameIn,
  loadHandler,
  SETTINGS_VARIABLE,
  type SynthesizedResources,
  type SynthesizedWorkflow,
  setLambdaEnvironment,
  simulateLambdaRuntime,
  synthesizedWorkflow,
} from "./workflow";
