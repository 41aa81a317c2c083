// WHOOP webhooks. Receiving: verify the signature over the raw bytes, refuse stale timestamps, then
// in one short transaction keep the event (deduplicated on trace_id), note when the connection last
// heard from WHOOP, and enqueue the connection's webhook job: the HTTP answer never waits for WHOOP.
// Processing (the job): the connection's pending events, coalesced per record, each read by id
// through the sync engine (the same parsing, raw archive and upserts as a listing) or applied as a
// deletion. Deletions are final at WHOOP (ids are never reused), so order of delivery does not matter:
// a late update of a deleted record reads 404 and leaves it deleted.
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import type { DatabasePool } from '../../db/pool.ts';
import { sql } from '../../db/sql.ts';
import type { Logger, LogSink } from '../../logger.ts';
import { emptyHttpStats } from '../api-client.ts';
import { WEBHOOK_EVENT_TYPES, webhookEventSchema } from '../schemas.ts';
import { timestampFresh, verifyWebhookSignature } from '../webhook-signature.ts';
import type { PassContext, SyncEngine, SyncTarget } from './engine.ts';
import { ReauthRequiredError } from './errors.ts';
import type { SyncMetrics } from './metrics.ts';

export const WHOOP_WEBHOOK_TASK = 'whoop_webhook';
/** How far a signature timestamp may be from our clock, either way. */
export const WEBHOOK_TOLERANCE_MS = 5 * 60_000;
/** WHOOP's events are about 150 bytes; anything near this is not one. */
export const WEBHOOK_BODY_LIMIT = 4096;
// WHOOP sends a burst per change (sleep.updated, then recovery.updated): wait a moment, read once.
const COALESCE_MS = 1000;
// Above scheduled syncs (10) and first syncs (0), below a person pressing Sync now (-10).
const WEBHOOK_JOB_PRIORITY = -5;
const BATCH = 100;

export type ReceiveResult =
  | { status: 401; reason: 'missing signature' | 'bad signature' | 'stale timestamp' }
  | { status: 400; reason: 'not a WHOOP event' }
  | { status: 204; outcome: 'accepted' | 'duplicate' | 'unknown member' | 'not live' | 'unknown type' };

export interface ReceiveInput {
  rawBody: Buffer;
  timestamp: string | undefined;
  signature: string | undefined;
  log: LogSink;
}

const connectionRow = z.object({ id: z.number(), status: z.string() });
const insertedRow = z.object({ id: z.number() });
const liveRow = z.object({
  status: z.string(),
  user_id: z.number(),
  provider_account_id: z.string().nullable(),
  watermarks: z.record(z.string(), z.string()),
});
const eventRow = z.object({ id: z.number(), event_type: z.string(), record_id: z.string() });

type Family = 'sleep' | 'workout';
interface RecordWork {
  domain: Family;
  id: string;
  read: boolean;
  withRecovery: boolean;
  deletions: Array<'sleep' | 'workout' | 'recovery'>;
  eventIds: number[];
}

/** The pending events of a connection, one unit of work per record (recovery events name their sleep). */
function coalesce(events: ReadonlyArray<z.infer<typeof eventRow>>): RecordWork[] {
  const work = new Map<string, RecordWork>();
  for (const event of events) {
    const [kind, verb] = event.event_type.split('.') as ['sleep' | 'workout' | 'recovery', string];
    const domain: Family = kind === 'workout' ? 'workout' : 'sleep';
    const key = `${domain}:${event.record_id}`;
    const item = work.get(key) ?? {
      domain,
      id: event.record_id,
      read: false,
      withRecovery: false,
      deletions: [],
      eventIds: [],
    };
    item.eventIds.push(event.id);
    if (verb === 'deleted') item.deletions.push(kind);
    else {
      item.read = true;
      if (kind === 'recovery') item.withRecovery = true;
    }
    work.set(key, item);
  }
  return [...work.values()];
}

