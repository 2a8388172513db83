// What client-node's Watch reads of a KubeConfig, made from our own endpoint:
// the server, and per watch request its TLS and Authorization header (a
// rotated ServiceAccount token included). Loading client-node's KubeConfig
// for this loads its whole generated API client with it: 43 MiB more RSS and
// 20 MiB more heap in the watcher, for what a dozen lines do here.
import type { Agent } from 'undici';
import type { RequestContext } from '@kubernetes/client-node/dist/gen/http/http.js';
import type { KubeEndpoint, RequestOptions } from './credentials.ts';

/** The part of client-node's KubeConfig its Watch uses. */
export interface WatchConfig {
  getCurrentCluster(): { server: string } | null;
  applySecurityAuthentication(context: RequestContext): Promise<void>;
}

export function watchConfigOf(endpoint: KubeEndpoint): WatchConfig {
  // Watch requests go through client-node's undici fetch: one pool for every watch, with the endpoint's TLS.
  // undici is loaded on the first watch (25 MiB of RSS): the worker and the CLI read these credentials and never watch.
  let dispatcher: Promise<Agent> | undefined;
  return {
    getCurrentCluster: () => ({ server: `${endpoint.server.origin}${endpoint.server.pathname.replace(/\/$/, '')}` }),
    applySecurityAuthentication: async (context) => {
      const opts: RequestOptions = {};
      await endpoint.apply(opts);
      for (const [key, value] of Object.entries(opts.headers ?? {})) if (value !== undefined) context.setHeaderParam(key, String(value));
      dispatcher ??= import('undici').then(({ Agent: Pool }) => new Pool({
        connect: {
          ...(opts.secureContext ? { secureContext: opts.secureContext } : {}),
          ...(opts.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
          ...(opts.servername ? { servername: opts.servername } : {}),
        },
      }));
      context.setDispatcher(await dispatcher);
    },
  };
}
