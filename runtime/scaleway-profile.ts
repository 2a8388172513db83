// Scaleway credentials as the Scaleway SDKs and CLI read them: a profile of the
// CLI's config.yaml (SCW_CONFIG_PATH, else $XDG_CONFIG_HOME/scw/config.yaml,
// else ~/.config/scw/config.yaml), the profile named by SCW_PROFILE or the
// file's active_profile, its fields over the file's top-level (default) ones,
// and every SCW_* variable over both. See scaleway-sdk-go's scw/README.md.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** The keys of one profile, as config.yaml spells them; unknown keys (send_telemetry, insecure...) are allowed. */
const profileSchema = z.looseObject({
  access_key: z.string().optional(),
  secret_key: z.string().optional(),
  api_url: z.string().optional(),
  default_organization_id: z.string().optional(),
  default_project_id: z.string().optional(),
  default_region: z.string().optional(),
  default_zone: z.string().optional(),
});

const fileSchema = profileSchema.extend({
  active_profile: z.string().optional(),
  profiles: z.record(z.string(), profileSchema.nullish()).nullish(),
});

export type ScalewayProfileFields = z.infer<typeof profileSchema>;

/** What the process uses, with where it came from (for the logged config and the errors). */
export interface ScalewayProfile {
  accessKey: string | undefined;
  secretKey: string | undefined;
  /** default_project_id, else default_organization_id: an Organization's Default Project has the Organization's ID. */
  projectId: string | undefined;
  organizationId: string | undefined;
  region: string | undefined;
  zone: string | undefined;
  apiUrl: string | undefined;
  /** The config file read, if any. */
  configFile: string | undefined;
  /** The profile of that file used: `default` for the top-level keys. */
  profile: string | undefined;
}

/** The Scaleway SDK's reserved name for the file's top-level keys. */
export const DEFAULT_PROFILE = 'default';

/** Where the config file is looked for, as scaleway-sdk-go's GetConfigPath does. */
export function scalewayConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SCW_CONFIG_PATH) return env.SCW_CONFIG_PATH;
  const xdg = env.XDG_CONFIG_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'scw', 'config.yaml');
  return join(env.HOME || homedir(), '.config', 'scw', 'config.yaml');
}

function readConfigFile(path: string, required: boolean): z.infer<typeof fileSchema> | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // No file is the usual case in a Pod (credentials come from a Secret as SCW_* variables).
    if (code === 'ENOENT' && !required) return undefined;
    throw new Error(`reading the Scaleway config file ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (err) {
    throw new Error(`reading the Scaleway config file ${path}: not YAML: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`reading the Scaleway config file ${path}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

const fromEnv = (env: NodeJS.ProcessEnv): ScalewayProfileFields => ({
  access_key: env.SCW_ACCESS_KEY || undefined,
  secret_key: env.SCW_SECRET_KEY || undefined,
  api_url: env.SCW_API_URL || undefined,
  default_organization_id: env.SCW_DEFAULT_ORGANIZATION_ID || undefined,
  default_project_id: env.SCW_DEFAULT_PROJECT_ID || undefined,
  default_region: env.SCW_DEFAULT_REGION || undefined,
  default_zone: env.SCW_DEFAULT_ZONE || undefined,
});

/** Later layers win, key by key; an unset key keeps the earlier value. */
function merge(...layers: ScalewayProfileFields[]): ScalewayProfileFields {
  const out: ScalewayProfileFields = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) if (value !== undefined && value !== null && value !== '') (out as Record<string, unknown>)[key] = value;
  }
  return out;
}

/**
 * The Scaleway profile of this environment. A file named by SCW_CONFIG_PATH, or
 * a profile named by SCW_PROFILE, must exist; the default file may be absent.
 */
export function loadScalewayProfile(env: NodeJS.ProcessEnv = process.env): ScalewayProfile {
  const path = scalewayConfigPath(env);
  const file = readConfigFile(path, Boolean(env.SCW_CONFIG_PATH || env.SCW_PROFILE));
  let profileName: string | undefined;
  let fileFields: ScalewayProfileFields = {};
  if (file) {
    const { profiles, active_profile: active, ...top } = file;
    profileName = env.SCW_PROFILE || active || DEFAULT_PROFILE;
    if (profileName === DEFAULT_PROFILE) {
      fileFields = top;
    } else {
      const named = profiles?.[profileName];
      if (!named) {
        const known = [DEFAULT_PROFILE, ...Object.keys(profiles ?? {})].join(', ');
        throw new Error(`Scaleway profile ${profileName} (${env.SCW_PROFILE ? 'SCW_PROFILE' : 'active_profile'}) is not in ${path}; it has: ${known}`);
      }
      fileFields = merge(top, named);
    }
  }
  const fields = merge(fileFields, fromEnv(env));
  return {
    accessKey: fields.access_key,
    secretKey: fields.secret_key,
    projectId: fields.default_project_id ?? fields.default_organization_id,
    organizationId: fields.default_organization_id,
    region: fields.default_region,
    zone: fields.default_zone,
    apiUrl: fields.api_url,
    configFile: file ? path : undefined,
    profile: profileName,
  };
}

/** Where to look, for an error about a missing key: `SCW_SECRET_KEY (or secret_key in profile prod of /home/me/.config/scw/config.yaml)`. */
export function whereToSet(profile: Pick<ScalewayProfile, 'configFile' | 'profile'>, envName: string, fileKey: string, env: NodeJS.ProcessEnv = process.env): string {
  const file = profile.configFile ?? scalewayConfigPath(env);
  const where = profile.configFile ? `profile ${profile.profile ?? DEFAULT_PROFILE} of ${file}` : `a Scaleway config file (${file}, none found; SCW_CONFIG_PATH, SCW_PROFILE)`;
  return `${envName} (or ${fileKey} in ${where})`;
}
