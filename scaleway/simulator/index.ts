// The Scaleway API simulator, as a library.
export { startSimulator, DEFAULT_PROJECT_ID, type Simulator, type SimulatorOptions, type RequestFilter } from './simulator.ts';
export { createManualClock, systemClock, type Clock, type ManualClock } from './clock.ts';
export { Faults, type FailRule, type LatencyRule, type CallMatch, type FaultError } from './faults.ts';
export { FAULT_ERROR_NAMES, type FaultErrorName } from './errors.ts';
export { INSTANT, RECORDED, type LatencyProfile, type ProfileName } from './latency.ts';
export type { RecordedRequest } from './router.ts';
export type { CallKind } from './routes.ts';
export type { StockPolicy } from './context.ts';
