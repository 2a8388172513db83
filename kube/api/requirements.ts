// Label requirements as sets of allowed values, one set per label key: what a
// NodePool allows, what a NodeClaim asks for, what a pod needs, what an
// instance type offers. Intersections and compatibility follow upstream
// Karpenter's scheduling.Requirements, so the workflow's instance choice and the
// autoscaler agree with what stock Karpenter would decide.
//
// A requirement for one key is either a finite set of values (In; empty means
// the label must be absent) or the complement of a finite set (NotIn; an empty
// complement is Exists), optionally narrowed by integer bounds (Gt/Lt/Gte/Lte).
import { LABEL_HOSTNAME, NORMALIZED_LABELS, SCALEWAY_LABELS, WELL_KNOWN_LABELS, LABEL_NODEPOOL } from './constants.ts';

export const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt', 'Gte', 'Lte'] as const;
export type Operator = (typeof OPERATORS)[number];

/** A node selector requirement as NodePools, NodeClaims and pods write it (operator unchecked). */
export interface NodeSelectorRequirementLike {
  readonly key: string;
  readonly operator: string;
  readonly values?: readonly string[] | undefined;
  readonly minValues?: number | undefined;
}

export interface NodeSelectorRequirement {
  key: string;
  operator: Operator;
  values?: string[];
  minValues?: number;
}

const INTEGER = /^-?[0-9]+$/;

function parseInteger(value: string): number | undefined {
  return INTEGER.test(value) ? Number(value) : undefined;
}

/** The key a requirement on `key` is stored under (beta labels and the seed alias map to their current key). */
export function normalizeLabelKey(key: string): string {
  return NORMALIZED_LABELS[key] ?? key;
}

export class Requirement {
  private constructor(
    readonly key: string,
    /** True: every value except `values` (within the bounds). False: exactly `values`. */
    readonly complement: boolean,
    readonly values: ReadonlySet<string>,
    /** Exclusive integer lower bound. */
    readonly greaterThan: number | undefined,
    /** Exclusive integer upper bound. */
    readonly lessThan: number | undefined,
    readonly minValues: number | undefined,
  ) {}

  static of(key: string, operator: string, values: readonly string[] = [], minValues?: number): Requirement {
    const k = normalizeLabelKey(key);
    const bound = (): number => {
      const n = values.length === 1 ? parseInteger(values[0]!) : undefined;
      if (n === undefined) throw new Error(`requirement ${key} ${operator}: needs exactly one integer value, got [${values.join(', ')}]`);
      return n;
    };
    switch (operator) {
      case 'In':
        return new Requirement(k, false, new Set(values), undefined, undefined, minValues);
      case 'NotIn':
        return new Requirement(k, true, new Set(values), undefined, undefined, minValues);
      case 'Exists':
        return new Requirement(k, true, new Set(), undefined, undefined, minValues);
      case 'DoesNotExist':
        return new Requirement(k, false, new Set(), undefined, undefined, minValues);
      case 'Gt':
        return new Requirement(k, true, new Set(), bound(), undefined, minValues);
      case 'Gte':
        return new Requirement(k, true, new Set(), bound() - 1, undefined, minValues);
      case 'Lt':
        return new Requirement(k, true, new Set(), undefined, bound(), minValues);
      case 'Lte':
        return new Requirement(k, true, new Set(), undefined, bound() + 1, minValues);
      default:
        throw new Error(`requirement ${key}: unknown operator "${operator}"`);
    }
  }

  static from(req: NodeSelectorRequirementLike): Requirement {
    return Requirement.of(req.key, req.operator, req.values ?? [], req.minValues);
  }

  /** Any value, no value, or none of the bounds: the requirement of a key nobody constrained. */
  static unconstrained(key: string): Requirement {
    return Requirement.of(key, 'Exists');
  }

