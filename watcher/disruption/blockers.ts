// What holds a node back from voluntary disruption (Empty, Underutilized):
// the karpenter.sh/do-not-disrupt annotation on its NodeClaim, its node or any
// pod still running there (upstream pkg/utils/pod HasDoNotDisrupt ignores
// finished pods), and PodDisruptionBudgets that cannot spare the pods it would
// evict. Expiration is forceful and does not look here (see expiration.ts).
import type { Node, Pod } from '../../kube/api/core.ts';
import type { NodeClaim } from '../../kube/api/schemas.ts';
import { ANNOTATION_DO_NOT_DISRUPT } from '../../kube/api/constants.ts';
import { hasDoNotDisrupt, isTerminal, podKey } from './pods.ts';
import { matchesLabelSelector } from '../../kube/api/label-selector.ts';

export type BlockerKind = 'DoNotDisrupt' | 'PodDisruptionBudget';

export interface Blocker {
  readonly kind: BlockerKind;
  readonly message: string;
}

export function doNotDisruptBlocker(nodeClaim: Pick<NodeClaim, 'metadata'>, node: Pick<Node, 'metadata'> | undefined, podsOnNode: readonly Pod[]): Blocker | undefined {
  if (hasDoNotDisrupt(nodeClaim)) return { kind: 'DoNotDisrupt', message: `NodeClaim ${nodeClaim.metadata.name} has ${ANNOTATION_DO_NOT_DISRUPT}=true` };
  if (node && hasDoNotDisrupt(node)) return { kind: 'DoNotDisrupt', message: `node ${node.metadata.name} has ${ANNOTATION_DO_NOT_DISRUPT}=true` };
  const pod = podsOnNode.find((p) => !isTerminal(p) && hasDoNotDisrupt(p));
  if (pod) return { kind: 'DoNotDisrupt', message: `pod ${podKey(pod)} has ${ANNOTATION_DO_NOT_DISRUPT}=true` };
  return undefined;
}

// ---- PodDisruptionBudgets ------------------------------------------------------

export interface LabelSelector {
  matchLabels?: Readonly<Record<string, string>> | undefined;
  matchExpressions?: readonly { key: string; operator: string; values?: readonly string[] | undefined }[] | undefined;
}

/** The part of a policy/v1 PodDisruptionBudget we read; client-node's V1PodDisruptionBudget fits. */
export interface PodDisruptionBudgetLike {
  metadata: { name: string; namespace?: string | undefined };
  spec?: { selector?: LabelSelector | undefined } | undefined;
  status?: { disruptionsAllowed?: number | undefined } | undefined;
}

/** metav1.LabelSelector semantics; an empty selector matches every pod, a missing one none (policy/v1). */
export function selectorMatches(selector: LabelSelector | undefined, labels: Readonly<Record<string, string>> | undefined): boolean {
  return selector !== undefined && matchesLabelSelector(selector, labels);
}

function pdbKey(pdb: PodDisruptionBudgetLike): string {
  return `${pdb.metadata.namespace ?? 'default'}/${pdb.metadata.name}`;
}

/**
 * Tracks how many evictions each PDB can still take in this pass, so two
 * nodes chosen together cannot spend the same allowance.
 */
export class PdbLedger {
  private readonly used = new Map<string, number>();

  constructor(private readonly pdbs: readonly PodDisruptionBudgetLike[]) {}

  private covering(pod: Pod): PodDisruptionBudgetLike[] {
    const ns = pod.metadata.namespace ?? 'default';
    return this.pdbs.filter((pdb) => (pdb.metadata.namespace ?? 'default') === ns && selectorMatches(pdb.spec?.selector, pod.metadata.labels));
  }

  /** Why evicting `pods` would break a PDB, or undefined when every PDB can spare them. */
  blocker(pods: readonly Pod[]): Blocker | undefined {
    const wanted = new Map<string, { pdb: PodDisruptionBudgetLike; pods: Pod[] }>();
    for (const pod of pods) {
      for (const pdb of this.covering(pod)) {
        const entry = wanted.get(pdbKey(pdb)) ?? { pdb, pods: [] };
        entry.pods.push(pod);
        wanted.set(pdbKey(pdb), entry);
      }
    }
    for (const [key, { pdb, pods: covered }] of wanted) {
      const left = (pdb.status?.disruptionsAllowed ?? 0) - (this.used.get(key) ?? 0);
      if (covered.length > left) {
        // Upstream's wording first (pkg/utils/pdb CanEvictPods), then how far off the budget is.
        return { kind: 'PodDisruptionBudget', message: `pdb prevents pod evictions (PodDisruptionBudget=[${key}]): it allows ${Math.max(0, left)} more disruption(s), evicting would need ${covered.length} (pod ${podKey(covered[0]!)})` };
      }
    }
    return undefined;
  }

  /** Records the evictions of `pods` (call after choosing their node). */
  spend(pods: readonly Pod[]): void {
    for (const pod of pods) for (const pdb of this.covering(pod)) this.used.set(pdbKey(pdb), (this.used.get(pdbKey(pdb)) ?? 0) + 1);
  }
}
