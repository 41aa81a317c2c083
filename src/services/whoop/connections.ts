// Linking and unlinking a WHOOP account: OAuth start, callback / code exchange, disconnect, and the
// state the Integrations card shows. Framework-free: routes, the internal API and jobs all use it.
import { type CommonQueryMethods, UniqueIntegrityConstraintViolationError } from 'slonik';
import { z } from 'zod';
import type { DatabasePool } from '../db/pool.ts';
import { sql } from '../db/sql.ts';
import type { LogSink as Logger } from '../logger.ts';
import { TokenVaultError } from '../token-vault/index.ts';
import {
  WhoopApiError,
  type WhoopClient,
  WhoopOAuthError,
  type WhoopTokens,
  WhoopUnavailableError,
} from './client.ts';
import type { OAuthStates } from './oauth-states.ts';
import type { RateBudget } from './rate-budget.ts';
import { WHOOP_REQUESTED_SCOPES, type WhoopAuthorizeEndpoint, type WhoopSettings } from './settings.ts';
import { DayBudgetSpentError } from './sync/errors.ts';
import type { SealedTokenRow, TokenStore } from './token-store.ts';

export const PROVIDER = 'whoop';
const LIVE_ACCOUNT_CONSTRAINT = 'integration_connection_live_account_key';

export type ConnectionStatus = 'disconnected' | 'connected' | 'syncing' | 'error' | 'reauth_required';

export type LinkErrorCode =
  | 'not_configured'
  | 'unknown_user'
  | 'missing_code'
  | 'invalid_state'
  | 'declined'
  | 'provider_error'
  | 'code_rejected'
  | 'client_rejected'
  | 'whoop_unavailable'
  | 'profile_unreadable'
  | 'account_linked_elsewhere'
  | 'different_account'
  | 'keys_unavailable'
  | 'budget_spent';

