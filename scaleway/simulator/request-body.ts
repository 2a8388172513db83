// Reading request bodies the way the API does: JSON objects for most calls, text/plain for user data.
import { invalidRequest } from './errors.ts';

export type JsonRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The JSON object body of a call; an empty body is an empty object. */
export function jsonBody(rawBody: string): JsonRecord {
  if (rawBody.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawBody);
  } catch {
    throw invalidRequest('the request body is not valid JSON');
  }
  if (!isRecord(parsed)) throw invalidRequest('the request body must be a JSON object');
  return parsed;
}

export function optionalString(body: JsonRecord, key: string): string | undefined {
  const value = body[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function stringList(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.filter((item): item is string => typeof item === 'string');
}

/** Query list parameters: comma-separated (Instance API) or repeated (block API) forms. */
export function queryList(query: URLSearchParams, name: string): string[] {
  return query.getAll(name).flatMap((value) => value.split(',')).map((value) => value.trim()).filter((value) => value !== '');
}
