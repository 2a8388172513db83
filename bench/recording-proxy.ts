// A pass-through proxy in front of the Scaleway simulator that stamps each request
// when its headers ARRIVE (the simulator's own log, RecordedRequest.at, is taken when
// it answered, after the profile's createServer delay) and reads the server name
// (= the NodeClaim name) from createServer bodies.
//
// Moved here from bench/provisioning-latency.ts, so that both benchmarks measure the
// create call the same way (see /tmp/issue9b/h6-bench-karpenter-requests.md: that
// file should import it from here instead of keeping its own copy).
import { createServer as createHttpServer, request as httpRequest, Agent, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { matchRoute, type CallKind } from '../scaleway/simulator/routes.ts';

export interface ProxiedCall {
  /** Date.now() when the request's headers reached the proxy. */
  arrivedAt: number;
  /** Date.now() when the simulator's answer was back. */
  answeredAt: number | undefined;
  method: string;
  path: string;
  kind: CallKind | null;
  status: number | undefined;
  /** The product's SDK (scaleway-sdk-js) rather than the simulated kubelet's plain fetch. */
  fromSdk: boolean;
  /** createServer: the server name in the body (= the NodeClaim name). */
  serverName: string | undefined;
}

export interface RecordingProxy {
  url: string;
  calls: ProxiedCall[];
  close(): Promise<void>;
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const calls: ProxiedCall[] = [];
  const server: Server = createHttpServer((req: IncomingMessage, res) => {
    const arrivedAt = Date.now();
    const url = new URL(req.url ?? '/', 'http://proxy');
    const method = req.method ?? 'GET';
    const matched = matchRoute(method, url.pathname);
    const call: ProxiedCall = {
      arrivedAt,
      answeredAt: undefined,
      method,
      path: url.pathname,
      kind: 'route' in matched ? matched.route.kind : null,
      status: undefined,
      fromSdk: String(req.headers['user-agent'] ?? '').includes('scaleway-sdk-js'),
      serverName: undefined,
    };
    calls.push(call);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (call.kind === 'createServer') {
        try {
          const parsed = JSON.parse(body.toString('utf8')) as { name?: unknown };
          if (typeof parsed.name === 'string') call.serverName = parsed.name;
        } catch {
          // the simulator reports the malformed body
        }
      }
      const headers = { ...req.headers, host: upstream.host, 'content-length': String(body.length) };
      const out = httpRequest({ host: upstream.hostname, port: upstream.port, method, path: req.url, headers, agent }, (answer) => {
        call.status = answer.statusCode;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('end', () => (call.answeredAt = Date.now()));
      });
      out.on('error', (err) => {
        if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ type: 'proxy_error', message: err.message }));
      });
      out.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
