// The contract between the renderer and one join mode.
import type { CloudConfig, RunCmd, WriteFile } from '../cloud-config.ts';
import { BootstrapError } from '../errors.ts';
import type { NodeHint } from '../node-hint.ts';
import type { KubeletConfig, NodeRegistration, Taint } from '../types.ts';

/** What every mode starts from: the validated node, its provider ID, labels split by NodeRestriction, registration taints. */
export interface ModeContext {
  node: NodeRegistration;
  providerID: string;
  /** Labels the kubelet may set itself. */
  kubeletLabels: Record<string, string>;
  /** Labels only the controller may set. */
  restrictedLabels: Record<string, string>;
  /** Ours, startup taints, and the unregistered taint. */
  registerTaints: Taint[];
  /** maxPods, reservations and eviction thresholds, validated; every mode renders them. */
  kubelet: KubeletConfig;
}

export interface ModePart {
  files: WriteFile[];
  runcmd: RunCmd[];
  kubeletLabels: Record<string, string>;
  deferredLabels: Record<string, string>;
  registerTaints: Taint[];
  deferredTaints: Taint[];
  providerIDAtRegistration: boolean;
  registeredBy: NodeHint['registeredBy'];
  /** A cloud-config of the mode's own (the custom template's) that ours is merged into. */
  base?: CloudConfig;
  warnings: string[];
}

/** The usual case: the kubelet registers with all we can give it. */
export function kubeletRegistration(ctx: ModeContext): Pick<ModePart, 'kubeletLabels' | 'deferredLabels' | 'registerTaints' | 'deferredTaints' | 'providerIDAtRegistration' | 'registeredBy'> {
  return {
    kubeletLabels: ctx.kubeletLabels,
    deferredLabels: ctx.restrictedLabels,
    registerTaints: ctx.registerTaints,
    deferredTaints: [],
    providerIDAtRegistration: true,
    registeredBy: 'kubelet',
  };
}

/** Rejects values that could break out of the line or file they are written to. */
export function assertSingleLine(what: string, value: string): void {
  if (/[\r\n\0]/.test(value)) throw new BootstrapError(`${what} must be a single line`);
}
