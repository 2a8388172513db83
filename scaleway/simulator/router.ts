// One API request, start to end: route, authenticate, delay, inject faults, handle, answer, record.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from './clock.ts';
import type { Reply, RequestContext, SimEnv } from './context.ts';
import { ApiError, constraintArgument, deniedAuthentication, invalidArguments, serverError } from './errors.ts';
import type { CallInfo } from './faults.ts';
import { responseDelayMs } from './latency.ts';
import { isRecord } from './request-body.ts';
import { matchRoute, type CallKind } from './routes.ts';

export interface RecordedRequest {
  method: string;
  path: string;
  /** The query string with its leading "?", or "". */
  query: string;
  status: number;
  /** The SDK-named call, or null for an unknown route. */
  kind: CallKind | null;
  zone?: string;
  commercialType?: string;
  serverId?: string;
  action?: string;
  /** Clock time the answer was sent. */
  at: number;
}

export interface RouterOptions {
  env: SimEnv;
  clock: Clock;
  requestLatency: boolean;
  /** When set, X-Auth-Token must equal it; otherwise any UUID-shaped token is accepted. */
  secretKey?: string;
  baseUrl: () => string;
  sleep: (ms: number) => Promise<void>;
  record: (entry: RecordedRequest) => void;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function readRawBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

export function sendReply(res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = { ...reply.headers };
  let payload: string | undefined;
  if (reply.status !== 204) {
    if (reply.text !== undefined) {
      payload = reply.text;
      headers['Content-Type'] = reply.contentType ?? 'text/plain';
    } else {
      payload = JSON.stringify(reply.json ?? {});
      headers['Content-Type'] = reply.contentType ?? 'application/json';
    }
    headers['Content-Length'] = String(Buffer.byteLength(payload));
  } else {
    headers['Content-Type'] = reply.contentType ?? 'application/json';
  }
  res.writeHead(reply.status, headers);
  res.end(payload);
}

export function errorReply(error: ApiError): Reply {
  return typeof error.body === 'string'
    ? { status: error.status, text: error.body, contentType: 'text/plain', headers: error.headers }
    : { status: error.status, json: error.body, headers: error.headers };
}

function authenticate(req: IncomingMessage, secretKey: string | undefined): void {
  const token = req.headers['x-auth-token'];
  if (typeof token !== 'string' || token === '' || !UUID.test(token)) throw deniedAuthentication('invalid_argument');
  if (secretKey !== undefined && token !== secretKey) throw deniedAuthentication('not_found');
}

/** What fault rules can match on, read before the handler runs. */
function describeCall(kind: CallKind, ctx: RequestContext): CallInfo {
  const call: CallInfo = { kind, zone: ctx.zone || undefined };
  const serverId = ctx.params.serverId;
  if (serverId) {
    call.serverId = serverId;
    call.commercialType = ctx.env.store.server(ctx.zone, serverId)?.commercialType;
  }
  if (kind === 'createServer' || kind === 'serverAction') {
    try {
      const body: unknown = JSON.parse(ctx.rawBody);
      if (isRecord(body)) {
        if (kind === 'createServer' && typeof body.commercial_type === 'string') call.commercialType = body.commercial_type;
        if (kind === 'serverAction' && typeof body.action === 'string') call.action = body.action;
      }
    } catch {
      // The handler reports the malformed body.
    }
  }
  return call;
}

export async function handleApiRequest(req: IncomingMessage, res: ServerResponse, url: URL, options: RouterOptions): Promise<void> {
  const { env, clock } = options;
  const method = req.method ?? 'GET';
  const path = url.pathname;
  const rawBody = await readRawBody(req);
  const matched = matchRoute(method, path);
  let reply: Reply;
  let call: CallInfo | undefined;
  let dropConnection = false;
  try {
    authenticate(req, options.secretKey);
    if (!('route' in matched)) {
      throw new ApiError(matched.methodMismatch ? 405 : 404, { type: 'not_found', message: `the simulator does not serve ${method} ${path}` });
    }
    const { route, params } = matched;
    const zone = params.zone ?? url.searchParams.get('zone') ?? '';
    if (params.zone && !env.catalog.hasZone(params.zone)) throw invalidArguments([constraintArgument('zone', `unknown zone ${params.zone}`)]);
    env.store.settle(clock.now());
    const ctx: RequestContext = {
      method,
      path,
      params,
      query: url.searchParams,
      rawBody,
      contentType: req.headers['content-type'] ?? '',
      zone,
      now: clock.now(),
      env,
    };
    call = describeCall(route.kind, ctx);
    // Chaos mode: the connection dropped before the call is handled, or the answer of a committed create lost.
    const connectionFault = env.faults.takeConnectionFault(call);
    if (connectionFault === 'connection_reset') {
      dropConnection = true;
      throw serverError(500);
    }
    const delay = env.faults.takeLatency(call) + (options.requestLatency ? responseDelayMs(env.profile, route.kind, env.timeScale) : 0);
    if (delay > 0) await options.sleep(delay);
    ctx.now = clock.now();
    env.store.settle(ctx.now);
    const server = call.serverId ? env.store.server(zone, call.serverId) : undefined;
    const failure = env.faults.takeFailure(call, {
      resource: call.serverId ? 'instance_server' : route.kind === 'createServer' ? 'server' : 'instance_server',
      resourceId: call.serverId ?? '',
      commercialType: call.commercialType,
      projectId: server?.project ?? env.defaultProjectId,
      currentState: server?.lifecycle.state,
    });
    if (failure) throw failure;
    reply = route.handler(ctx, options.baseUrl());
    if (connectionFault && reply.status < 300) {
      env.faults.countLostResponse(connectionFault);
      if (connectionFault === 'lost_create_drop') dropConnection = true;
      else reply = errorReply(serverError(503));
    }
  } catch (error) {
    if (error instanceof ApiError) {
      reply = errorReply(error);
    } else {
      console.error('scaleway simulator: handler failed', error);
      reply = errorReply(serverError(500));
    }
  }
  if (dropConnection) res.destroy();
  else if (!res.destroyed) sendReply(res, reply);
  options.record({
    method,
    path,
    query: url.search,
    // 0: no answer was sent (the connection was dropped).
    status: dropConnection ? 0 : reply.status,
    kind: 'route' in matched ? matched.route.kind : null,
    zone: call?.zone,
    commercialType: call?.commercialType,
    serverId: call?.serverId,
    action: call?.action,
    at: clock.now(),
  });
}
