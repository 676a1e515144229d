/**
 * Binds a {@link RegionPair} for a test: every command the SDK clients of the simulated services
 * send is answered by the simulation, routed by the region the client was configured with, through
 * the same binding the local game day uses (installSimulatedTransport, src/simulation/
 * sdk-transport.ts), so handlers and orchestration run unchanged. A command the simulation does
 * not model rejects with SimulatorUnsupportedError instead of returning undefined.
 *
 *   const pair = new RegionPair({ settings: simulatedSettings() });
 *   const aws = bindSimulatedAws(pair);
 *   const restoreEnv = setLambdaEnvironment(pair); // SHOPSMART_DR_SETTINGS, AWS_REGION
 *   ...
 *   aws.restore(); restoreEnv();
 */
import {
  installSimulatedDataPlane,
  installSimulatedTransport,
  type RegionPair,
} from "../../src/simulation";

export interface SimulatedAws {
  readonly pair: RegionPair;
  /** Restores the real clients and network. */
  restore(): void;
}

/**
 * Answers every SDK command of the simulated services from `pair`, and the shop's data plane
 * (DNS, HTTPS to the load balancers: src/simulation/data-plane.ts).
 */
export function bindSimulatedAws(pair: RegionPair): SimulatedAws {
  const restoreDataPlane = installSimulatedDataPlane(pair);
  const restoreSdk = installSimulatedTransport(pair);
  return {
    pair,
    restore: () => {
      restoreSdk();
      restoreDataPlane();
    },
  };
}
