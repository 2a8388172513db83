// Where the pinned tools live: tools/install-tools.sh builds them once per
// version into the user's cache folder and links them into one bin folder.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ToolName = 'temporal' | 'kube-apiserver' | 'etcd' | 'kube-scheduler' | 'kube-controller-manager' | 'kubectl' | 'kwok' | 'helm';

const installScript = fileURLToPath(new URL('../tools/install-tools.sh', import.meta.url));

export function toolsBinDir(): string {
  const cache = process.env.SCW_KARPENTER_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'scw-karpenter');
  return join(cache, 'tools', 'bin');
}

/** The tool's path, installing it first (a build on the first run) if it is missing. */
export function toolPath(name: ToolName): string {
  const path = join(toolsBinDir(), name);
  if (!existsSync(path)) {
    const group = name === 'temporal' || name === 'kwok' || name === 'helm' ? name : 'control-plane';
    execFileSync('bash', [installScript, group], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return path;
}

/** The first line a tool prints for its version, for logs. */
export function toolVersion(name: ToolName): string {
  try {
    const out = execFileSync(toolPath(name), ['--version'], { encoding: 'utf8' });
    return out.split('\n').find((line) => line.trim() !== '')?.trim() ?? 'unknown';
  } catch (err) {
    return `unknown (${err instanceof Error ? err.message : String(err)})`;
  }
}
