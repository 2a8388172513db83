// policy/v1 PodDisruptionBudgets as the disruption pass reads them: the
// selector and status.disruptionsAllowed that kube-controller-manager's
// disruption controller keeps current. A budget whose status was never
// written allows nothing, as the Eviction API treats it.
import { z } from 'zod';
import type { PodDisruptionBudgetLike } from './blockers.ts';

const LabelSelectorSchema = z.object({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z.array(z.object({ key: z.string(), operator: z.string(), values: z.array(z.string()).optional() })).optional(),
});

const PodDisruptionBudgetSchema = z.object({
  metadata: z.object({ name: z.string().min(1), namespace: z.string().optional() }),
  spec: z.object({ selector: LabelSelectorSchema.optional() }).prefault({}),
  status: z.object({ disruptionsAllowed: z.number().int().optional() }).prefault({}),
});

/** The budget, or undefined when the object is not a PodDisruptionBudget we can read. */
export function parsePodDisruptionBudget(raw: unknown): PodDisruptionBudgetLike | undefined {
  const parsed = PodDisruptionBudgetSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}