export function createWebhooks(deps: {
  pool: DatabasePool;
  logger: Logger;
  provider: string;
  /** the client secret WHOOP signs with; undefined when WHOOP is not configured */
  clientSecret: string | undefined;
  engine: SyncEngine | undefined;
  metrics?: SyncMetrics | undefined;
  now?: () => number;
}) {
  const { pool, provider } = deps;
  const now = deps.now ?? Date.now;

  async function enqueue(db: CommonQueryMethods, connectionId: number) {
    const key = `${WHOOP_WEBHOOK_TASK}:${connectionId}`;
    await db.query(sql.typeAlias('void')`
      SELECT FROM graphile_worker.add_job(
        identifier => ${WHOOP_WEBHOOK_TASK},
        payload => ${sql.json({ connectionId })},
        queue_name => ${key},
        run_at => now() + ${COALESCE_MS}::int * interval '1 millisecond',
        priority => ${WEBHOOK_JOB_PRIORITY},
        job_key => ${key},
        job_key_mode => 'preserve_run_at'
      )
    `);
  }

  async function markProcessed(ids: readonly number[], outcome: string) {
    await pool.query(sql.typeAlias('void')`
      UPDATE integration_webhook_event SET processed_at = now(), outcome = ${outcome}
      WHERE id = ANY(${sql.array([...ids], 'int8')})
    `);
  }

  async function receiveOnce(input: ReceiveInput): Promise<ReceiveResult> {
    const { log } = input;
    if (!deps.clientSecret || !input.timestamp || !input.signature)
      return { status: 401, reason: 'missing signature' };
    const signature = {
      secret: deps.clientSecret,
      timestamp: input.timestamp,
      rawBody: input.rawBody,
      signature: input.signature,
    };
    if (!verifyWebhookSignature(signature)) return { status: 401, reason: 'bad signature' };
    if (!timestampFresh(input.timestamp, now(), WEBHOOK_TOLERANCE_MS))
      return { status: 401, reason: 'stale timestamp' };
    let body: unknown;
    try {
      body = JSON.parse(input.rawBody.toString('utf8'));
    } catch {
      return { status: 400, reason: 'not a WHOOP event' };
    }
    const type = (body as { type?: unknown } | null)?.type;
    if (typeof type === 'string' && !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(type)) {
      // A type WHOOP added after this code: nothing to fetch, and no reason for WHOOP to retry.
      log.info({ type: type.slice(0, 64) }, 'whoop webhook: unknown event type ignored');
      return { status: 204, outcome: 'unknown type' };
    }
    const parsed = webhookEventSchema.safeParse(body);
    if (!parsed.success) return { status: 400, reason: 'not a WHOOP event' };
    const event = parsed.data;
    const fields = { whoopUserId: event.user_id, type: event.type, traceId: event.trace_id };
    const outcome = await pool.transaction(async (tx) => {
      const connection = await tx.maybeOne(sql.type(connectionRow)`
        SELECT id, status FROM integration_connection
        WHERE provider = ${provider} AND provider_account_id = ${String(event.user_id)} AND status <> 'disconnected'
      `);
      if (!connection) return 'unknown member' as const;
      await tx.query(sql.typeAlias('void')`
        UPDATE integration_connection SET last_webhook_at = now() WHERE id = ${connection.id}
      `);
      if (connection.status === 'reauth_required') return 'not live' as const;
      const inserted = await tx.maybeOne(sql.type(insertedRow)`
        INSERT INTO integration_webhook_event (provider, connection_id, trace_id, event_type, record_id)
        VALUES (${provider}, ${connection.id}, ${event.trace_id}, ${event.type}, ${event.id})
        ON CONFLICT ON CONSTRAINT integration_webhook_event_trace_key DO NOTHING
        RETURNING id
      `);
      if (!inserted) return 'duplicate' as const;
      await enqueue(tx, connection.id);
      return 'accepted' as const;
    });
    if (outcome === 'accepted') log.info(fields, 'whoop webhook: accepted');
    else log.info({ ...fields, outcome }, 'whoop webhook: nothing to do');
    return { status: 204, outcome };
  }

  return {
    /** One POST from WHOOP. Nothing is stored unless the signature and timestamp hold. */
    async receive(input: ReceiveInput): Promise<ReceiveResult> {
      const result = await receiveOnce(input);
      const outcome = result.status === 204 ? result.outcome.replace(' ', '_') : 'refused';
      deps.metrics?.webhooksReceived.inc({ outcome });
      return result;
    },

    /** The whoop_webhook task: every pending event of the connection. Idempotent. */
    async processConnection(
      connectionId: number,
      options: { log?: Logger; signal?: AbortSignal | undefined } = {},
    ): Promise<{ processed: number }> {
      const engine = deps.engine;
      if (!engine) throw new Error('WHOOP is not configured: webhooks cannot be processed');
      const log = (options.log ?? deps.logger).child({ component: 'webhooks', connectionId });
      let processed = 0;
      for (;;) {
        const events = await pool.any(sql.type(eventRow)`
          SELECT id, event_type, record_id FROM integration_webhook_event
          WHERE connection_id = ${connectionId} AND processed_at IS NULL
          ORDER BY id LIMIT ${BATCH}
        `);
        if (events.length === 0) return { processed };
        const connection = await pool.maybeOne(sql.type(liveRow)`
          SELECT status, user_id, provider_account_id, watermarks FROM integration_connection WHERE id = ${connectionId}
        `);
        const ids = events.map((event) => event.id);
        if (
          !connection?.provider_account_id ||
          ['disconnected', 'reauth_required'].includes(connection.status)
        ) {
          log.info({ events: ids.length }, 'whoop webhook: connection not live, events skipped');
          await markProcessed(ids, 'skipped');
          return { processed: processed + ids.length };
        }
        const target: SyncTarget = {
          connectionId,
          userId: connection.user_id,
          memberId: connection.provider_account_id,
          watermarks: connection.watermarks,
        };
        const context: PassContext = {
          priority: 'interactive',
          stats: emptyHttpStats(),
          signal: options.signal,
          log,
          counts: {},
          progress: async () => {},
        };
        for (const item of coalesce(events)) {
          let outcome: string = 'deleted';
          try {
            if (item.read)
              outcome = await engine.refreshRecord(
                target,
                { domain: item.domain, id: item.id, withRecovery: item.withRecovery },
                context,
              );
          } catch (error) {
            if (!(error instanceof ReauthRequiredError)) throw error;
            log.warn('whoop webhook: the grant is dead, events skipped until the member reconnects');
            await markProcessed(ids, 'skipped');
            return { processed: processed + ids.length };
          }
          for (const domain of item.deletions) await engine.applyDeletion(target, domain, item.id);
          await markProcessed(item.eventIds, outcome);
          log.info(
            { domain: item.domain, events: item.eventIds.length, outcome },
            'whoop webhook: processed',
          );
        }
        processed += ids.length;
      }
    },
  };
}

export type Webhooks = ReturnType<typeof createWebhooks>;
