// Re-seals every integration_token row that is not under the current key. Online and restartable:
// each batch is its own transaction over rows taken with FOR UPDATE SKIP LOCKED, so a refresh in
// flight keeps its row and an interrupted run leaves every row either old-and-valid or new-and-valid.
import { z } from 'zod';
import type { DatabasePool } from '../db/pool.ts';
import { sql } from '../db/sql.ts';
import type { LogSink as Logger } from '../logger.ts';
import type { TokenKeys } from '../token-keys.ts';
import {
  sealedOf,
  sealedTokenColumns,
  sealedTokenRow,
  tokenContext,
  writeSealedToken,
} from './token-store.ts';

export interface RotationOptions {
  /** rows per transaction (default 100) */
  batchSize?: number;
  /** stop after this many batches (default: until done) */
  maxBatches?: number;
  /** checked between batches: the current batch always finishes */
  signal?: AbortSignal;
  log?: Logger;
}

export interface RotationResult {
  resealed: number;
  batches: number;
  /** rows still under an older key (locked by a refresh in flight, or the run was stopped) */
  remaining: number;
  current: { provider: string; keyId: string; keyVersion: string };
}

const countRow = z.object({ count: z.number() });

export function createTokenRotation(deps: { pool: DatabasePool; keys: TokenKeys; logger: Logger }) {
  const { pool, keys } = deps;

  function staleCondition(current: RotationResult['current']) {
    // Same rule as the vault's needsReseal: an unknown KMS version ('') means the key id alone decides.
    const sameVersion =
      current.keyVersion === '' ? sql.fragment`true` : sql.fragment`key_version = ${current.keyVersion}`;
    return sql.fragment`NOT (key_provider = ${current.provider} AND key_id = ${current.keyId} AND ${sameVersion})`;
  }

  async function countStale(current: RotationResult['current']): Promise<number> {
    const row = await pool.one(sql.type(countRow)`
      SELECT count(*)::int AS count FROM integration_token WHERE ${staleCondition(current)}
    `);
    return row.count;
  }

  return {
    async pending(): Promise<number> {
      return countStale(await keys.resolveCurrent());
    },

    async rotate(options: RotationOptions = {}): Promise<RotationResult> {
      const log = options.log ?? deps.logger;
      const batchSize = options.batchSize ?? 100;
      const maxBatches = options.maxBatches ?? Number.POSITIVE_INFINITY;
      const current = await keys.resolveCurrent();
      log.info({ current }, 'token rotation: re-sealing tokens not under the current key');
      let resealed = 0;
      let batches = 0;
      while (batches < maxBatches && !options.signal?.aborted) {
        const count = await pool.transaction(async (tx) => {
          const rows = await tx.any(sql.type(sealedTokenRow)`
            SELECT ${sealedTokenColumns} FROM integration_token
            WHERE ${staleCondition(current)}
            ORDER BY connection_id, kind
            LIMIT ${batchSize}
            FOR UPDATE SKIP LOCKED
          `);
          for (const row of rows) {
            const context = tokenContext(row.connection_id, row.kind);
            const plaintext = await keys.vault.open(sealedOf(row), context);
            const sealed = await keys.vault.seal(plaintext, context);
            await writeSealedToken(tx, row.connection_id, row.kind, sealed, row.expires_at);
          }
          return rows.length;
        });
        if (count === 0) break;
        batches += 1;
        resealed += count;
        log.info({ batch: batches, resealed: count, total: resealed }, 'token rotation: batch committed');
      }
      const remaining = await countStale(current);
      log.info({ resealed, batches, remaining }, 'token rotation: finished');
      return { resealed, batches, remaining, current };
    },
  };
}

export type TokenRotation = ReturnType<typeof createTokenRotation>;
