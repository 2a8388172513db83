// The API surface the simulator serves: method, path pattern, call kind (named after the SDK method) and handler.
import * as block from './block-api.ts';
import type { Reply, RequestContext } from './context.ts';
import * as instance from './instance-api.ts';
import * as marketplace from './marketplace-api.ts';

export type CallKind =
  | 'listServersTypes'
  | 'getServerTypesAvailability'
  | 'listServers'
  | 'createServer'
  | 'getServer'
  | 'updateServer'
  | 'deleteServer'
  | 'serverAction'
  | 'listServerUserData'
  | 'getServerUserData'
  | 'setServerUserData'
  | 'deleteServerUserData'
  | 'getInstanceVolume'
  | 'deleteInstanceVolume'
  | 'listVolumes'
  | 'getVolume'
  | 'updateVolume'
  | 'deleteVolume'
  | 'listLocalImages'
  | 'getLocalImage'
  | 'listImages'
  | 'getImage';

export interface Route {
  method: string;
  pattern: RegExp;
  kind: CallKind;
  handler: (ctx: RequestContext, baseUrl: string) => Reply;
}

const ZONE = '(?<zone>[a-z]{2}-[a-z]{3}-\\d)';
const ID = '(?<serverId>[^/]+)';

function route(method: string, path: string, kind: CallKind, handler: Route['handler']): Route {
  return { method, pattern: new RegExp(`^${path}$`), kind, handler };
}

const instanceZone = `/instance/v1/zones/${ZONE}`;
const blockZone = `/block/v1/zones/${ZONE}`;

export const ROUTES: readonly Route[] = [
  route('GET', `${instanceZone}/products/servers`, 'listServersTypes', instance.listServersTypes),
  route('GET', `${instanceZone}/products/servers/availability`, 'getServerTypesAvailability', instance.getServerTypesAvailability),
  route('GET', `${instanceZone}/servers`, 'listServers', instance.listServers),
  route('POST', `${instanceZone}/servers`, 'createServer', instance.createServer),
  route('GET', `${instanceZone}/servers/${ID}`, 'getServer', instance.getServer),
  route('PATCH', `${instanceZone}/servers/${ID}`, 'updateServer', instance.updateServer),
  route('DELETE', `${instanceZone}/servers/${ID}`, 'deleteServer', instance.deleteServer),
  route('POST', `${instanceZone}/servers/${ID}/action`, 'serverAction', instance.serverAction),
  route('GET', `${instanceZone}/servers/${ID}/user_data`, 'listServerUserData', instance.listServerUserData),
  route('GET', `${instanceZone}/servers/${ID}/user_data/(?<key>[^/]+)`, 'getServerUserData', instance.getServerUserData),
  route('PATCH', `${instanceZone}/servers/${ID}/user_data/(?<key>[^/]+)`, 'setServerUserData', instance.setServerUserData),
  route('DELETE', `${instanceZone}/servers/${ID}/user_data/(?<key>[^/]+)`, 'deleteServerUserData', instance.deleteServerUserData),
  route('GET', `${instanceZone}/volumes/(?<volumeId>[^/]+)`, 'getInstanceVolume', instance.getInstanceVolume),
  route('DELETE', `${instanceZone}/volumes/(?<volumeId>[^/]+)`, 'deleteInstanceVolume', instance.deleteInstanceVolume),
  route('GET', `${blockZone}/volumes`, 'listVolumes', block.listVolumes),
  route('GET', `${blockZone}/volumes/(?<volumeId>[^/]+)`, 'getVolume', block.getVolume),
  route('PATCH', `${blockZone}/volumes/(?<volumeId>[^/]+)`, 'updateVolume', block.updateVolume),
  route('DELETE', `${blockZone}/volumes/(?<volumeId>[^/]+)`, 'deleteVolume', block.deleteVolume),
  route('GET', '/marketplace/v2/local-images', 'listLocalImages', marketplace.listLocalImages),
  route('GET', '/marketplace/v2/local-images/(?<localImageId>[^/]+)', 'getLocalImage', marketplace.getLocalImage),
  route('GET', '/marketplace/v2/images', 'listImages', marketplace.listImages),
  route('GET', '/marketplace/v2/images/(?<imageId>[^/]+)', 'getImage', marketplace.getImage),
];

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

/** The route for a request; `methodMismatch` when the path exists under another method. */
export function matchRoute(method: string, path: string): RouteMatch | { methodMismatch: boolean } {
  let methodMismatch = false;
  for (const candidate of ROUTES) {
    const found = candidate.pattern.exec(path);
    if (!found) continue;
    if (candidate.method !== method) {
      methodMismatch = true;
      continue;
    }
    const params: Record<string, string> = {};
    for (const [name, value] of Object.entries(found.groups ?? {})) params[name] = decodeURIComponent(value);
    return { route: candidate, params };
  }
  return { methodMismatch };
}
