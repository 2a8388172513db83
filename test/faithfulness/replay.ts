// Replays a recorded cassette (../shared/scaleway) against the simulator and lists every difference in
// status, content type and JSON key structure. Recorded ids are mapped to the simulator's as the
// sequence goes; a manual clock follows the recorded Date headers so lifecycle states line up in time.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createManualClock, startSimulator, type Simulator } from '../../scaleway/simulator/index.ts';
import { matchRoute } from '../../scaleway/simulator/routes.ts';
import { TEST_CREDENTIALS } from '../../scaleway/simulator/testing.ts';

export interface Interaction {
  id?: number;
  request: { method: string; url: string; body?: string; headers?: Record<string, string[]> };
  response: { code: number; body?: string; headers?: Record<string, string[]> };
}

export function readCassette(sharedDir: string, file: string): Interaction[] {
  return (parse(readFileSync(join(sharedDir, file), 'utf8')) as { interactions: Interaction[] }).interactions;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const UUID_ONLY = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Objects whose keys are data (commercial types), compared through the shape of their values. */
const DATA_KEYED = new Set(['servers']);

/** Every key path of `recorded` missing in `simulated` and the reverse, as readable strings. */
export function keyDifferences(recorded: Json | undefined, simulated: Json | undefined, path = '$', dataKeyed = false): string[] {
  if (isObject(recorded) && isObject(simulated)) {
    if (dataKeyed) {
      // Older recordings page a different catalog: with no type in common, compare first entries.
      const sample = Object.keys(recorded).find((key) => key in simulated);
      if (sample !== undefined) return keyDifferences(recorded[sample], simulated[sample], `${path}.<${sample}>`);
      const [recordedFirst] = Object.values(recorded);
      const [simulatedFirst] = Object.values(simulated);
      return keyDifferences(recordedFirst, simulatedFirst, `${path}.<first>`);
    }
    const problems: string[] = [];
    for (const key of Object.keys(recorded)) {
      if (!(key in simulated)) problems.push(`${path}.${key}: missing in the simulator`);
      else problems.push(...keyDifferences(recorded[key], simulated[key], `${path}.${key}`, DATA_KEYED.has(key) && path === '$'));
    }
    for (const key of Object.keys(simulated)) if (!(key in recorded)) problems.push(`${path}.${key}: only in the simulator`);
    return problems;
  }
  if (Array.isArray(recorded) && Array.isArray(simulated)) {
    if (recorded.length === 0 || simulated.length === 0) return [];
    return keyDifferences(recorded[0], simulated[0], `${path}[0]`);
  }
  const kind = (value: Json | undefined): string => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);
  if (isObject(recorded) !== isObject(simulated) || Array.isArray(recorded) !== Array.isArray(simulated)) {
    return [`${path}: recorded ${kind(recorded)}, simulator ${kind(simulated)}`];
  }
  return [];
}

/** Learns recorded id -> simulator id from two answers of the same call. */
function learnIds(recorded: Json | undefined, simulated: Json | undefined, ids: Map<string, string>): void {
  if (typeof recorded === 'string' && typeof simulated === 'string') {
    if (UUID_ONLY.test(recorded) && UUID_ONLY.test(simulated) && recorded !== simulated && !ids.has(recorded)) ids.set(recorded, simulated);
    return;
  }
  if (Array.isArray(recorded) && Array.isArray(simulated)) {
    recorded.forEach((item, index) => learnIds(item, simulated[index], ids));
    return;
  }
  if (isObject(recorded) && isObject(simulated)) {
    for (const key of Object.keys(recorded)) learnIds(recorded[key], simulated[key], ids);
  }
}

function mapIds(text: string, ids: Map<string, string>): string {
  return text.replace(UUID, (id) => ids.get(id) ?? id);
}

export interface ReplayOptions {
  /** Interactions whose path the simulator does not serve are skipped; so are these (predicate). */
  skip?: (interaction: Interaction) => boolean;
  /** Rewrites a recorded request body before sending (ids are mapped afterwards). */
  rewriteBody?: (interaction: Interaction, body: Json, sim: Simulator) => Json;
  /** Drops parts of a recorded answer the simulator does not model, before comparing. */
  trimRecorded?: (interaction: Interaction, body: Json) => Json;
  /** Compare JSON bodies and list headers exactly (the simulator's catalog is this recording's). */
  exactCatalog?: boolean;
  /** Keys the simulator may add because the recording predates them. */
  tolerateExtraKeys?: string[];
}

