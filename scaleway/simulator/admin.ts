// The /_sim HTTP endpoints: the fault injection and inspection API for a simulator in another process.
// No auth, loopback only. Bodies are validated with zod; answers are JSON.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { FAULT_ERROR_NAMES, type FaultErrorName } from './errors.ts';
import { readRawBody, sendReply } from './router.ts';
import { ROUTES, type CallKind } from './routes.ts';
import type { Simulator } from './simulator.ts';

export const ADMIN_PREFIX = '/_sim';

const callKinds = ROUTES.map((route) => route.kind) as [CallKind, ...CallKind[]];
const times = z.union([z.number().int().positive(), z.literal('forever')]).optional()
  .transform((value) => (value === 'forever' ? Infinity : value));

const matchSchema = z.object({
  kind: z.union([z.enum(callKinds), z.array(z.enum(callKinds))]).optional(),
  zone: z.string().optional(),
  commercialType: z.string().optional(),
  serverId: z.string().optional(),
  action: z.string().optional(),
});

const failSchema = matchSchema.extend({
  error: z.union([
    z.enum(FAULT_ERROR_NAMES as [FaultErrorName, ...FaultErrorName[]]),
    z.object({ status: z.number().int().min(400).max(599), body: z.union([z.string(), z.looseObject({ type: z.string(), message: z.string() })]) }),
  ]),
  times,
});
const latencySchema = matchSchema.extend({ ms: z.number().nonnegative(), times });
const stuckSchema = matchSchema.pick({ zone: true, commercialType: true, serverId: true }).extend({ times });
const stockSchema = z.object({ zone: z.string(), commercialType: z.string() });
const availabilitySchema = stockSchema.extend({ availability: z.enum(['available', 'scarce', 'shortage']) });
const lockSchema = z.object({ serverId: z.string() });

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}

function parseBody<T>(schema: z.ZodType<T>, raw: string): T {
  return schema.parse(raw.trim() === '' ? {} : JSON.parse(raw));
}

/** Answers one /_sim request. */
export async function handleAdminRequest(req: IncomingMessage, res: ServerResponse, url: URL, sim: Simulator): Promise<void> {
  const route = `${req.method ?? 'GET'} ${url.pathname.slice(ADMIN_PREFIX.length)}`;
  const raw = await readRawBody(req);
  const reply = (status: number, json: unknown): void => sendReply(res, { status, json });
  try {
    switch (route) {
      case 'GET /requests':
        return reply(200, { requests: sim.requests });
      case 'DELETE /requests':
        sim.clearRequests();
        return reply(200, {});
      case 'GET /state':
        return reply(200, { servers: sim.servers(), volumes: sim.volumes(), faults: sim.faults.describe() });
      case 'POST /reset':
        sim.reset();
        return reply(200, {});
      case 'POST /faults/fail':
        return reply(200, { id: sim.faults.failNext(withoutUndefined(parseBody(failSchema, raw))) });
      case 'POST /faults/latency':
        return reply(200, { id: sim.faults.addLatency(withoutUndefined(parseBody(latencySchema, raw))) });
      case 'POST /faults/stuck-starting':
        return reply(200, { id: sim.faults.stickInStarting(withoutUndefined(parseBody(stuckSchema, raw))) });
      case 'POST /faults/stock-out': {
        const { zone, commercialType } = parseBody(stockSchema, raw);
        sim.faults.stockOut(zone, commercialType);
        return reply(200, {});
      }
      case 'DELETE /faults/stock-out': {
        const { zone, commercialType } = parseBody(stockSchema, raw);
        sim.faults.restock(zone, commercialType);
        return reply(200, {});
      }
      case 'POST /faults/availability': {
        const { zone, commercialType, availability } = parseBody(availabilitySchema, raw);
        sim.faults.setAvailability(zone, commercialType, availability);
        return reply(200, {});
      }
      case 'POST /faults/lock':
        sim.faults.lock(parseBody(lockSchema, raw).serverId);
        return reply(200, {});
      case 'DELETE /faults/lock':
        sim.faults.unlock(parseBody(lockSchema, raw).serverId);
        return reply(200, {});
      case 'POST /faults/release-stuck': {
        const { serverId } = parseBody(lockSchema.partial(), raw);
        sim.releaseStuck(serverId);
        return reply(200, {});
      }
      case 'DELETE /faults':
        sim.faults.clear(url.searchParams.get('id') ?? undefined);
        return reply(200, {});
      default:
        return reply(404, { type: 'not_found', message: `no admin endpoint ${route}` });
    }
  } catch (error) {
    const message = error instanceof z.ZodError ? z.prettifyError(error) : error instanceof Error ? error.message : String(error);
    return reply(400, { type: 'invalid_arguments', message });
  }
}
