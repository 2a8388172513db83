// GPU names: the catalog says `L40S` or `H100-SXM`; Kubernetes labels want
// lower-kebab-case; the seed's users wrote short names (`l4`, `h100`, `3070`).
// This module turns any of them into the one label value we put on nodes.

/** Label value for a catalog GPU name: `H100-SXM` → `h100-sxm`, `RTX-3070` → `rtx-3070`. */
export function gpuLabelValue(catalogName: string): string {
  return catalogName.trim().toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

// Short names whose label value is not simply their own lower-case form. `h100`
// alone means the PCIe cards (H100-1-80G, H100-2-80G), as on Scaleway's pages.
const SHORT_NAMES: Readonly<Record<string, string>> = {
  h100: 'h100-pcie',
  b300: 'b300-sxm',
  '3070': 'rtx-3070',
};

/** The label value a user meant by a GPU name, short or long, any case: `H100` → `h100-pcie`, `l40s` → `l40s`. */
export function canonicalGpuName(name: string): string {
  const value = gpuLabelValue(name);
  return SHORT_NAMES[value] ?? value;
}

/** Every name a user may write for a GPU label value, for messages and the seed's alias label. */
export function shortGpuName(labelValue: string): string {
  for (const [short, full] of Object.entries(SHORT_NAMES)) if (full === labelValue) return short;
  return labelValue;
}
