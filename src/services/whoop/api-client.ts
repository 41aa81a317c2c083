// WHOOP Data API v2 reads for the sync engine: every request reserves a slot in the shared rate
// budget, has its own timeout, and is retried with backoff and jitter on 5xx, timeouts and network
// errors. A 429 blocks the budget until WHOOP's reset; a 401 goes back to the caller (one refresh,
// one retry). Bearer tokens are values passed in: never logged, never put in an error.
// Every call is counted by endpoint pattern and logged on the caller's logger (a sync run's carries
// the request id, run and connection) with its status, duration and WHOOP's X-RateLimit-* values.
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import type { LogSink } from '../logger.ts';
import { endpointPattern, logCall, recordCall } from './call-telemetry.ts';
import { WhoopApiError, WhoopUnavailableError } from './client.ts';
import type { BudgetPriority, RateBudget } from './rate-budget.ts';
import { parseRateLimitHeaders } from './rate-limit-headers.ts';
import type { WhoopSettings } from './settings.ts';
import { RepeatedPageTokenError, WhoopUnauthorizedError } from './sync/errors.ts';
import type { SyncMetrics } from './sync/metrics.ts';
import { backoffMs, wait } from './sync/wait.ts';

/** What one sync run spent on HTTP; stored on the run for operators. */
export interface HttpStats {
  requests: number;
  retries: number;
  rateLimited: number;
  budgetWaits: number;
}

export function emptyHttpStats(): HttpStats {
  return { requests: 0, retries: 0, rateLimited: 0, budgetWaits: 0 };
}

export interface CallContext {
  priority: BudgetPriority;
  stats: HttpStats;
  signal?: AbortSignal | undefined;
  /** one line per WHOOP call goes here (never a token or a header other than X-RateLimit-*) */
  log?: LogSink | undefined;
}

export interface ApiClientOptions {
  settings: Pick<WhoopSettings, 'apiBaseUrl'>;
  budget: RateBudget;
  timeoutMs: number;
  /** attempts after the first on 5xx / timeout / network error (default 5) */
  maxRetries?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  random?: () => number;
  metrics?: SyncMetrics | undefined;
}

/** WHOOP's maximum page size. */
export const PAGE_LIMIT = 25;
// A listing longer than this is a WHOOP bug, not a member's history (25 x 2000 records).
const MAX_PAGES = 2000;
// 429s on one request before giving up (each one already waited for WHOOP's reset).
const MAX_RATE_LIMITED = 10;

type Query = Record<string, string>;

export type GetResult = { status: 200; body: unknown } | { status: 404 };

export interface CollectionPage {
  /** records as WHOOP sent them: the caller validates each one */
  records: unknown[];
}