/** Why nothing was linked, in words a person can act on. Never carries a token or a code. */
export class LinkError extends Error {
  override name = 'LinkError';
  readonly code: LinkErrorCode;
  constructor(code: LinkErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

const nothingLinked = 'Nothing was linked.';

const providerErrorWords: Record<string, string> = {
  access_denied: 'You declined access on WHOOP, so nothing was linked.',
  invalid_scope: 'WHOOP returned an error: it did not accept the requested permissions.',
  invalid_request: 'WHOOP returned an error: it found the link request malformed.',
  server_error: 'WHOOP returned an error: something went wrong on its side.',
  temporarily_unavailable: 'WHOOP returned an error: it is temporarily unavailable.',
};

/** The vault could not seal or open (KMS down, key missing): say so plainly, log the detail. */
function keysUnavailable(error: unknown, log: Logger): never {
  if (!(error instanceof TokenVaultError)) throw error;
  log.error({ err: error, code: error.code }, 'whoop oauth: token keys unavailable');
  throw new LinkError(
    'keys_unavailable',
    `Linking WHOOP is not possible right now: the server cannot protect the tokens. ${nothingLinked} Try again later.`,
  );
}

export interface WhoopCard {
  status: ConnectionStatus;
  memberName: string | null;
  memberId: string | null;
  connectedAt: Date | null;
  disconnectedAt: Date | null;
  lastSyncAt: Date | null;
  lastSyncStatus: 'succeeded' | 'failed' | 'partial' | null;
  lastSyncError: string | null;
  nextSyncAt: Date | null;
  hasHistory: boolean;
}

const cardRow = z.object({
  status: z.enum(['disconnected', 'connected', 'syncing', 'error', 'reauth_required']),
  provider_account_name: z.string().nullable(),
  provider_account_id: z.string().nullable(),
  connected_at: z.date().nullable(),
  disconnected_at: z.date().nullable(),
  last_sync_at: z.date().nullable(),
  last_sync_status: z.enum(['succeeded', 'failed', 'partial']).nullable(),
  last_sync_error: z.string().nullable(),
  next_sync_at: z.date().nullable(),
  has_history: z.boolean(),
});

const lockedConnection = z.object({
  id: z.number(),
  status: cardRow.shape.status,
  provider_account_id: z.string().nullable(),
});
const idRow = z.object({ id: z.number() });
const existsRow = z.object({ exists: z.boolean() });

export interface LinkedConnection {
  connectionId: number;
  whoopUserId: string;
  memberName: string;
  scopes: string[];
  /** false when the same WHOOP account was linked before and its connection (and history) was re-used */
  created: boolean;
}

export interface DisconnectResult {
  /** false when there was no live link */
  wasLinked: boolean;
  /** WHOOP confirmed the revoke (failures are logged, not fatal) */
  revoked: boolean;
}

export interface WhoopConnectionDeps {
  pool: DatabasePool;
  logger: Logger;
  settings: WhoopSettings | undefined;
  client: WhoopClient | undefined;
  states: OAuthStates;
  tokens: TokenStore;
  /** the app-wide request budget: link-time calls and revokes spend it like syncs do */
  budget: RateBudget;
  /** Runs in the transaction that stores a link: the sync engine enqueues the first sync there. */
  onLinked?:
    | ((
        db: CommonQueryMethods,
        connectionId: number,
        context: { requestId?: string | undefined },
      ) => Promise<unknown>)
    | undefined;
}

export function createWhoopConnections(deps: WhoopConnectionDeps) {
  const { pool, settings, client, states, tokens, budget } = deps;

  /** A slot of the shared budget for a call made while someone waits (link, disconnect). */
  async function reserve(log: Logger): Promise<void> {
    try {
      await budget.acquire({ priority: 'interactive', log });
    } catch (error) {
      if (!(error instanceof DayBudgetSpentError)) throw error;
      log.warn({ resumeAt: error.resumeAt }, 'whoop: the shared request budget is spent');
      throw new LinkError(
        'budget_spent',
        `WHOOP's request limit for this app is used up until ${error.resumeAt.toISOString().slice(11, 16)} UTC. ${nothingLinked} Try again then.`,
      );
    }
  }

  function requireClient(): WhoopClient {
    if (!client) throw new LinkError('not_configured', 'WHOOP is not configured on this server.');
    return client;
  }

  async function assertUser(userId: number): Promise<void> {
    const found = await pool.one(sql.type(existsRow)`
      SELECT EXISTS (SELECT FROM app_user WHERE id = ${userId}) AS exists
    `);
    if (!found.exists) throw new LinkError('unknown_user', `There is no user ${userId}.`);
  }

  function exchangeFailure(error: unknown, log: Logger): never {
    if (error instanceof WhoopOAuthError) {
      if (error.error === 'invalid_client' || error.status === 401) {
        log.error(
          { status: error.status, error: error.error },
          'whoop oauth: WHOOP refused our client credentials',
        );
        throw new LinkError(
          'client_rejected',
          `WHOOP refused this server's app credentials. ${nothingLinked} The administrator needs to check the WHOOP client settings.`,
        );
      }
      log.warn({ status: error.status, error: error.error }, 'whoop oauth: code exchange refused');
      throw new LinkError(
        'code_rejected',
        `WHOOP did not accept the sign-in (the code expired or was already used). ${nothingLinked} Press Connect to try again.`,
      );
    }
    if (error instanceof WhoopUnavailableError) {
      log.warn({ err: error }, 'whoop oauth: WHOOP unavailable');
      throw new LinkError(
        'whoop_unavailable',
        `WHOOP is not answering right now. ${nothingLinked} Try again in a few minutes.`,
      );
    }
    throw error;
  }

  async function readProfile(access: string, log: Logger) {
    await reserve(log);
    try {
      return await requireClient().getProfile(access);
    } catch (error) {
      if (error instanceof WhoopApiError) {
        log.warn({ status: error.status }, 'whoop oauth: profile refused');
        throw new LinkError(
          'profile_unreadable',
          `WHOOP did not share your profile (the profile permission is needed to know which WHOOP account this is). ${nothingLinked}`,
        );
      }
      return exchangeFailure(error, log);
    }
  }

  /** Stores the link: re-uses the user's connection row (and its history), refuses a foreign account. */
  async function storeLink(
    userId: number,
    whoopUserId: string,
    memberName: string,
    granted: WhoopTokens,
    requestId: string | undefined,
  ): Promise<{ connectionId: number; created: boolean }> {
    const alreadyLinked = new LinkError(
      'account_linked_elsewhere',
      `This WHOOP account is already linked to another user of this app. ${nothingLinked}`,
    );
    try {
      return await pool.transaction(async (tx) => {
        const existing = await tx.maybeOne(sql.type(lockedConnection)`
          SELECT id, status, provider_account_id FROM integration_connection
          WHERE user_id = ${userId} AND provider = ${PROVIDER}
          FOR UPDATE
        `);
        const elsewhere = await tx.one(sql.type(existsRow)`
          SELECT EXISTS (
            SELECT FROM integration_connection
            WHERE provider = ${PROVIDER} AND provider_account_id = ${whoopUserId}
              AND status <> 'disconnected' AND user_id <> ${userId}
          ) AS exists
        `);
        if (elsewhere.exists) throw alreadyLinked;
        if (existing?.provider_account_id && existing.provider_account_id !== whoopUserId) {
          const history = await tx.one(sql.type(existsRow)`
            SELECT EXISTS (SELECT FROM integration_raw_event WHERE connection_id = ${existing.id}) AS exists
          `);
          if (history.exists) {
            throw new LinkError(
              'different_account',
              `Your history here comes from another WHOOP account. Linking a different WHOOP account is not supported yet. ${nothingLinked}`,
            );
          }
        }
        const row = await tx.one(sql.type(idRow)`
          INSERT INTO integration_connection
            (user_id, provider, provider_account_id, provider_account_name, status, scopes, connected_at)
          VALUES (
            ${userId}, ${PROVIDER}, ${whoopUserId}, ${memberName}, 'connected',
            ${sql.array(granted.scopes, 'text')}, now()
          )
          ON CONFLICT (user_id, provider) DO UPDATE SET
            provider_account_id = EXCLUDED.provider_account_id,
            provider_account_name = EXCLUDED.provider_account_name,
            status = 'connected',
            scopes = EXCLUDED.scopes,
            connected_at = CASE
              WHEN integration_connection.status = 'disconnected' OR integration_connection.connected_at IS NULL
                OR integration_connection.provider_account_id IS DISTINCT FROM EXCLUDED.provider_account_id
              THEN now() ELSE integration_connection.connected_at END,
            disconnected_at = NULL,
            last_sync_error = NULL,
            updated_at = now()
          RETURNING id
        `);
        await tokens.save(tx, row.id, granted);
        await deps.onLinked?.(tx, row.id, { requestId });
        return { connectionId: row.id, created: !existing };
      });
    } catch (error) {
      // Two people linking the same WHOOP account at once: the partial unique index decides.
      if (
        error instanceof UniqueIntegrityConstraintViolationError &&
        error.constraint === LIVE_ACCOUNT_CONSTRAINT
      ) {
        throw alreadyLinked;
      }
      throw error;
    }
  }

  /** Code -> tokens -> profile -> stored link. Nothing is stored unless every step succeeded. */
  async function linkWithCode(input: {
    userId: number;
    code: string;
    codeVerifier: string | undefined;
    log: Logger;
    requestId: string | undefined;
  }): Promise<LinkedConnection> {
    const { log } = input;
    let granted: WhoopTokens;
    await reserve(log);
    try {
      granted = await requireClient().exchangeCode({ code: input.code, codeVerifier: input.codeVerifier });
    } catch (error) {
      return exchangeFailure(error, log);
    }
    log.info(
      { scopes: granted.scopes, expiresIn: granted.expiresIn, offline: Boolean(granted.refreshToken) },
      'whoop oauth: code exchanged for tokens',
    );
    const profile = await readProfile(granted.accessToken, log);
    const whoopUserId = String(profile.user_id);
    const memberName = `${profile.first_name} ${profile.last_name}`.trim() || `WHOOP member ${whoopUserId}`;
    log.info({ whoopUserId }, 'whoop oauth: profile read');
    try {
      const stored = await storeLink(input.userId, whoopUserId, memberName, granted, input.requestId).catch(
        (error: unknown) => keysUnavailable(error, log),
      );
      log.info(
        { userId: input.userId, connectionId: stored.connectionId, whoopUserId, reused: !stored.created },
        'whoop oauth: connection stored with sealed tokens',
      );
      return { ...stored, whoopUserId, memberName, scopes: granted.scopes };
    } catch (error) {
      // The new grant is not revoked: WHOOP's revoke ends every token of the member, the other user's too.
      if (error instanceof LinkError)
        log.warn({ userId: input.userId, whoopUserId, reason: error.code }, 'whoop oauth: link refused');
      throw error;
    }
  }

  /** Best effort: WHOOP's revoke ends the grant. An expired access token is refreshed once first. */
  async function revokeAtWhoop(
    connectionId: number,
    sealed: SealedTokenRow[],
    log: Logger,
  ): Promise<boolean> {
    if (!client) return false;
    const access = sealed.find((row) => row.kind === 'access');
    const refresh = sealed.find((row) => row.kind === 'refresh');
    try {
      if (access) {
        try {
          await reserve(log);
          await client.revokeAccess(await tokens.open(access));
          log.info({ connectionId }, 'whoop disconnect: access revoked at WHOOP');
          return true;
        } catch (error) {
          if (!(error instanceof WhoopApiError && error.status === 401 && refresh)) throw error;
          log.info({ connectionId }, 'whoop disconnect: access token no longer valid, refreshing to revoke');
        }
      }
      if (!refresh) {
        log.warn({ connectionId }, 'whoop disconnect: no token left to revoke with');
        return false;
      }
      await reserve(log);
      const renewed = await client.refreshTokens(await tokens.open(refresh));
      await reserve(log);
      await client.revokeAccess(renewed.accessToken);
      log.info({ connectionId }, 'whoop disconnect: access revoked at WHOOP');
      return true;
    } catch (error) {
      log.warn(
        { connectionId, err: error },
        'whoop disconnect: revoke at WHOOP failed (tokens destroyed here anyway)',
      );
      return false;
    }
  }

  return {
    /** What the browser needs to build the authorize URL; undefined when WHOOP is not configured. */
    authorizeEndpoint: (settings
      ? Object.freeze({
          clientId: settings.clientId,
          redirectUri: settings.redirectUri,
          oauthBaseUrl: settings.oauthBaseUrl,
          scopes: WHOOP_REQUESTED_SCOPES,
        })
      : undefined) as WhoopAuthorizeEndpoint | undefined,

    /** A fresh one-time state (and PKCE challenge) for this user and session. */
    async beginAuthorization(input: { userId: number; sessionId: string; log?: Logger }) {
      requireClient();
      const log = input.log ?? deps.logger;
      const started = await states
        .create({ userId: input.userId, sessionId: input.sessionId, provider: PROVIDER })
        .catch((error: unknown) => keysUnavailable(error, log));
      log.info({ userId: input.userId }, 'whoop oauth: authorization started');
      return started;
    },

    /** The browser came back from WHOOP. Throws LinkError when nothing was linked. */
    async completeAuthorization(input: {
      userId: number;
      sessionId: string;
      state?: string | undefined;
      code?: string | undefined;
      error?: string | undefined;
      log?: Logger;
      /** the request that completed the link: the first sync carries it */
      requestId?: string | undefined;
    }): Promise<LinkedConnection> {
      const log = input.log ?? deps.logger;
      requireClient();
      const consumed = input.state
        ? await states.consume({
            state: input.state,
            userId: input.userId,
            sessionId: input.sessionId,
            provider: PROVIDER,
          })
        : ({ ok: false, reason: 'unknown' } as const);
      if (input.error !== undefined) {
        const code = /^[a-z_]{1,64}$/.test(input.error) ? input.error : 'unknown_error';
        log.info(
          { userId: input.userId, error: code, stateAccepted: consumed.ok },
          'whoop oauth: WHOOP returned an error',
        );
        if (code === 'access_denied')
          throw new LinkError('declined', providerErrorWords.access_denied as string);
        const words = providerErrorWords[code] ?? `WHOOP returned an error (${code}).`;
        throw new LinkError('provider_error', `${words} ${nothingLinked} Press Connect to try again.`);
      }
      if (!consumed.ok) {
        log.warn({ userId: input.userId, reason: consumed.reason }, 'whoop oauth: state refused');
        throw new LinkError(
          'invalid_state',
          `This WHOOP link request is not valid (it expired, was already used, or was started elsewhere). ${nothingLinked} Press Connect to try again.`,
        );
      }
      log.info({ userId: input.userId }, 'whoop oauth: state accepted');
      if (!input.code) {
        log.warn({ userId: input.userId }, 'whoop oauth: callback without a code');
        throw new LinkError(
          'missing_code',
          `WHOOP sent no authorization code back. ${nothingLinked} Press Connect to try again.`,
        );
      }
      return linkWithCode({
        userId: input.userId,
        code: input.code,
        codeVerifier: consumed.codeVerifier,
        log,
        requestId: input.requestId,
      });
    },

    /** Service-to-service exchange (POST /internal/whoop/oauth/exchange): the caller vouches for the user. */
    async exchangeCode(input: {
      userId: number;
      code: string;
      codeVerifier?: string | undefined;
      log?: Logger;
      requestId?: string | undefined;
    }): Promise<LinkedConnection> {
      const log = input.log ?? deps.logger;
      requireClient();
      await assertUser(input.userId);
      log.info({ userId: input.userId }, 'whoop oauth: internal code exchange requested');
      return linkWithCode({
        userId: input.userId,
        code: input.code,
        codeVerifier: input.codeVerifier,
        log,
        requestId: input.requestId,
      });
    },

    /** Revokes at WHOOP (best effort), destroys the tokens, keeps the connection row and every synced record. */
    async disconnect(input: {
      userId: number;
      log?: Logger;
      requireUser?: boolean;
    }): Promise<DisconnectResult> {
      const log = input.log ?? deps.logger;
      if (input.requireUser) await assertUser(input.userId);
      const taken = await pool.transaction(async (tx) => {
        const connection = await tx.maybeOne(sql.type(lockedConnection)`
          SELECT id, status, provider_account_id FROM integration_connection
          WHERE user_id = ${input.userId} AND provider = ${PROVIDER}
          FOR UPDATE
        `);
        if (!connection) return undefined;
        const sealed = await tokens.read(tx, connection.id);
        const deleted = await tokens.deleteAll(tx, connection.id);
        await tx.query(sql.typeAlias('void')`
          UPDATE integration_connection
          SET status = 'disconnected',
              disconnected_at = CASE WHEN status = 'disconnected' THEN disconnected_at ELSE now() END,
              next_sync_at = NULL, updated_at = now()
          WHERE id = ${connection.id}
        `);
        return { connection, sealed, deleted };
      });
      if (!taken || (taken.connection.status === 'disconnected' && taken.sealed.length === 0)) {
        log.info({ userId: input.userId }, 'whoop disconnect: nothing was linked');
        return { wasLinked: false, revoked: false };
      }
      const connectionId = taken.connection.id;
      log.info(
        { userId: input.userId, connectionId, tokensDeleted: taken.deleted },
        'whoop disconnect: tokens destroyed, connection marked disconnected',
      );
      const revoked = await revokeAtWhoop(connectionId, taken.sealed, log);
      return { wasLinked: true, revoked };
    },

    async card(userId: number): Promise<WhoopCard> {
      const row = await pool.maybeOne(sql.type(cardRow)`
        SELECT c.status, c.provider_account_name, c.provider_account_id, c.connected_at, c.disconnected_at,
               c.last_sync_at, c.last_sync_status, c.last_sync_error, c.next_sync_at,
               EXISTS (SELECT FROM integration_raw_event e WHERE e.connection_id = c.id) AS has_history
        FROM integration_connection c
        WHERE c.user_id = ${userId} AND c.provider = ${PROVIDER}
      `);
      if (!row) {
        return {
          status: 'disconnected',
          memberName: null,
          memberId: null,
          connectedAt: null,
          disconnectedAt: null,
          lastSyncAt: null,
          lastSyncStatus: null,
          lastSyncError: null,
          nextSyncAt: null,
          hasHistory: false,
        };
      }
      return {
        status: row.status,
        memberName: row.provider_account_name,
        memberId: row.provider_account_id,
        connectedAt: row.connected_at,
        disconnectedAt: row.disconnected_at,
        lastSyncAt: row.last_sync_at,
        lastSyncStatus: row.last_sync_status,
        lastSyncError: row.last_sync_error,
        nextSyncAt: row.next_sync_at,
        hasHistory: row.has_history,
      };
    },

    purgeExpiredStates: () => states.purgeExpired(),
  };
}

export type WhoopConnections = ReturnType<typeof createWhoopConnections>;