  private withinBounds(value: string): boolean {
    if (this.greaterThan === undefined && this.lessThan === undefined) return true;
    const n = parseInteger(value);
    if (n === undefined) return false;
    return (this.greaterThan === undefined || n > this.greaterThan) && (this.lessThan === undefined || n < this.lessThan);
  }

  /** Whether a node whose label `key` is `value` satisfies this requirement. */
  has(value: string): boolean {
    return (this.complement ? !this.values.has(value) : this.values.has(value)) && this.withinBounds(value);
  }

  /** Whether a node without the label satisfies this requirement (NotIn and DoesNotExist do). */
  allowsAbsent(): boolean {
    return this.greaterThan === undefined && this.lessThan === undefined && (this.complement ? this.values.size > 0 : this.values.size === 0);
  }

  /** Whether a node with the label set to `value` (or without it, for undefined) satisfies this requirement. */
  allows(value: string | undefined): boolean {
    return value === undefined ? this.allowsAbsent() : this.has(value);
  }

  /** The operator that best describes the set (bounds show as Exists/NotIn, as upstream reports them). */
  operator(): 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' {
    if (this.complement) return this.values.size > 0 ? 'NotIn' : 'Exists';
    return this.values.size > 0 ? 'In' : 'DoesNotExist';
  }

  /** True when no label value satisfies it (In over nothing, DoesNotExist, or empty bounds). */
  isEmptySet(): boolean {
    if (!this.complement) return this.values.size === 0;
    return this.greaterThan !== undefined && this.lessThan !== undefined && this.greaterThan + 1 >= this.lessThan;
  }

  /** Number of allowed values; Infinity for complements. */
  size(): number {
    return this.isEmptySet() ? 0 : this.complement ? Number.POSITIVE_INFINITY : this.values.size;
  }

  /** The allowed values, sorted (only meaningful when not a complement). */
  sortedValues(): string[] {
    return [...this.values].sort();
  }

  intersection(other: Requirement): Requirement {
    if (other.key !== this.key) throw new Error(`intersecting requirements on different keys ${this.key} and ${other.key}`);
    const greaterThan = maxDefined(this.greaterThan, other.greaterThan);
    const lessThan = minDefined(this.lessThan, other.lessThan);
    const minValues = maxDefined(this.minValues, other.minValues);
    if (greaterThan !== undefined && lessThan !== undefined && greaterThan + 1 >= lessThan) {
      return new Requirement(this.key, false, new Set(), undefined, undefined, minValues);
    }
    const complement = this.complement && other.complement;
    let values: Set<string>;
    if (this.complement && other.complement) values = new Set([...this.values, ...other.values]);
    else if (this.complement) values = new Set([...other.values].filter((v) => !this.values.has(v)));
    else if (other.complement) values = new Set([...this.values].filter((v) => !other.values.has(v)));
    else values = new Set([...this.values].filter((v) => other.values.has(v)));
    const within = (v: string): boolean => {
      const n = greaterThan === undefined && lessThan === undefined ? 0 : parseInteger(v);
      return n !== undefined && (greaterThan === undefined || n > greaterThan) && (lessThan === undefined || n < lessThan);
    };
    values = new Set([...values].filter(within));
    // A finite set has been filtered by the bounds already: they say nothing more.
    return complement
      ? new Requirement(this.key, true, values, greaterThan, lessThan, minValues)
      : new Requirement(this.key, false, values, undefined, undefined, minValues);
  }

  /**
   * Whether some node could satisfy both. Two requirements that both allow an
   * absent label (NotIn/DoesNotExist) are compatible even with no common value.
   */
  intersects(other: Requirement): boolean {
    if (this.intersection(other).size() > 0) return true;
    return this.allowsAbsent() && other.allowsAbsent();
  }

  /** As NodeSelectorRequirements (one per operator needed), for writing a NodeClaim. */
  toNodeSelectorRequirements(): NodeSelectorRequirement[] {
    const withMin = (r: NodeSelectorRequirement): NodeSelectorRequirement => (this.minValues !== undefined ? { ...r, minValues: this.minValues } : r);
    if (!this.complement) {
      return this.values.size > 0
        ? [withMin({ key: this.key, operator: 'In', values: this.sortedValues() })]
        : [withMin({ key: this.key, operator: 'DoesNotExist' })];
    }
    const out: NodeSelectorRequirement[] = [];
    if (this.values.size > 0) out.push({ key: this.key, operator: 'NotIn', values: this.sortedValues() });
    if (this.greaterThan !== undefined) {
      // The CRDs take non-negative bounds only; "> -1" is ">= 0".
      out.push(this.greaterThan === -1 ? { key: this.key, operator: 'Gte', values: ['0'] } : { key: this.key, operator: 'Gt', values: [String(this.greaterThan)] });
    }
    if (this.lessThan !== undefined) out.push({ key: this.key, operator: 'Lt', values: [String(this.lessThan)] });
    if (out.length === 0) out.push({ key: this.key, operator: 'Exists' });
    return out.map(withMin);
  }

  toString(): string {
    const parts: string[] = [];
    const op = this.operator();
    if (op === 'In' || op === 'NotIn') parts.push(`${this.key} ${op} [${this.sortedValues().join(',')}]`);
    else if (this.greaterThan === undefined && this.lessThan === undefined) parts.push(`${this.key} ${op}`);
    if (this.greaterThan !== undefined) parts.push(`${this.key} Gt ${this.greaterThan}`);
    if (this.lessThan !== undefined) parts.push(`${this.key} Lt ${this.lessThan}`);
    return parts.join(' && ');
  }
}

