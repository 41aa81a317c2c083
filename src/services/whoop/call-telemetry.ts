// What every call to WHOOP leaves behind: counters by endpoint pattern and status (never raw ids),
// and one log line with the status, duration and WHOOP's X-RateLimit-* values (never a token or any
// other header). Shared by the OAuth client, the Data API client and the token refresh.
import type { LogSink } from '../logger.ts';
import type { SyncMetrics } from './sync/metrics.ts';

/** WHOOP's token endpoint, as a label. */
export const TOKEN_ENDPOINT = '/oauth/oauth2/token';

const ID_SEGMENT = /^(\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

/** A path as a bounded label: `/v2/cycle/93845/sleep` -> `/v2/cycle/{id}/sleep`; no query string. */
export function endpointPattern(path: string): string {
  const bare = path.split('?')[0] ?? '';
  return bare
    .split('/')
    .map((segment) => (ID_SEGMENT.test(segment) ? '{id}' : segment))
    .join('/');
}

export type ApiMetrics = Pick<SyncMetrics, 'apiRequests' | 'apiErrors' | 'apiRateLimited'>;

/** Counts one answered (or unanswered: status undefined) WHOOP call by endpoint pattern, status and kind of failure. */
export function recordCall(
  metrics: ApiMetrics | undefined,
  endpoint: string,
  status: number | undefined,
  error?: unknown,
) {
  if (!metrics) return;
  metrics.apiRequests.inc({ endpoint, status: String(status ?? 0) });
  if (status === 429) metrics.apiRateLimited.inc();
  // TimeoutError / AbortError (our signal), HeadersTimeoutError / BodyTimeoutError (undici's own).
  const timedOut = error instanceof Error && /timeout|abort/i.test(error.name);
  let kind: string | undefined;
  if (status === undefined) kind = timedOut ? 'timeout' : 'network';
  else if (status >= 500) kind = 'server';
  else if (status >= 400 && status !== 404 && status !== 429) kind = 'client';
  if (kind) metrics.apiErrors.inc({ endpoint, kind });
}

type HeaderValue = string | string[] | undefined;

/** WHOOP's X-RateLimit-* headers as received (the only headers ever logged). */
export function rateLimitValues(headers: Record<string, HeaderValue> | undefined) {
  if (!headers) return undefined;
  const pick = (name: string) => {
    const value = headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  };
  const values = {
    limit: pick('x-ratelimit-limit'),
    remaining: pick('x-ratelimit-remaining'),
    reset: pick('x-ratelimit-reset'),
  };
  return values.limit === undefined && values.remaining === undefined && values.reset === undefined
    ? undefined
    : values;
}

/** One log line per WHOOP call: endpoint pattern, status (0: no answer), duration, rate-limit headers. */
export function logCall(
  log: LogSink | undefined,
  call: {
    method: string;
    endpoint: string;
    status: number | undefined;
    durationMs: number;
    attempt: number;
    headers?: Record<string, HeaderValue> | undefined;
    error?: unknown;
  },
) {
  if (!log) return;
  const status = call.status ?? 0;
  const line = {
    endpoint: call.endpoint,
    method: call.method,
    status,
    durationMs: call.durationMs,
    attempt: call.attempt,
    rateLimit: rateLimitValues(call.headers),
    // undici's errors name the failure (ECONNREFUSED, timeout), never a header or a body.
    ...(call.error instanceof Error ? { failure: `${call.error.name}: ${call.error.message}` } : {}),
  };
  const message = `whoop api: ${call.method} ${call.endpoint} ${status || 'no answer'}`;
  if (status === 0 || status >= 500 || status === 429) log.warn(line, message);
  else log.info(line, message);
}
