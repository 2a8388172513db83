// Instance API list paging: ?page=&per_page= with X-Total-Count and a Link header in the recorded form,
// e.g. `</products/servers?page=2&per_page=50&>; rel="next",</products/servers?page=3&per_page=50&>; rel="last"`.
import { constraintArgument, invalidArguments } from './errors.ts';

export const DEFAULT_PER_PAGE = 50;
export const MAX_PER_PAGE = 100;

export interface PageRequest {
  page: number;
  perPage: number;
}

function positiveInteger(query: URLSearchParams, name: string, fallback: number, max: number): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw invalidArguments([constraintArgument(name, `must be an integer between 1 and ${max}`)]);
  }
  return value;
}

export function readPage(query: URLSearchParams, sizeParam = 'per_page'): PageRequest {
  return {
    page: positiveInteger(query, 'page', 1, Number.MAX_SAFE_INTEGER),
    perPage: positiveInteger(query, sizeParam, DEFAULT_PER_PAGE, MAX_PER_PAGE),
  };
}

export function slicePage<T>(items: readonly T[], { page, perPage }: PageRequest): T[] {
  return items.slice((page - 1) * perPage, page * perPage);
}

/** The Link header for a list at `resourcePath` (relative to the zone, e.g. /products/servers). */
export function linkHeader(resourcePath: string, total: number, { page, perPage }: PageRequest): string {
  const last = Math.max(1, Math.ceil(total / perPage));
  const link = (target: number, rel: string): string => `<${resourcePath}?page=${target}&per_page=${perPage}&>; rel="${rel}"`;
  const links: string[] = [];
  if (page > 1) {
    links.push(link(1, 'first'), link(Math.min(page - 1, last), 'previous'));
  }
  if (page < last) links.push(link(page + 1, 'next'));
  links.push(link(last, 'last'));
  return links.join(',');
}

export function pagingHeaders(resourcePath: string, total: number, request: PageRequest): Record<string, string> {
  return { 'X-Total-Count': String(total), Link: linkHeader(resourcePath, total, request) };
}
