// The server lifecycle recorded in server-scratch-storage and server-user-data-with-cloud-init-at-start.
// An action plans timestamped steps; reading a server applies the steps that are due. Nothing runs
// in the background, so a closed simulator leaves no timers behind.
import { invalidRequest, transientState } from './errors.ts';
import type { LifecycleTimings } from './latency.ts';

export type ServerState = 'stopped' | 'starting' | 'running' | 'stopping';
export type ServerActionName = 'poweron' | 'poweroff' | 'terminate' | 'reboot' | 'stop_in_place' | 'backup' | 'enable_routed_ip';

export const SUPPORTED_ACTIONS: readonly ServerActionName[] = ['poweron', 'poweroff', 'terminate'];

export interface LifecycleStep {
  at: number;
  state: ServerState | 'gone';
  detail: string;
  /** The server has been placed on a hypervisor from this step on. */
  placed?: boolean;
}

export interface Lifecycle {
  state: ServerState;
  detail: string;
  placed: boolean;
  modifiedAt: number;
  /** Steps still to come, in time order. */
  pending: LifecycleStep[];
  gone: boolean;
}

/** allowed_actions per state, as recorded. */
export function allowedActions(state: ServerState): string[] {
  switch (state) {
    case 'stopped':
      return ['poweron', 'backup'];
    case 'starting':
      return ['stop_in_place', 'backup'];
    case 'running':
      return ['poweroff', 'terminate', 'reboot', 'stop_in_place', 'backup'];
    case 'stopping':
      return ['stop_in_place', 'backup'];
  }
}

export function isTransient(state: ServerState): boolean {
  return state === 'starting' || state === 'stopping';
}

export function newLifecycle(now: number): Lifecycle {
  return { state: 'stopped', detail: '', placed: false, modifiedAt: now, pending: [], gone: false };
}

/** Applies every step due at `now`. */
export function advance(lifecycle: Lifecycle, now: number): Lifecycle {
  while (lifecycle.pending.length > 0 && (lifecycle.pending[0]?.at ?? Infinity) <= now) {
    const step = lifecycle.pending.shift();
    if (!step) break;
    lifecycle.modifiedAt = step.at;
    if (step.state === 'gone') {
      lifecycle.gone = true;
      lifecycle.pending = [];
      break;
    }
    lifecycle.state = step.state;
    lifecycle.detail = step.detail;
    if (step.placed !== undefined) lifecycle.placed = step.placed;
  }
  return lifecycle;
}

/** Refuses an action the current state does not allow, with the API's error. */
export function assertActionAllowed(lifecycle: Lifecycle, action: string, serverId: string): void {
  if (isTransient(lifecycle.state)) throw transientState('instance_server', serverId, lifecycle.state);
  if (!(SUPPORTED_ACTIONS as readonly string[]).includes(action)) {
    throw invalidRequest(`action ${action} is not supported by the simulator`);
  }
  if (!allowedActions(lifecycle.state).includes(action)) {
    throw invalidRequest(`action ${action} is not allowed while the server is ${lifecycle.state}`);
  }
}

export interface PlanOptions {
  /** Leave the server in starting "provisioning node" for good (an injected fault). */
  stuckInStarting?: boolean;
}

/** The steps an accepted action sets off, starting now. */
export function planAction(action: string, now: number, timings: LifecycleTimings, options: PlanOptions = {}): LifecycleStep[] {
  switch (action) {
    case 'poweron': {
      const steps: LifecycleStep[] = [
        { at: now, state: 'starting', detail: 'allocating node' },
        { at: now + timings.provisioningAfterMs, state: 'starting', detail: 'provisioning node', placed: true },
      ];
      if (!options.stuckInStarting) steps.push({ at: now + timings.runningAfterMs, state: 'running', detail: 'booting kernel' });
      return steps;
    }
    case 'terminate':
      return [
        { at: now, state: 'stopping', detail: 'terminating' },
        { at: now + timings.goneAfterMs, state: 'gone', detail: '' },
      ];
    case 'poweroff':
      return [
        { at: now, state: 'stopping', detail: 'stopping' },
        { at: now + timings.stoppedAfterMs, state: 'stopped', detail: '', placed: false },
      ];
    default:
      return [];
  }
}

/** Starts an action: validates it, then schedules its steps and applies the immediate one. */
export function startAction(lifecycle: Lifecycle, action: string, serverId: string, now: number, timings: LifecycleTimings, options: PlanOptions = {}): void {
  assertActionAllowed(lifecycle, action, serverId);
  lifecycle.pending = planAction(action, now, timings, options);
  advance(lifecycle, now);
}
