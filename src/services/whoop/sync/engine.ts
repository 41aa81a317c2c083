// One sync pass over a connection: profile, body measurement, then each collection from its
// watermark minus the lookback (or the backfill horizon on a first sync). Every page is validated
// record by record and stored in its own transaction together with the run's progress; a domain's
// watermark moves only after all of its pages are committed, so a crash anywhere loses nothing and
// the next pass redoes at most the unfinished domain.
import { z } from 'zod';
import type { DatabasePool } from '../../db/pool.ts';
import { sql } from '../../db/sql.ts';
import type { Logger } from '../../logger.ts';
import type { AccessTokens, TokenRequestContext } from '../access-tokens.ts';
import type { CallContext, CollectionPage, WhoopApiClient } from '../api-client.ts';
import { WhoopApiError } from '../client.ts';
import { bodyMeasurementSchema, profileSchema } from '../schemas.ts';
import { withoutNul } from './canonical-json.ts';
import {
  bestEffortId,
  COLLECTIONS,
  type CollectionDomain,
  DOMAIN_ORDER,
  describeIssues,
  INVALID_ID_PREFIX,
} from './collections.ts';
import { RepeatedPageTokenError, WhoopUnauthorizedError } from './errors.ts';
import type { SyncMetrics } from './metrics.ts';
import { bodyRow } from './normalize.ts';
import { FULL_PASS, type PassPlan, WEBHOOK_ERA_WINDOW_MS } from './plan.ts';
import {
  lockConnectionWrites,
  markDeleted,
  markRecoveriesOfSleepsDeleted,
  type NormalizedType,
  type Owner,
  type RawRecord,
  reconcileListing,
  storeNormalized,
  storeRaw,
} from './record-store.ts';
import { type Domain, type DomainCounts, emptyCounts } from './runs.ts';

const DAY_MS = 86_400_000;
// PENDING_SCORE records are fetched again until scored, but not forever: WHOOP scores within hours
// of the strap's upload, and a record still pending after two weeks is stuck (the simulator has those).
const PENDING_REFETCH_DAYS = 14;
// A cached access token is re-checked (and refreshed ahead of expiry) this often during a pass.
const TOKEN_RECHECK_MS = 60_000;

const pendingRow = z.object({ oldest: z.date().nullable() });
const clockRow = z.object({ now: z.date() });
// The collections webhooks report changes of (WHOOP sends none for cycles, profile or body).
const WEBHOOK_COVERED: ReadonlySet<Domain> = new Set(['sleep', 'recovery', 'workout']);

