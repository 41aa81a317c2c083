// WHOOP collections: newest first by start, [start, end) overlap filter, `limit` <= 25, an opaque
// `next_token` in the response and `nextToken` in the request.

export const DEFAULT_LIMIT = 10;
export const MAX_LIMIT = 25;

export interface Interval {
  start: number;
  /** null while in progress (the current cycle) */
  end: number | null;
  /** tie-breaker for records with the same start */
  key: string;
}

interface Cursor {
  start: number;
  key: string;
}

export interface PageQuery {
  limit: number;
  start: number | undefined;
  end: number;
  cursor: Cursor | undefined;
  token: string | undefined;
}

export class PageQueryError extends Error {}

function encodeToken(resource: string, cursor: Cursor): string {
  return Buffer.from(JSON.stringify({ r: resource, s: cursor.start, k: cursor.key })).toString('base64url');
}

function decodeToken(resource: string, token: string): Cursor {
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      r?: unknown;
      s?: unknown;
      k?: unknown;
    };
    if (value.r === resource && typeof value.s === 'number' && typeof value.k === 'string') {
      return { start: value.s, key: value.k };
    }
  } catch {
    // falls through to the error below
  }
  throw new PageQueryError('nextToken is not a token from this collection');
}

function parseTime(name: string, value: unknown): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new PageQueryError(`${name} must be an ISO-8601 date-time`);
  return ms;
}

/** Parses `limit`, `start`, `end` and `nextToken`; `next_token` in a request is ignored, as at WHOOP. */
export function parsePageQuery(resource: string, query: Record<string, unknown>, now: number): PageQuery {
  let limit = DEFAULT_LIMIT;
  if (query.limit !== undefined) {
    if (typeof query.limit !== 'string' || !/^\d+$/.test(query.limit))
      throw new PageQueryError('limit must be an integer');
    limit = Number(query.limit);
    if (limit < 1 || limit > MAX_LIMIT) throw new PageQueryError(`limit must be between 1 and ${MAX_LIMIT}`);
  }
  const token = typeof query.nextToken === 'string' && query.nextToken !== '' ? query.nextToken : undefined;
  return {
    limit,
    start: parseTime('start', query.start),
    end: parseTime('end', query.end) ?? now,
    cursor: token ? decodeToken(resource, token) : undefined,
    token,
  };
}

export function paginate<T>(
  resource: string,
  items: T[],
  intervalOf: (item: T) => Interval,
  query: PageQuery,
): { records: T[]; next_token?: string } {
  const rows = items
    .map((item) => ({ item, i: intervalOf(item) }))
    .filter(
      ({ i }) => i.start < query.end && (query.start === undefined || i.end === null || i.end > query.start),
    )
    .sort((a, b) => b.i.start - a.i.start || (b.i.key < a.i.key ? -1 : b.i.key > a.i.key ? 1 : 0));
  const { cursor } = query;
  const after = cursor
    ? rows.filter(({ i }) => i.start < cursor.start || (i.start === cursor.start && i.key < cursor.key))
    : rows;
  const page = after.slice(0, query.limit);
  const last = page.at(-1);
  const result: { records: T[]; next_token?: string } = { records: page.map((r) => r.item) };
  if (after.length > query.limit && last)
    result.next_token = encodeToken(resource, { start: last.i.start, key: last.i.key });
  return result;
}