export interface ReplayResult {
  replayed: number;
  skipped: string[];
  differences: string[];
}

function header(headers: Record<string, string[]> | undefined, name: string): string | undefined {
  const entry = Object.entries(headers ?? {}).find(([key]) => key.toLowerCase() === name.toLowerCase());
  return entry?.[1][0];
}

export async function replay(interactions: Interaction[], options: ReplayOptions = {}): Promise<ReplayResult> {
  const firstDate = header(interactions[0]?.response.headers, 'Date');
  const clock = createManualClock(firstDate ? Date.parse(firstDate) : Date.now());
  const sim = await startSimulator({ profile: 'recorded', clock, requestLatency: false, defaultProjectId: TEST_CREDENTIALS.projectId });
  const ids = new Map<string, string>();
  const result: ReplayResult = { replayed: 0, skipped: [], differences: [] };
  try {
    for (const [index, interaction] of interactions.entries()) {
      const recordedUrl = new URL(interaction.request.url);
      const label = `#${interaction.id ?? index} ${interaction.request.method} ${recordedUrl.pathname}`;
      const served = 'route' in matchRoute(interaction.request.method, recordedUrl.pathname);
      if (!served || options.skip?.(interaction)) {
        result.skipped.push(label);
        continue;
      }
      const date = header(interaction.response.headers, 'Date');
      if (date && Date.parse(date) > clock.now()) clock.set(Date.parse(date));

      const requestType = header(interaction.request.headers, 'Content-Type');
      let body = interaction.request.body ?? '';
      if (body !== '' && requestType === 'application/json') {
        let parsed = JSON.parse(body) as Json;
        if (options.rewriteBody) parsed = options.rewriteBody(interaction, parsed, sim);
        body = JSON.stringify(parsed);
      }
      const response = await fetch(`${sim.url}${mapIds(recordedUrl.pathname + recordedUrl.search, ids)}`, {
        method: interaction.request.method,
        headers: { 'X-Auth-Token': TEST_CREDENTIALS.secretKey, ...(requestType ? { 'Content-Type': requestType } : {}) },
        body: body === '' ? undefined : mapIds(body, ids),
      });
      const text = await response.text();
      result.replayed += 1;

      const problems: string[] = [];
      if (response.status !== interaction.response.code) problems.push(`status ${response.status}, recorded ${interaction.response.code}: ${text.slice(0, 300)}`);
      const recordedType = header(interaction.response.headers, 'Content-Type');
      if (recordedType && response.headers.get('content-type') !== recordedType) {
        problems.push(`content-type ${response.headers.get('content-type')}, recorded ${recordedType}`);
      }
      const recordedText = interaction.response.body ?? '';
      if (recordedType === 'application/json' && recordedText !== '' && response.status === interaction.response.code) {
        let recorded = JSON.parse(recordedText) as Json;
        if (options.trimRecorded) recorded = options.trimRecorded(interaction, recorded);
        const simulated = JSON.parse(text) as Json;
        learnIds(recorded, simulated, ids);
        if (options.exactCatalog && recordedUrl.pathname.includes('/products/servers')) {
          if (JSON.stringify(recorded) !== text) problems.push('body differs from the recorded catalog page');
          for (const name of ['X-Total-Count', 'Link']) {
            if (response.headers.get(name) !== header(interaction.response.headers, name)) {
              problems.push(`${name} ${response.headers.get(name)}, recorded ${header(interaction.response.headers, name)}`);
            }
          }
        }
        const tolerated = new Set(options.tolerateExtraKeys ?? []);
        problems.push(...keyDifferences(recorded, simulated).filter((problem) => {
          const match = /\.([^.]+): only in the simulator$/.exec(problem);
          return !(match?.[1] && tolerated.has(match[1]));
        }));
        if (isObject(recorded) && isObject(simulated) && isObject(recorded.server) && isObject(simulated.server)) {
          for (const field of ['state', 'state_detail', 'commercial_type']) {
            if (recorded.server[field] !== simulated.server[field]) {
              problems.push(`server.${field} ${JSON.stringify(simulated.server[field])}, recorded ${JSON.stringify(recorded.server[field])}`);
            }
          }
        }
      } else if (recordedType === 'text/plain' && response.status === 200 && text !== recordedText) {
        problems.push(`text body ${JSON.stringify(text)}, recorded ${JSON.stringify(recordedText)}`);
      }
      for (const problem of problems) result.differences.push(`${label}: ${problem}`);
    }
  } finally {
    await sim.close();
  }
  return result;
}