export function createWhoopApiClient(options: ApiClientOptions) {
  const { budget, timeoutMs } = options;
  const maxRetries = options.maxRetries ?? 5;
  const baseMs = options.backoffBaseMs ?? 250;
  const maxMs = options.backoffMaxMs ?? 8000;
  const random = options.random ?? Math.random;
  const metrics = options.metrics;

  async function sendOnce(url: string, accessToken: string, context: CallContext) {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = context.signal ? AbortSignal.any([timeout, context.signal]) : timeout;
    const response = await request(url, {
      method: 'GET',
      headers: {
        authorization: `Bearer ${accessToken}`,
        accept: 'application/json',
        'user-agent': 'health-tracker',
      },
      signal,
    });
    const text = await response.body.text();
    return { status: response.statusCode, headers: response.headers, text };
  }

  /** One GET with budget, timeout, retries and 429 handling; 200 and 404 come back, the rest throws. */
  async function get(what: string, path: string, query: Query, accessToken: string, context: CallContext) {
    const url = `${options.settings.apiBaseUrl}${path}${Object.keys(query).length ? `?${new URLSearchParams(query)}` : ''}`;
    const endpoint = endpointPattern(path);
    let failures = 0;
    let rateLimited = 0;
    for (let attempt = 1; ; attempt++) {
      await budget.acquire({
        priority: context.priority,
        signal: context.signal,
        log: context.log,
        onWait: () => {
          context.stats.budgetWaits += 1;
        },
      });
      context.stats.requests += 1;
      let outcome: Awaited<ReturnType<typeof sendOnce>> | undefined;
      let detail: string;
      const startedAt = performance.now();
      try {
        outcome = await sendOnce(url, accessToken, context);
        detail = `HTTP ${outcome.status}`;
      } catch (error) {
        // Shutting down is not a WHOOP failure: let it through untouched.
        if (context.signal?.aborted) throw error;
        detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        recordCall(metrics, endpoint, undefined, error);
        logCall(context.log, {
          method: 'GET',
          endpoint,
          status: undefined,
          durationMs: Math.round(performance.now() - startedAt),
          attempt,
          error,
        });
      }
      if (outcome) {
        recordCall(metrics, endpoint, outcome.status);
        logCall(context.log, {
          method: 'GET',
          endpoint,
          status: outcome.status,
          durationMs: Math.round(performance.now() - startedAt),
          attempt,
          headers: outcome.headers,
        });
        const report = parseRateLimitHeaders(outcome.headers);
        if (outcome.status === 429) {
          context.stats.rateLimited += 1;
          rateLimited += 1;
          await budget.blockAfter429(report, context.log);
          if (rateLimited > MAX_RATE_LIMITED)
            throw new WhoopUnavailableError(what, 'rate limited again and again', 429);
          continue;
        }
        if (report) await budget.reconcile(report);
        if (outcome.status === 200) {
          try {
            return { status: 200, body: JSON.parse(outcome.text) as unknown } as const;
          } catch {
            detail = 'a body that is not JSON';
          }
        } else if (outcome.status === 404) {
          return { status: 404 } as const;
        } else if (outcome.status === 401) {
          throw new WhoopUnauthorizedError(what);
        } else if (outcome.status < 500) {
          throw new WhoopApiError(what, outcome.status);
        }
      }
      failures += 1;
      if (failures > maxRetries) throw new WhoopUnavailableError(what, detail, outcome?.status);
      context.stats.retries += 1;
      await wait(backoffMs(failures - 1, baseMs, maxMs, random), context.signal);
    }
  }

  return {
    get,

    /**
     * Pages through a collection newest first (limit 25; `nextToken` in, `next_token` out), handing
     * each page to `onPage` before asking for the next, so a crash loses at most one page of work.
     */
    async listCollection(
      what: string,
      path: string,
      start: Date,
      call: <T>(send: (accessToken: string) => Promise<T>) => Promise<T>,
      context: CallContext,
      onPage: (page: CollectionPage) => Promise<void>,
    ): Promise<{ pages: number }> {
      const seen = new Set<string>();
      let nextToken: string | undefined;
      let pages = 0;
      do {
        // Same start and limit on every page, as WHOOP expects; only the token changes.
        const query: Query = { limit: String(PAGE_LIMIT), start: start.toISOString() };
        if (nextToken) query.nextToken = nextToken;
        const result = await call((token) => get(what, path, query, token, context));
        if (result.status !== 200) throw new WhoopApiError(what, result.status);
        const body = result.body as { records?: unknown; next_token?: unknown } | null;
        if (!body || !Array.isArray(body.records))
          throw new WhoopUnavailableError(what, 'a page without records', 200);
        pages += 1;
        await onPage({ records: body.records });
        const next =
          typeof body.next_token === 'string' && body.next_token !== '' ? body.next_token : undefined;
        if (next && seen.has(next)) throw new RepeatedPageTokenError(what);
        if (next) seen.add(next);
        if (pages >= MAX_PAGES && next) throw new RepeatedPageTokenError(what);
        nextToken = next;
      } while (nextToken);
      return { pages };
    },
  };
}

export type WhoopApiClient = ReturnType<typeof createWhoopApiClient>;
