// Linking a WHOOP account: OAuth start, callback / code exchange, and storing the link. A different
// WHOOP account than the one this user's history comes from is held for confirmation (account-switch.ts).
import { type CommonQueryMethods, UniqueIntegrityConstraintViolationError } from 'slonik';
import { sql } from '../../db/sql.ts';
import type { LogSink as Logger } from '../../logger.ts';
import { WhoopApiError, WhoopOAuthError, type WhoopTokens, WhoopUnavailableError } from '../client.ts';
import { WHOOP_REQUESTED_SCOPES, type WhoopAuthorizeEndpoint } from '../settings.ts';
import {
  type ConnectionCalls,
  existsRow,
  idRow,
  linkedElsewhere,
  lockConnection,
  PROVIDER,
  type WhoopConnectionDeps,
} from './context.ts';
import { alreadyLinkedElsewhere, keysUnavailable, LinkError, nothingLinked } from './errors.ts';
import type { HeldAccount } from './pending-switches.ts';

const LIVE_ACCOUNT_CONSTRAINT = 'integration_connection_live_account_key';

export interface LinkedConnection {
  connectionId: number;
  whoopUserId: string;
  memberName: string;
  scopes: string[];
  /** false when the same WHOOP account was linked before and its connection (and history) was re-used */
  created: boolean;
}

/** The grant is held: the person confirms (or cancels) replacing `previous` with `next`. */
export interface SwitchAwaitingConfirmation {
  awaitingConfirmation: true;
  previous: HeldAccount;
  next: HeldAccount;
}

const providerErrorWords: Record<string, string> = {
  access_denied: 'You declined access on WHOOP, so nothing was linked.',
  invalid_scope: 'WHOOP returned an error: it did not accept the requested permissions.',
  invalid_request: 'WHOOP returned an error: it found the link request malformed.',
  server_error: 'WHOOP returned an error: something went wrong on its side.',
  temporarily_unavailable: 'WHOOP returned an error: it is temporarily unavailable.',
};

/** The user's history comes from another WHOOP account: linking this one replaces it, so ask first. */
class HistoryFromAnotherAccount extends Error {
  override name = 'HistoryFromAnotherAccount';
  readonly previous: HeldAccount;
  constructor(previous: HeldAccount) {
    super('the history comes from another WHOOP account');
    this.previous = previous;
  }
}

