// integration_token rows: sealed on the way in, opened only here (the WHOOP client side).
// Callers outside src/services/whoop never receive a plaintext token.
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.ts';
import type { PreparedSeal, SealedSecret, TokenVault } from '../token-vault/index.ts';
import type { WhoopTokens } from './client.ts';

export type TokenKind = 'access' | 'refresh';

const buffer = z.custom<Buffer>((value) => Buffer.isBuffer(value), 'expected bytea');

export const sealedTokenRow = z.object({
  connection_id: z.number(),
  kind: z.enum(['access', 'refresh']),
  ciphertext: buffer,
  iv: buffer,
  auth_tag: buffer,
  wrapped_key: buffer,
  key_provider: z.enum(['kms', 'keyring']),
  key_id: z.string(),
  key_version: z.string(),
  expires_at: z.date().nullable(),
});
export type SealedTokenRow = z.infer<typeof sealedTokenRow>;

export const sealedTokenColumns = sql.fragment`
  connection_id, kind, ciphertext, iv, auth_tag, wrapped_key, key_provider, key_id, key_version, expires_at
`;

export function sealedOf(row: SealedTokenRow): SealedSecret {
  return {
    ciphertext: row.ciphertext,
    iv: row.iv,
    authTag: row.auth_tag,
    wrappedKey: row.wrapped_key,
    keyProvider: row.key_provider,
    keyId: row.key_id,
    keyVersion: row.key_version,
  };
}

/** The AAD / encryption context: a ciphertext moved to another connection or kind fails to open. */
export function tokenContext(connectionId: number, kind: TokenKind) {
  return { connectionId: String(connectionId), kind };
}

export async function writeSealedToken(
  db: CommonQueryMethods,
  connectionId: number,
  kind: TokenKind,
  sealed: SealedSecret,
  expiresAt: Date | null,
): Promise<void> {
  await db.query(sql.typeAlias('void')`
    INSERT INTO integration_token
      (connection_id, kind, ciphertext, iv, auth_tag, wrapped_key, key_provider, key_id, key_version, expires_at)
    VALUES (
      ${connectionId}, ${kind}, ${sql.binary(sealed.ciphertext)}, ${sql.binary(sealed.iv)},
      ${sql.binary(sealed.authTag)}, ${sql.binary(sealed.wrappedKey)}, ${sealed.keyProvider},
      ${sealed.keyId}, ${sealed.keyVersion}, ${expiresAt ? sql.timestamp(expiresAt) : null}
    )
    ON CONFLICT (connection_id, kind) DO UPDATE SET
      ciphertext = EXCLUDED.ciphertext, iv = EXCLUDED.iv, auth_tag = EXCLUDED.auth_tag,
      wrapped_key = EXCLUDED.wrapped_key, key_provider = EXCLUDED.key_provider, key_id = EXCLUDED.key_id,
      key_version = EXCLUDED.key_version, expires_at = EXCLUDED.expires_at, updated_at = now()
  `);
}

/** A refreshed pair, sealed and ready to store: writing it needs only the database. */
export interface SealedPair {
  access: SealedSecret;
  accessExpiresAt: Date;
  /** absent: WHOOP sent no new refresh token, and the old one is removed */
  refresh: SealedSecret | undefined;
}

export function createTokenStore(deps: { vault: TokenVault; now?: () => number }) {
  const { vault } = deps;
  const now = deps.now ?? Date.now;

  /** Data keys for both tokens of a connection, fetched before WHOOP is asked for the pair. */
  async function prepareSeal(connectionId: number) {
    const access = await vault.prepareSeal(tokenContext(connectionId, 'access'));
    let refresh: PreparedSeal;
    try {
      refresh = await vault.prepareSeal(tokenContext(connectionId, 'refresh'));
    } catch (error) {
      access.discard();
      throw error;
    }
    return {
      seal(tokens: WhoopTokens): SealedPair {
        const pair = {
          access: access.seal(tokens.accessToken),
          accessExpiresAt: new Date(now() + tokens.expiresIn * 1000),
          refresh: tokens.refreshToken ? refresh.seal(tokens.refreshToken) : undefined,
        };
        refresh.discard();
        return pair;
      },
      discard() {
        access.discard();
        refresh.discard();
      },
    };
  }

  async function writePair(db: CommonQueryMethods, connectionId: number, pair: SealedPair): Promise<void> {
    await writeSealedToken(db, connectionId, 'access', pair.access, pair.accessExpiresAt);
    if (pair.refresh) await writeSealedToken(db, connectionId, 'refresh', pair.refresh, null);
    else {
      await db.query(sql.typeAlias('void')`
        DELETE FROM integration_token WHERE connection_id = ${connectionId} AND kind = 'refresh'
      `);
    }
  }

  return {
    prepareSeal,
    writePair,

    /** Seals and stores a fresh pair; a response without a refresh token removes the old one. */
    async save(db: CommonQueryMethods, connectionId: number, tokens: WhoopTokens): Promise<void> {
      const sealer = await prepareSeal(connectionId);
      await writePair(db, connectionId, sealer.seal(tokens));
    },

    /** The sealed rows of a connection (nothing opened). */
    async read(db: CommonQueryMethods, connectionId: number): Promise<SealedTokenRow[]> {
      const rows = await db.any(sql.type(sealedTokenRow)`
        SELECT ${sealedTokenColumns} FROM integration_token WHERE connection_id = ${connectionId} ORDER BY kind
      `);
      return [...rows];
    },

    async open(row: SealedTokenRow): Promise<string> {
      return vault.open(sealedOf(row), tokenContext(row.connection_id, row.kind));
    },

    async deleteAll(db: CommonQueryMethods, connectionId: number): Promise<number> {
      const result = await db.query(sql.typeAlias('void')`
        DELETE FROM integration_token WHERE connection_id = ${connectionId}
      `);
      return result.rowCount;
    },
  };
}

export type TokenStore = ReturnType<typeof createTokenStore>;