function maxDefined(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}
function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

/**
 * Labels whose absence from one side of a compatibility check means "any
 * value": the well-known ones and our instance labels, which every instance
 * type defines (upstream's AllowUndefinedWellKnownLabels, extended the way
 * providers extend it).
 */
export const SCHEDULING_WELL_KNOWN_LABELS: ReadonlySet<string> = new Set([...WELL_KNOWN_LABELS, ...SCALEWAY_LABELS]);

export interface CompatibilityOptions {
  /** Keys that may be required by the other side while undefined on this one. */
  allowUndefined?: ReadonlySet<string>;
}

/** Minimal pod shape read for scheduling; both our parsed Pod and client-node's V1Pod fit. */
export interface PodSchedulingInput {
  readonly metadata?: { readonly name?: string | undefined; readonly namespace?: string | undefined } | undefined;
  readonly spec?:
    | {
        readonly nodeSelector?: Readonly<Record<string, string>> | undefined;
        readonly affinity?:
          | {
              readonly nodeAffinity?:
                | {
                    readonly requiredDuringSchedulingIgnoredDuringExecution?:
                      | {
                          readonly nodeSelectorTerms: readonly {
                            readonly matchExpressions?: readonly NodeSelectorRequirementLike[] | undefined;
                            readonly matchFields?: readonly unknown[] | undefined;
                          }[];
                        }
                      | undefined;
                  }
                | undefined;
            }
          | undefined;
      }
    | undefined;
}

/** An immutable set of requirements, at most one per (normalized) label key. */
export class Requirements {
  private readonly byKey: ReadonlyMap<string, Requirement>;
  /** Sorted once: the set is immutable, and the planner walks the keys of the same sets many times a pass. */
  private sortedKeys: readonly string[] | undefined;

  private constructor(byKey: Map<string, Requirement>) {
    this.byKey = byKey;
  }

  static empty(): Requirements {
    return new Requirements(new Map());
  }

  /** From requirements; several on one key intersect (as a node selector term ANDs them). */
  static of(...requirements: Requirement[]): Requirements {
    const map = new Map<string, Requirement>();
    for (const r of requirements) {
      const existing = map.get(r.key);
      map.set(r.key, existing ? existing.intersection(r) : r);
    }
    return new Requirements(map);
  }

