// The #cloud-config document as data: rendering it, reading a user's one,
// and merging the two. YAML 1.1 on both sides because cloud-init (PyYAML) and
// kubeadm read YAML 1.1, where `yes`, `on` or `0600` are not strings unless quoted.
import { parseDocument, stringify } from 'yaml';
import { BootstrapError } from './errors.ts';

export const CLOUD_CONFIG_HEADER = '#cloud-config';

export type CloudConfig = Record<string, unknown>;

/** One `write_files` entry as we write them: plain text content, explicit owner and mode. */
export interface WriteFile {
  path: string;
  content: string;
  permissions: string;
  owner: string;
}

/** A `runcmd` item: an argv list (no shell) or a string (run by `sh -c`). */
export type RunCmd = string | string[];

export function writeFile(path: string, content: string, permissions: '0600' | '0644' | '0700' | '0755'): WriteFile {
  return { path, content, permissions, owner: 'root:root' };
}

export function toYaml(value: unknown): string {
  return stringify(value, { version: '1.1', lineWidth: 0 });
}

export function fromYaml(text: string, what: string): unknown {
  const doc = parseDocument(text, { version: '1.1', prettyErrors: false });
  const err = doc.errors[0];
  if (err) throw new BootstrapError(`${what} is not valid YAML: ${err.message}`);
  return doc.toJS({ maxAliasCount: 100 }) as unknown;
}

export function renderCloudConfigText(doc: CloudConfig, comment?: string): string {
  const lines = [CLOUD_CONFIG_HEADER];
  if (comment) lines.push(...comment.split('\n').map((l) => `# ${l}`));
  return `${lines.join('\n')}\n${toYaml(doc)}`;
}

export function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

// User-data formats cloud-init knows besides #cloud-config: we cannot merge them.
const OTHER_FORMATS: [RegExp, string][] = [
  [/^#!/, 'a shell script'],
  [/^#include/, 'an #include list'],
  [/^#cloud-boothook/, 'a boothook'],
  [/^#part-handler/, 'a part handler'],
  [/^#upstart-job/, 'an upstart job'],
  [/^## template:/, 'a Jinja template'],
  [/^content-type:/i, 'a MIME multipart archive'],
  [/^mime-version:/i, 'a MIME multipart archive'],
];

/**
 * Reads a user's cloud-config: the `#cloud-config` header is optional, the body must be a YAML map.
 * Empty text is an empty map.
 */
export function parseCloudConfig(text: string, what: string): CloudConfig {
  const body = text.replace(/^\uFEFF/, '').trimStart();
  if (body === '') return {};
  const firstLine = body.split('\n', 1)[0]?.trim() ?? '';
  if (firstLine !== CLOUD_CONFIG_HEADER) {
    const other = OTHER_FORMATS.find(([re]) => re.test(firstLine));
    if (other) throw new BootstrapError(`${what} must be a #cloud-config document (a YAML map), not ${other[1]}`);
  }
  const value = fromYaml(body, what);
  if (value === null || value === undefined) return {};
  if (!isMap(value)) {
    throw new BootstrapError(`${what} must be a #cloud-config document (a YAML map of cloud-init modules), but it is ${kindOf(value)}`);
  }
  return value;
}

function kindOf(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (isMap(v)) return 'a map';
  return `a ${typeof v} (${JSON.stringify(v)})`;
}

/**
 * Merges `ours` into the user's `base`: lists are concatenated with the user's items first (so
 * their setup, e.g. containerd for the NVIDIA runtime, runs before the node joins), maps merge key
 * by key, and on any other conflict ours win. A user `write_files` entry for a path we write is
 * dropped, with a warning.
 */
export function mergeCloudConfig(base: CloudConfig, ours: CloudConfig, what: string): { doc: CloudConfig; warnings: string[] } {
  const warnings: string[] = [];
  const ourPaths = new Set(writeFilesOf(ours).map((f) => f.path));
  let user = base;
  if (Array.isArray(base.write_files) && ourPaths.size > 0) {
    const kept = base.write_files.filter((entry) => {
      const path = isMap(entry) ? entry.path : undefined;
      if (typeof path === 'string' && ourPaths.has(path)) {
        warnings.push(`${what}: write_files entry for ${path} dropped: scw-karpenter writes that file`);
        return false;
      }
      return true;
    });
    user = { ...base, write_files: kept };
  }
  const doc = mergeValue(user, ours, '', what, warnings);
  if (!isMap(doc)) throw new Error('unreachable: merge of two maps is a map');
  return { doc, warnings };
}

function mergeValue(base: unknown, ours: unknown, path: string, what: string, warnings: string[]): unknown {
  if (base === undefined || base === null) return ours;
  if (Array.isArray(base) && Array.isArray(ours)) return [...(base as unknown[]), ...(ours as unknown[])];
  if (isMap(base) && isMap(ours)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(ours)) out[k] = k in base ? mergeValue(base[k], v, path ? `${path}.${k}` : k, what, warnings) : v;
    for (const [k, v] of Object.entries(base)) if (!(k in ours)) out[k] = v;
    return out;
  }
  if (Array.isArray(base) || Array.isArray(ours) || isMap(base) || isMap(ours)) {
    throw new BootstrapError(`${what}: "${path}" is ${kindOf(base)}, but scw-karpenter needs ${Array.isArray(ours) ? 'a list' : 'a map'} there to merge its own entries`);
  }
  if (base !== ours) warnings.push(`${what}: "${path}" overridden by scw-karpenter (bootstrap needs ${JSON.stringify(ours)})`);
  return ours;
}

/** The `write_files` entries of a document that have a string path. */
export function writeFilesOf(doc: CloudConfig): { path: string; entry: Record<string, unknown> }[] {
  const files = doc.write_files;
  if (!Array.isArray(files)) return [];
  return files.flatMap((entry: unknown) => (isMap(entry) && typeof entry.path === 'string' ? [{ path: entry.path, entry }] : []));
}

/** The decoded content of the last `write_files` entry for `path` (cloud-init writes them in order), or undefined. */
export function fileContent(doc: CloudConfig, path: string): string | undefined {
  const found = writeFilesOf(doc).filter((f) => f.path === path).at(-1);
  if (!found) return undefined;
  const { content, encoding } = found.entry;
  if (typeof content !== 'string') return '';
  if (encoding === undefined || encoding === 'text/plain') return content;
  if (encoding === 'b64' || encoding === 'base64') return Buffer.from(content, 'base64').toString('utf8');
  throw new BootstrapError(`write_files ${path}: encoding ${JSON.stringify(encoding)} is not supported`);
}
