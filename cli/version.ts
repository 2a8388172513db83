// The version of this build, from the project's package.json: next to cli/ in a
// checkout, two levels up from dist/cli/ in the image.
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function packageVersion(): string {
  if (cached) return cached;
  for (const relative of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'scw-karpenter' && pkg.version) return (cached = pkg.version);
    } catch {
      // Not this one: try the next.
    }
  }
  return (cached = 'unknown');
}
