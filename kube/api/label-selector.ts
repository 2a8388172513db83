// metav1.LabelSelector matching: matchLabels and matchExpressions (In, NotIn,
// Exists, DoesNotExist) all have to hold; an empty selector matches everything.

export interface LabelSelectorRequirementLike {
  key: string;
  operator: string;
  values?: readonly string[] | undefined;
}

export interface LabelSelectorLike {
  matchLabels?: Readonly<Record<string, string>> | undefined;
  matchExpressions?: readonly LabelSelectorRequirementLike[] | undefined;
}

export function matchesLabelSelector(selector: LabelSelectorLike, labels: Readonly<Record<string, string>> | undefined): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels?.[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const value = labels?.[e.key];
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In': if (value === undefined || !values.includes(value)) return false; break;
      case 'NotIn': if (value !== undefined && values.includes(value)) return false; break;
      case 'Exists': if (value === undefined) return false; break;
      case 'DoesNotExist': if (value !== undefined) return false; break;
      default: return false;
    }
  }
  return true;
}
