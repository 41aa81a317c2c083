// One-time OAuth state: only SHA-256 hashes of the state and of the session id are stored, with the
// PKCE verifier sealed by the vault. A state is consumed by one atomic UPDATE, so a replay fails.
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { DatabasePool } from '../db/pool.ts';
import { sql } from '../db/sql.ts';
import type { SealedSecret, TokenVault } from '../token-vault/index.ts';

export const OAUTH_STATE_TTL_MS = 10 * 60 * 1000;
const STATE_BYTES = 32;
const VERIFIER_BYTES = 32;

export type StateRejection = 'unknown' | 'expired' | 'used' | 'foreign';

export function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** A sealed secret as JSON (base64 fields), for a jsonb column. */
export const sealedJson = z.object({
  ciphertext: z.string(),
  iv: z.string(),
  authTag: z.string(),
  wrappedKey: z.string(),
  keyProvider: z.enum(['kms', 'keyring']),
  keyId: z.string(),
  keyVersion: z.string(),
});

export function toJson(sealed: SealedSecret): z.infer<typeof sealedJson> {
  return {
    ciphertext: sealed.ciphertext.toString('base64'),
    iv: sealed.iv.toString('base64'),
    authTag: sealed.authTag.toString('base64'),
    wrappedKey: sealed.wrappedKey.toString('base64'),
    keyProvider: sealed.keyProvider,
    keyId: sealed.keyId,
    keyVersion: sealed.keyVersion,
  };
}

export function fromJson(json: z.infer<typeof sealedJson>): SealedSecret {
  return {
    ciphertext: Buffer.from(json.ciphertext, 'base64'),
    iv: Buffer.from(json.iv, 'base64'),
    authTag: Buffer.from(json.authTag, 'base64'),
    wrappedKey: Buffer.from(json.wrappedKey, 'base64'),
    keyProvider: json.keyProvider,
    keyId: json.keyId,
    keyVersion: json.keyVersion,
  };
}

/** The verifier is bound to its state row: a sealed verifier copied to another row does not open. */
function verifierContext(stateHash: Buffer) {
  return { connectionId: `oauth_state:${stateHash.toString('hex')}`, kind: 'pkce_verifier' };
}

const consumedRow = z.object({ pkce_verifier_sealed: sealedJson.nullable() });
const diagnosisRow = z.object({ mine: z.boolean(), expired: z.boolean(), used: z.boolean() });

export function createOAuthStates(deps: { pool: DatabasePool; vault: TokenVault; ttlMs?: number }) {
  const { pool, vault } = deps;
  const ttlMs = deps.ttlMs ?? OAUTH_STATE_TTL_MS;

  return {
    async create(input: { userId: number; sessionId: string; provider: string }) {
      const state = randomBytes(STATE_BYTES).toString('base64url');
      const codeVerifier = randomBytes(VERIFIER_BYTES).toString('base64url');
      const codeChallenge = createHash('sha256').update(codeVerifier).digest('base64url');
      const stateHash = sha256(state);
      const sealed = await vault.seal(codeVerifier, verifierContext(stateHash));
      await pool.query(sql.typeAlias('void')`
        INSERT INTO oauth_state (state_hash, user_id, session_id_hash, provider, pkce_verifier_sealed, expires_at)
        VALUES (
          ${sql.binary(stateHash)}, ${input.userId}, ${sql.binary(sha256(input.sessionId))}, ${input.provider},
          ${sql.jsonb(toJson(sealed))}, now() + ${sql.interval({ seconds: Math.round(ttlMs / 1000) })}
        )
      `);
      return { state, codeChallenge };
    },

    /**
     * Consumes the state if it exists, is unexpired, unconsumed, and was made for this user in this
     * session. A state presented by anyone else is left as it was.
     */
    async consume(input: {
      state: string;
      userId: number;
      sessionId: string;
      provider: string;
    }): Promise<{ ok: true; codeVerifier: string | undefined } | { ok: false; reason: StateRejection }> {
      const stateHash = sha256(input.state);
      const sessionHash = sha256(input.sessionId);
      const row = await pool.maybeOne(sql.type(consumedRow)`
        UPDATE oauth_state SET consumed_at = now()
        WHERE state_hash = ${sql.binary(stateHash)} AND provider = ${input.provider}
          AND user_id = ${input.userId} AND session_id_hash = ${sql.binary(sessionHash)}
          AND consumed_at IS NULL AND expires_at > now()
        RETURNING pkce_verifier_sealed
      `);
      if (row) {
        const sealed = row.pkce_verifier_sealed;
        const codeVerifier = sealed
          ? await vault.open(fromJson(sealed), verifierContext(stateHash))
          : undefined;
        return { ok: true, codeVerifier };
      }
      // Why it failed, for the log (the person sees one message).
      const found = await pool.maybeOne(sql.type(diagnosisRow)`
        SELECT user_id = ${input.userId} AND session_id_hash = ${sql.binary(sessionHash)} AS mine,
               expires_at <= now() AS expired, consumed_at IS NOT NULL AS used
        FROM oauth_state WHERE state_hash = ${sql.binary(stateHash)} AND provider = ${input.provider}
      `);
      if (!found) return { ok: false, reason: 'unknown' };
      if (!found.mine) return { ok: false, reason: 'foreign' };
      return { ok: false, reason: found.used ? 'used' : 'expired' };
    },

    /** Expired states are useless after their TTL; keep a day for investigations. */
    async purgeExpired(): Promise<number> {
      const result = await pool.query(sql.typeAlias('void')`
        DELETE FROM oauth_state WHERE expires_at < now() - interval '1 day'
      `);
      return result.rowCount;
    },
  };
}

export type OAuthStates = ReturnType<typeof createOAuthStates>;
