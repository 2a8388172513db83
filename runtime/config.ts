// Settings of the worker and the watcher, read once from the environment at
// start. Secrets (the Scaleway secret key) stay in this process: they are never
// put in workflow inputs, activity results or logs.
import { z } from 'zod';

const ACCESS_KEY = /^SCW[A-Z0-9]{17}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const schema = z.object({
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('scw-karpenter'),
  /** Where the Web UI shows a workflow, for the link put on each NodeClaim's Event. */
  TEMPORAL_UI_URL: z.string().default('http://127.0.0.1:8233'),
  SCW_ACCESS_KEY: z.string().regex(ACCESS_KEY, 'SCW_ACCESS_KEY must look like SCWXXXXXXXXXXXXXXXXX (SCW and 17 letters or digits)'),
  SCW_SECRET_KEY: z.string().regex(UUID, 'SCW_SECRET_KEY must be a UUID'),
  SCW_DEFAULT_PROJECT_ID: z.string().regex(UUID, 'SCW_DEFAULT_PROJECT_ID must be a UUID'),
  SCW_API_URL: z.string().url().optional(),
  /** Tags every cloud resource with the cluster it belongs to, so garbage collection never touches another cluster's. */
  CLUSTER_NAME: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'CLUSTER_NAME must be a DNS label').default('sandbox'),
  KUBECONFIG: z.string().optional(),
});

export type RuntimeConfig = z.infer<typeof schema>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid configuration: ${problems}`);
  }
  return parsed.data;
}

/** The config as it is safe to log: the secret key masked. */
export function describeConfig(config: RuntimeConfig): Record<string, string | undefined> {
  return { ...config, SCW_SECRET_KEY: '<redacted>' };
}