/** A fresh connection row (or the re-used one of the same account) with the sealed pair; enqueues the first sync. */
export async function writeLink(
  deps: Pick<WhoopConnectionDeps, 'tokens' | 'onLinked'>,
  tx: CommonQueryMethods,
  input: { userId: number; account: HeldAccount; granted: WhoopTokens; requestId: string | undefined },
): Promise<number> {
  const { userId, account, granted } = input;
  const row = await tx.one(sql.type(idRow)`
    INSERT INTO integration_connection
      (user_id, provider, provider_account_id, provider_account_name, status, scopes, connected_at)
    VALUES (
      ${userId}, ${PROVIDER}, ${account.memberId}, ${account.memberName}, 'connected',
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
  await deps.tokens.save(tx, row.id, granted);
  await deps.onLinked?.(tx, row.id, { requestId: input.requestId });
  return row.id;
}

/** Two people linking the same WHOOP account at once: the partial unique index decides. */
export function raceForAccount(error: unknown): never {
  if (
    error instanceof UniqueIntegrityConstraintViolationError &&
    error.constraint === LIVE_ACCOUNT_CONSTRAINT
  ) {
    throw alreadyLinkedElsewhere();
  }
  throw error;
}

export function createLinking(deps: WhoopConnectionDeps, calls: ConnectionCalls) {
  const { pool, settings, states, pendingSwitches } = deps;
  const { reserve, requireClient, assertUser } = calls;

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

  /**
   * Stores the link: re-uses the user's connection row (and its history) for the same account, refuses
   * an account another user has linked, and throws HistoryFromAnotherAccount for a different account
   * when the user's history comes from the old one.
   */
  async function storeLink(
    userId: number,
    account: HeldAccount,
    granted: WhoopTokens,
    requestId: string | undefined,
  ): Promise<{ connectionId: number; created: boolean }> {
    try {
      return await pool.transaction(async (tx) => {
        const existing = await lockConnection(tx, userId);
        if (await linkedElsewhere(tx, userId, account.memberId)) throw alreadyLinkedElsewhere();
        if (existing?.provider_account_id && existing.provider_account_id !== account.memberId) {
          const history = await tx.one(sql.type(existsRow)`
            SELECT EXISTS (SELECT FROM integration_raw_event WHERE connection_id = ${existing.id}) AS exists
          `);
          if (history.exists) {
            throw new HistoryFromAnotherAccount({
              memberId: existing.provider_account_id,
              memberName: existing.provider_account_name ?? `WHOOP member ${existing.provider_account_id}`,
            });
          }
        }
        const connectionId = await writeLink(deps, tx, { userId, account, granted, requestId });
        return { connectionId, created: !existing };
      });
    } catch (error) {
      return raceForAccount(error);
    }
  }

  /** Code -> tokens -> profile -> stored link (or, for another account, a held grant awaiting confirmation). */
  async function linkWithCode(input: {
    userId: number;
    code: string;
    codeVerifier: string | undefined;
    log: Logger;
    requestId: string | undefined;
    /** the browser's session, to hold a different account's grant for confirmation; absent: refuse it */
    sessionId?: string | undefined;
  }): Promise<LinkedConnection | SwitchAwaitingConfirmation> {
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
    const account = { memberId: whoopUserId, memberName };
    log.info({ whoopUserId }, 'whoop oauth: profile read');
    try {
      const stored = await storeLink(input.userId, account, granted, input.requestId).catch(
        (error: unknown) => keysUnavailable(error, log),
      );
      log.info(
        { userId: input.userId, connectionId: stored.connectionId, whoopUserId, reused: !stored.created },
        'whoop oauth: connection stored with sealed tokens',
      );
      return { ...stored, whoopUserId, memberName, scopes: granted.scopes };
    } catch (error) {
      if (error instanceof HistoryFromAnotherAccount) {
        return holdForConfirmation(input, error.previous, account, granted);
      }
      // The new grant is not revoked: WHOOP's revoke ends every token of the member, the other user's too.
      if (error instanceof LinkError)
        log.warn({ userId: input.userId, whoopUserId, reason: error.code }, 'whoop oauth: link refused');
      throw error;
    }
  }

  async function holdForConfirmation(
    input: { userId: number; sessionId?: string | undefined; log: Logger },
    previous: HeldAccount,
    next: HeldAccount,
    granted: WhoopTokens,
  ): Promise<SwitchAwaitingConfirmation> {
    const { log, userId } = input;
    if (!input.sessionId) {
      log.warn({ userId, whoopUserId: next.memberId }, 'whoop oauth: link refused (another account)');
      throw new LinkError(
        'different_account',
        `This user's history comes from another WHOOP account. Replacing it needs the person's confirmation: they can connect this account from the Integrations page. ${nothingLinked}`,
      );
    }
    await pendingSwitches
      .hold({ userId, sessionId: input.sessionId, account: next, granted })
      .catch((error: unknown) => keysUnavailable(error, log));
    log.info(
      { userId, previousWhoopUserId: previous.memberId, whoopUserId: next.memberId },
      'whoop oauth: another WHOOP account, held sealed until the person confirms the switch',
    );
    return { awaitingConfirmation: true, previous, next };
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

    /**
     * The browser came back from WHOOP. Throws LinkError when nothing was linked; a different account
     * than the one the history comes from is held and awaits the person's confirmation.
     */
    async completeAuthorization(input: {
      userId: number;
      sessionId: string;
      state?: string | undefined;
      code?: string | undefined;
      error?: string | undefined;
      log?: Logger;
      /** the request that completed the link: the first sync carries it */
      requestId?: string | undefined;
    }): Promise<LinkedConnection | SwitchAwaitingConfirmation> {
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
        sessionId: input.sessionId,
      });
    },

    /**
     * Service-to-service exchange (POST /internal/whoop/oauth/exchange): the caller vouches for the user.
     * No person is there to confirm replacing a history from another account, so that is refused.
     */
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
      const linked = await linkWithCode({
        userId: input.userId,
        code: input.code,
        codeVerifier: input.codeVerifier,
        log,
        requestId: input.requestId,
      });
      if ('awaitingConfirmation' in linked) throw new Error('an internal exchange was held for confirmation');
      return linked;
    },
  };
}