/** PostgreSQL refused the data itself (SQLSTATE class 22, data exception, or 23, integrity violation). */
function isDataRefusal(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current && typeof current === 'object' && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

export interface SyncTarget {
  connectionId: number;
  userId: number;
  /** WHOOP member id the connection was made with */
  memberId: string;
  watermarks: Record<string, string>;
  /** what this pass reads (default: everything, the collections from their watermarks) */
  plan?: PassPlan | undefined;
}

export interface PassContext extends CallContext {
  log: Logger;
  /** counts per domain, updated as pages commit */
  counts: Partial<Record<Domain, DomainCounts>>;
  /** writes progress in the page's transaction (no-op without a run row) */
  progress: (db: Parameters<typeof storeRaw>[0], domain: Domain) => Promise<void>;
}

export interface PassResult {
  /** domains that stopped with an error the other domains did not share */
  domainErrors: Partial<Record<Domain, string>>;
  rejected: number;
}

export interface EngineDeps {
  pool: DatabasePool;
  api: WhoopApiClient;
  tokens: AccessTokens;
  provider: string;
  backfillDays: number;
  lookbackDays: number;
  now?: () => number;
  metrics?: SyncMetrics | undefined;
}

function skipReason(domain: Domain, plan: PassPlan): string | undefined {
  if ((domain === 'profile' || domain === 'body_measurement') && !plan.profile) return 'read daily';
  if (WEBHOOK_COVERED.has(domain) && plan.covered === 'skip') return 'kept current by webhooks';
  return undefined;
}

export function createSyncEngine(deps: EngineDeps) {
  const { pool, api, tokens, provider } = deps;
  const now = deps.now ?? Date.now;

  /** Bearer calls with the token cached for the pass; a 401 gets one refresh and one retry. */
  function authorizedCaller(connectionId: number, context: PassContext) {
    const tokenContext: TokenRequestContext = {
      priority: context.priority,
      signal: context.signal,
      log: context.log,
      onRequest: () => {
        context.stats.requests += 1;
      },
    };
    let cached: { token: string; at: number } | undefined;
    return async <T>(send: (accessToken: string) => Promise<T>): Promise<T> => {
      if (!cached || now() - cached.at > TOKEN_RECHECK_MS) {
        cached = { token: await tokens.current(connectionId, tokenContext), at: now() };
      }
      const token = cached.token;
      try {
        return await send(token);
      } catch (error) {
        if (!(error instanceof WhoopUnauthorizedError)) throw error;
        context.log.info({ connectionId }, 'whoop sync: access token refused, refreshing once');
        cached = { token: await tokens.replace(connectionId, token, tokenContext), at: now() };
        return send(cached.token);
      }
    };
  }

  async function oldestPending(table: string, connectionId: number): Promise<number | undefined> {
    const cutoff = new Date(now() - PENDING_REFETCH_DAYS * DAY_MS);
    const value = await pool.maybeOneFirst(sql.type(pendingRow)`
      SELECT min(start_at) AS oldest FROM ${sql.identifier([table])}
      WHERE connection_id = ${connectionId} AND score_state = 'PENDING_SCORE' AND deleted_at IS NULL
        AND start_at >= ${sql.timestamp(cutoff)}
    `);
    return value ? value.getTime() : undefined;
  }

  /** Where a collection's listing starts this time. */
  async function windowStart(domain: CollectionDomain, target: SyncTarget): Promise<Date> {
    const horizon = now() - deps.backfillDays * DAY_MS;
    if (target.plan?.covered === 'short' && WEBHOOK_COVERED.has(domain))
      return new Date(Math.max(now() - WEBHOOK_ERA_WINDOW_MS, horizon));
    const mark = target.watermarks[domain];
    if (!mark) return new Date(horizon);
    let start = Date.parse(mark) - deps.lookbackDays * DAY_MS;
    const pending = await oldestPending(COLLECTIONS[domain].table, target.connectionId);
    if (pending !== undefined) start = Math.min(start, pending);
    return new Date(Math.max(start, horizon));
  }

  /**
   * Stores one batch (raw + normalized + progress) in one transaction, and counts it once committed.
   * When PostgreSQL refuses the data itself, the batch is stored again record by record: a refused
   * record is set aside (kept raw with the database's reason, counted as rejected) and the rest lands,
   * so one bad record never blocks a member's sync.
   */
  async function storeBatch(
    owner: Owner,
    domain: Domain,
    raw: RawRecord[],
    normalized: { type: NormalizedType; rows: Array<{ external_id: string }> } | undefined,
    fetched: number,
    rejected: number,
    context: PassContext,
  ) {
    const before = context.counts[domain] ?? emptyCounts();
    const count = (result: { inserted: number; updated: number; unchanged: number }, refused: number) => {
      context.counts[domain] = {
        ...before,
        fetched: before.fetched + fetched,
        inserted: before.inserted + result.inserted,
        updated: before.updated + result.updated,
        unchanged: before.unchanged + result.unchanged,
        rejected: before.rejected + rejected + refused,
      };
    };
    try {
      await pool.transaction(async (tx) => {
        // A lost page is fetched again, so its commit need not wait for the disk. Postgres still
        // commits in order: the watermark (a later, durable commit) never survives rows it counts on.
        await tx.query(sql.typeAlias('void')`SET LOCAL synchronous_commit = off`);
        await lockConnectionWrites(tx, owner.connectionId);
        await storeRaw(tx, owner.connectionId, domain, raw);
        const result = normalized
          ? await storeNormalized(tx, owner, normalized.type, normalized.rows)
          : { inserted: 0, updated: 0, unchanged: 0 };
        count(result, 0);
        await context.progress(tx, domain);
      });
    } catch (error) {
      // Nothing of the page was stored: its counts were not either.
      context.counts[domain] = before;
      if (!isDataRefusal(error) || !normalized) throw error;
      context.log.warn(
        { domain, err: error },
        'whoop sync: the database refused a page, storing it record by record',
      );
      await storeRecordByRecord(owner, domain, raw, normalized, count, context);
    }
    const after = context.counts[domain] ?? before;
    for (const action of ['inserted', 'updated', 'unchanged', 'rejected'] as const) {
      const delta = after[action] - before[action];
      if (delta > 0) deps.metrics?.recordsSynced.inc({ provider, domain, action }, delta);
    }
  }

  async function storeRecordByRecord(
    owner: Owner,
    domain: Domain,
    raw: RawRecord[],
    normalized: { type: NormalizedType; rows: Array<{ external_id: string }> },
    count: (result: { inserted: number; updated: number; unchanged: number }, refused: number) => void,
    context: PassContext,
  ) {
    await pool.transaction(async (tx) => {
      await lockConnectionWrites(tx, owner.connectionId);
      const total = { inserted: 0, updated: 0, unchanged: 0 };
      const refused: RawRecord[] = [];
      // Records that passed their schema have a normalized row each, in the same order.
      let next = 0;
      for (const record of raw) {
        const row = record.validationError === undefined ? normalized.rows[next++] : undefined;
        try {
          // A savepoint per record: a refusal undoes that record only.
          const result = await tx.transaction(async (savepoint) => {
            await storeRaw(savepoint, owner.connectionId, domain, [record]);
            return row
              ? storeNormalized(savepoint, owner, normalized.type, [row])
              : { inserted: 0, updated: 0, unchanged: 0 };
          });
          total.inserted += result.inserted;
          total.updated += result.updated;
          total.unchanged += result.unchanged;
        } catch (error) {
          if (!isDataRefusal(error)) throw error;
          const reason = error instanceof Error ? error.message : String(error);
          context.log.warn({ domain, externalId: record.externalId, reason }, 'whoop sync: record set aside');
          refused.push({ ...record, validationError: `refused by the database: ${reason}`.slice(0, 2000) });
        }
      }
      for (const record of refused) {
        try {
          await tx.transaction((savepoint) => storeRaw(savepoint, owner.connectionId, domain, [record]));
        } catch (error) {
          if (!isDataRefusal(error)) throw error;
          // Even the raw payload is refused: keep at least the fact, the id and the reason.
          const placeholder = { ...record, payload: { unstorable: true } };
          await storeRaw(tx, owner.connectionId, domain, [placeholder]);
        }
      }
      count(total, refused.length);
      await context.progress(tx, domain);
    });
  }

  async function finishDomain(domain: Domain, context: PassContext, error?: string) {
    context.counts[domain] = {
      ...(context.counts[domain] ?? emptyCounts()),
      done: true,
      ...(error ? { error } : {}),
    };
    await context.progress(pool, domain);
  }

  async function syncProfile(
    target: SyncTarget,
    owner: Owner,
    call: ReturnType<typeof authorizedCaller>,
    context: PassContext,
  ) {
    const result = await call((token) => api.get('profile', '/v2/user/profile/basic', {}, token, context));
    if (result.status !== 200) throw new WhoopApiError('profile', result.status);
    const parsed = profileSchema.safeParse(result.body);
    if (!parsed.success) {
      await storeBatch(
        owner,
        'profile',
        [
          {
            externalId: target.memberId,
            payload: result.body,
            validationError: describeIssues(parsed.error),
          },
        ],
        undefined,
        1,
        1,
        context,
      );
      return;
    }
    // The token must still belong to the member this connection was made with.
    if (String(parsed.data.user_id) !== target.memberId) {
      throw new WhoopApiError('profile (a different WHOOP member)', 409);
    }
    const name = `${parsed.data.first_name} ${parsed.data.last_name}`.trim();
    await pool.transaction(async (tx) => {
      await storeRaw(tx, owner.connectionId, 'profile', [
        { externalId: target.memberId, payload: result.body },
      ]);
      const renamed = name
        ? await tx.query(sql.typeAlias('void')`
            UPDATE integration_connection SET provider_account_name = ${name}, updated_at = now()
            WHERE id = ${owner.connectionId} AND provider_account_name IS DISTINCT FROM ${name}
          `)
        : { rowCount: 0 };
      await tx.query(sql.typeAlias('void')`
        UPDATE integration_connection SET profile_read_at = now() WHERE id = ${owner.connectionId}
      `);
      const renamedCount = renamed.rowCount > 0 ? 1 : 0;
      context.counts.profile = {
        ...emptyCounts(),
        fetched: 1,
        updated: renamedCount,
        unchanged: 1 - renamedCount,
      };
      await context.progress(tx, 'profile');
    });
    const action = context.counts.profile?.updated ? 'updated' : 'unchanged';
    deps.metrics?.recordsSynced.inc({ provider, domain: 'profile', action });
  }

  async function syncBody(
    target: SyncTarget,
    owner: Owner,
    call: ReturnType<typeof authorizedCaller>,
    context: PassContext,
  ) {
    const result = await call((token) =>
      api.get('body measurement', '/v2/user/measurement/body', {}, token, context),
    );
    // 404: the member never entered a measurement.
    if (result.status === 404) return;
    const parsed = bodyMeasurementSchema.safeParse(result.body);
    const raw: RawRecord = {
      externalId: target.memberId,
      payload: result.body,
      validationError: parsed.success ? undefined : describeIssues(parsed.error),
    };
    const rows = parsed.success ? [bodyRow(target.memberId, parsed.data)] : [];
    await storeBatch(
      owner,
      'body_measurement',
      [raw],
      { type: 'body_measurement', rows },
      1,
      parsed.success ? 0 : 1,
      context,
    );
  }

  async function syncCollection(
    domain: CollectionDomain,
    target: SyncTarget,
    owner: Owner,
    call: ReturnType<typeof authorizedCaller>,
    context: PassContext,
  ): Promise<string | undefined> {
    const spec = COLLECTIONS[domain];
    const since = await windowStart(domain, target);
    // A resumed run keeps what its earlier attempt counted.
    context.counts[domain] = { ...(context.counts[domain] ?? emptyCounts()), since: since.toISOString() };
    await context.progress(pool, domain);
    // Database time: rows a webhook stores while the listing runs are newer than this, and not judged.
    const listedFrom = await pool.oneFirst(sql.type(clockRow)`SELECT clock_timestamp() AS now`);
    const listedIds: string[] = [];
    let unidentified = false;
    let newest: string | undefined;
    const onPage = async (page: CollectionPage) => {
      const raw: RawRecord[] = [];
      const rows: Array<{ external_id: string }> = [];
      let rejected = 0;
      for (const record of page.records) {
        const parsed = spec.schema.safeParse(record);
        if (parsed.success) {
          const data = parsed.data as never;
          listedIds.push(spec.id(data));
          raw.push({ externalId: spec.id(data), payload: record });
          // Unread fields keep whatever WHOOP sent, minus the NUL PostgreSQL refuses (in extras).
          rows.push(spec.row(withoutNul(data)));
          const anchor = spec.anchor(data);
          if (!newest || Date.parse(anchor) > Date.parse(newest)) newest = anchor;
        } else {
          rejected += 1;
          deps.metrics?.apiErrors.inc({ endpoint: spec.path, kind: 'invalid_record' });
          const id = bestEffortId(record);
          if (id.startsWith(INVALID_ID_PREFIX)) unidentified = true;
          else listedIds.push(id);
          raw.push({
            externalId: id,
            payload: record,
            validationError: describeIssues(parsed.error),
          });
        }
      }
      await storeBatch(owner, domain, raw, { type: domain, rows }, page.records.length, rejected, context);
    };
    await api.listCollection(domain, spec.path, since, call, context, onPage);
    // The listing is complete: what it no longer holds is gone at WHOOP. A record whose id could not be
    // read might be any of them, so then nothing is judged this time.
    if (!unidentified) await reconcile(owner, domain, { since, listedFrom, listedIds }, context);
    return newest;
  }

  async function reconcile(
    owner: Owner,
    domain: CollectionDomain,
    window: Parameters<typeof reconcileListing>[3],
    context: PassContext,
  ) {
    await pool.transaction(async (tx) => {
      await lockConnectionWrites(tx, owner.connectionId);
      const gone = await reconcileListing(tx, owner.connectionId, domain, window);
      if (gone.length === 0) return;
      const counts = context.counts[domain] ?? emptyCounts();
      context.counts[domain] = { ...counts, deleted: (counts.deleted ?? 0) + gone.length };
      context.log.info(
        { domain, deleted: gone.length },
        'whoop sync: records WHOOP no longer lists marked deleted',
      );
      await context.progress(tx, domain);
    });
  }

  async function advanceWatermark(
    connectionId: number,
    domain: Domain,
    previous: string | undefined,
    newest: string | undefined,
  ) {
    if (!newest || (previous && Date.parse(previous) >= Date.parse(newest))) return;
    await pool.query(sql.typeAlias('void')`
      UPDATE integration_connection
      SET watermarks = watermarks || jsonb_build_object(${domain}::text, ${newest}::text), updated_at = now()
      WHERE id = ${connectionId}
    `);
  }

  /** Validates and stores one record WHOOP sent by id, as a listing's page would be stored. */
  async function storeFetched(
    owner: Owner,
    domain: 'sleep' | 'recovery' | 'workout',
    body: unknown,
    context: PassContext,
  ): Promise<{ outcome: 'stored'; data: Record<string, unknown> } | { outcome: 'rejected' }> {
    const spec = COLLECTIONS[domain];
    const parsed = spec.schema.safeParse(body);
    if (!parsed.success) {
      const raw = {
        externalId: bestEffortId(body),
        payload: body,
        validationError: describeIssues(parsed.error),
      };
      await storeBatch(owner, domain, [raw], { type: domain, rows: [] }, 1, 1, context);
      return { outcome: 'rejected' };
    }
    const data = parsed.data as never;
    const raw = { externalId: spec.id(data), payload: body };
    await storeBatch(
      owner,
      domain,
      [raw],
      { type: domain, rows: [spec.row(withoutNul(data))] },
      1,
      0,
      context,
    );
    return { outcome: 'stored', data: parsed.data as Record<string, unknown> };
  }

  async function markGone(owner: Owner, domain: 'sleep' | 'workout', id: string) {
    await pool.transaction(async (tx) => {
      await lockConnectionWrites(tx, owner.connectionId);
      await markDeleted(tx, owner.connectionId, domain, [id]);
    });
  }

  return {
    /**
     * A webhook said a sleep or workout changed: read it by id and store it like a listed one. 404 means
     * WHOOP deleted it since: it is marked deleted here too. With `withRecovery` (recovery.updated names
     * the sleep), the sleep's cycle's recovery is read and stored as well.
     */
    async refreshRecord(
      target: SyncTarget,
      request: { domain: 'sleep' | 'workout'; id: string; withRecovery?: boolean },
      context: PassContext,
    ): Promise<'stored' | 'gone' | 'rejected' | 'no recovery yet'> {
      const owner: Owner = { connectionId: target.connectionId, userId: target.userId, provider };
      const call = authorizedCaller(target.connectionId, context);
      const path = `${COLLECTIONS[request.domain].path}/${encodeURIComponent(request.id)}`;
      const found = await call((token) => api.get(request.domain, path, {}, token, context));
      if (found.status === 404) {
        await markGone(owner, request.domain, request.id);
        return 'gone';
      }
      const stored = await storeFetched(owner, request.domain, found.body, context);
      if (stored.outcome === 'rejected' || !request.withRecovery) return stored.outcome;
      const cycleId = Number(stored.data.cycle_id);
      const recovery = await call((token) =>
        api.get('recovery', `/v2/cycle/${cycleId}/recovery`, {}, token, context),
      );
      // Not scored yet: WHOOP sends recovery.updated again when it is.
      if (recovery.status === 404) return 'no recovery yet';
      return (await storeFetched(owner, 'recovery', recovery.body, context)).outcome;
    },

    /** WHOOP deleted a record (recovery: named by its sleep's id); deletions are final. */
    async applyDeletion(target: SyncTarget, domain: 'sleep' | 'workout' | 'recovery', id: string) {
      return pool.transaction(async (tx) => {
        await lockConnectionWrites(tx, target.connectionId);
        if (domain === 'recovery') return markRecoveriesOfSleepsDeleted(tx, target.connectionId, [id]);
        return markDeleted(tx, target.connectionId, domain, [id]);
      });
    },

    /**
     * One pass over every domain. Callers hold the connection's sync slot (see runner.ts); the
     * writes themselves are safe to interleave. WHOOP being down, a dead grant or a spent budget
     * stop the pass (thrown); a domain WHOOP refuses or pages wrongly stops only that domain.
     */
    async syncConnection(target: SyncTarget, context: PassContext): Promise<PassResult> {
      const owner: Owner = { connectionId: target.connectionId, userId: target.userId, provider };
      const call = authorizedCaller(target.connectionId, context);
      const domainErrors: PassResult['domainErrors'] = {};
      const plan = target.plan ?? FULL_PASS;
      for (const domain of DOMAIN_ORDER) {
        if (context.counts[domain]?.done) continue;
        const skipped = skipReason(domain, plan);
        if (skipped) {
          context.counts[domain] = { ...emptyCounts(), skipped };
          await finishDomain(domain, context);
          continue;
        }
        try {
          if (domain === 'profile') await syncProfile(target, owner, call, context);
          else if (domain === 'body_measurement') await syncBody(target, owner, call, context);
          else {
            const newest = await syncCollection(domain, target, owner, call, context);
            // Only now, with every page of the domain committed.
            await advanceWatermark(target.connectionId, domain, target.watermarks[domain], newest);
          }
          await finishDomain(domain, context);
        } catch (error) {
          const local =
            error instanceof RepeatedPageTokenError ||
            (error instanceof WhoopApiError && error.status !== 409);
          if (!local) throw error;
          context.log.warn(
            { connectionId: target.connectionId, domain, err: error },
            'whoop sync: domain stopped',
          );
          domainErrors[domain] = error.message;
          await finishDomain(domain, context, error.message);
        }
      }
      const rejected = Object.values(context.counts).reduce(
        (sum, counts) => sum + (counts?.rejected ?? 0),
        0,
      );
      const coveredListed = [...WEBHOOK_COVERED].every(
        (domain) => context.counts[domain]?.done && !context.counts[domain]?.skipped && !domainErrors[domain],
      );
      if (coveredListed) {
        await pool.query(sql.typeAlias('void')`
          UPDATE integration_connection SET covered_listed_at = now() WHERE id = ${target.connectionId}
        `);
      }
      return { domainErrors, rejected };
    },
  };
}

export type SyncEngine = ReturnType<typeof createSyncEngine>;