  /** From NodeSelectorRequirements (a NodePool template, a NodeClaim spec, a node selector term). */
  static from(list: readonly NodeSelectorRequirementLike[] | undefined): Requirements {
    return Requirements.of(...(list ?? []).map((r) => Requirement.from(r)));
  }

  /** `key In [value]` for every label (a nodeSelector, a NodePool's template labels, an instance's labels). */
  static fromLabels(labels: Readonly<Record<string, string>> | undefined): Requirements {
    return Requirements.of(...Object.entries(labels ?? {}).map(([k, v]) => Requirement.of(k, 'In', [v])));
  }

  /**
   * What a pod needs of a node, one alternative per required node-affinity term
   * (terms are ORed), each combined with the pod's nodeSelector. Terms with
   * matchFields are left out: they pin the pod to an existing node by name, which
   * no new node can satisfy. An empty list means no new node can host the pod.
   */
  static podAlternatives(pod: PodSchedulingInput): Requirements[] {
    const selector = Requirements.fromLabels(pod.spec?.nodeSelector);
    const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
    if (!terms || terms.length === 0) return [selector];
    const who = pod.metadata?.name ? ` of pod ${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}` : '';
    const alternatives: Requirements[] = [];
    terms.forEach((term, i) => {
      if ((term.matchFields?.length ?? 0) > 0) return;
      try {
        alternatives.push(selector.intersect(Requirements.from(term.matchExpressions)));
      } catch (err) {
        throw new Error(`reading node affinity term ${i}${who}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
    });
    return alternatives;
  }

  /** The pod's first alternative (upstream starts from the first term and relaxes to the next ones). */
  static fromPod(pod: PodSchedulingInput): Requirements | undefined {
    return Requirements.podAlternatives(pod)[0];
  }

  keys(): string[] {
    this.sortedKeys ??= [...this.byKey.keys()].sort();
    return [...this.sortedKeys];
  }

  /** Whether `key` is constrained here. */
  has(key: string): boolean {
    return this.byKey.has(normalizeLabelKey(key));
  }

  /** The requirement on `key` (normalized), or undefined when the key is unconstrained. */
  get(key: string): Requirement | undefined {
    return this.byKey.get(normalizeLabelKey(key));
  }

  list(): Requirement[] {
    return this.keys().map((k) => this.byKey.get(k)!);
  }

  get size(): number {
    return this.byKey.size;
  }

  /** A new set with `requirements` added (intersected with any on the same key). */
  add(...requirements: Requirement[]): Requirements {
    return Requirements.of(...this.byKey.values(), ...requirements);
  }

  /** Both sets at once: per key, the intersection. */
  intersect(other: Requirements): Requirements {
    return this.add(...other.byKey.values());
  }

  /** Same as `intersect`, spelled as in "node pool requirements ∩ pod requirements". */
  and(other: Requirements): Requirements {
    return this.intersect(other);
  }

  /**
   * Whether a label value is allowed for `key`: its requirement has it (or, for
   * undefined, allows the label to be absent). Keys without a requirement allow
   * anything.
   */
  allows(key: string, value: string | undefined): boolean {
    const r = this.get(key);
    return r === undefined || r.allows(value);
  }

  /** The first requirement the labels break, described; undefined when they satisfy all. */
  unmetBy(labels: Readonly<Record<string, string>> | undefined): string | undefined {
    for (const r of this.list()) {
      const value = labels?.[r.key];
      if (!r.allows(value)) return value === undefined ? `label ${r.key} is missing, need ${r.toString()}` : `label ${r.key}=${value} does not satisfy ${r.toString()}`;
    }
    return undefined;
  }

  /** Whether a node with these labels satisfies every requirement (the node-selector match). */
  matchesLabels(labels: Readonly<Record<string, string>> | undefined): boolean {
    return this.unmetBy(labels) === undefined;
  }

  /**
   * Why `other` (e.g. a pod's needs) cannot be met by a node drawn from this set
   * (e.g. a NodePool or an instance type's offering), one message per key; empty
   * when compatible. A key `other` requires that this set leaves undefined only
   * passes when `other` accepts an absent label or the key is in `allowUndefined`.
   */
  incompatibilities(other: Requirements, options: CompatibilityOptions = {}): string[] {
    const errors: string[] = [];
    for (const incoming of other.list()) {
      const existing = this.byKey.get(incoming.key);
      if (!existing) {
        if (incoming.allowsAbsent() || options.allowUndefined?.has(incoming.key)) continue;
        errors.push(`label ${incoming.key} does not have known values (need ${incoming.toString()})`);
        continue;
      }
      if (!existing.intersects(incoming)) errors.push(`${incoming.toString()} does not intersect ${existing.toString()}`);
    }
    return errors;
  }

  isCompatible(other: Requirements, options: CompatibilityOptions = {}): boolean {
    return this.incompatibilities(other, options).length === 0;
  }

  /** Labels that the requirements fix to one value (`key In [v]`), e.g. to label a NodeClaim. */
  singleValuedLabels(): Record<string, string> {
    const labels: Record<string, string> = {};
    for (const r of this.list()) if (!r.complement && r.values.size === 1) labels[r.key] = [...r.values][0]!;
    return labels;
  }

  /**
   * As NodeSelectorRequirements sorted by key. With `forNodeClaim`, keys a
   * NodeClaim may not carry (restricted domains, hostname) are left out, so the
   * result always passes the CRD's validation.
   */
  toNodeSelectorRequirements(options: { forNodeClaim?: boolean } = {}): NodeSelectorRequirement[] {
    return this.list()
      .filter((r) => !options.forNodeClaim || restrictedLabelError(r.key, 'NodeClaim') === undefined)
      .flatMap((r) => r.toNodeSelectorRequirements());
  }

  toString(): string {
    return this.list()
      .map((r) => r.toString())
      .join(', ');
  }
}

const KUBERNETES_IO_ALLOWED = new Set([
  'beta.kubernetes.io/instance-type',
  'failure-domain.beta.kubernetes.io/region',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/arch',
  'failure-domain.beta.kubernetes.io/zone',
  'topology.kubernetes.io/zone',
  'topology.kubernetes.io/region',
  'node.kubernetes.io/instance-type',
  'kubernetes.io/arch',
  'kubernetes.io/os',
  'node.kubernetes.io/windows-build',
]);

function labelDomain(key: string): string {
  const slash = key.indexOf('/');
  return slash < 0 ? key : key.slice(0, slash);
}

/**
 * The message the karpenter.sh CRDs give for a requirement key they reject, or
 * undefined when the key is allowed. `NodePool` also rejects karpenter.sh/nodepool
 * (Karpenter sets it). Mirrors the CEL rules in deploy/crds.
 */
export function restrictedLabelError(key: string, object: 'NodeClaim' | 'NodePool'): string | undefined {
  // Like the CEL find("^([^/]+)"): the part before the first slash, or the whole key.
  const domain = labelDomain(key);
  if (!KUBERNETES_IO_ALLOWED.has(key) && !domain.endsWith('node.kubernetes.io') && !domain.endsWith('node-restriction.kubernetes.io') && domain.endsWith('kubernetes.io')) {
    return 'label domain "kubernetes.io" is restricted';
  }
  if (!domain.endsWith('kops.k8s.io') && domain.endsWith('k8s.io')) return 'label domain "k8s.io" is restricted';
  if (key !== 'karpenter.sh/capacity-type' && key !== LABEL_NODEPOOL && domain.endsWith('karpenter.sh')) return 'label domain "karpenter.sh" is restricted';
  if (object === 'NodePool' && key === LABEL_NODEPOOL) return 'label "karpenter.sh/nodepool" is restricted';
  if (key === LABEL_HOSTNAME) return 'label "kubernetes.io/hostname" is restricted';
  return undefined;
}
