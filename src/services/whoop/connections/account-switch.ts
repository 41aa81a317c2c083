// Switching to a different WHOOP account: the callback held the new account's grant (sealed, bound to
// user and session, short-lived). Confirm deletes every WHOOP row of the old account in one transaction
// (its connection row: every integration_* row of it cascades) and stores the new link, which enqueues
// its first sync. Cancel destroys the held grant and changes nothing else. The new grant is never
// revoked at WHOOP on cancel: WHOOP's revoke ends every token of that member for this app.
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { sql } from '../../db/sql.ts';
import type { LogSink as Logger } from '../../logger.ts';
import { TokenVaultError } from '../../token-vault/index.ts';
import { jobKeyOf } from '../sync/requests.ts';
import type { SealedTokenRow } from '../token-store.ts';
import { linkedElsewhere, lockConnection, PROVIDER, type WhoopConnectionDeps } from './context.ts';
import { alreadyLinkedElsewhere, keysUnavailable, LinkError } from './errors.ts';
import { type LinkedConnection, raceForAccount, writeLink } from './linking.ts';
import type { HeldAccount } from './pending-switches.ts';
import type { Unlinking } from './unlinking.ts';

export type AccountSwitchErrorCode = 'expired' | 'changed';

/** The switch did not happen and nothing changed; the words say what to do. */
export class AccountSwitchError extends Error {
  override name = 'AccountSwitchError';
  readonly code: AccountSwitchErrorCode;
  constructor(code: AccountSwitchErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export interface AccountSwitchQuestion {
  /** the account the history comes from now; null when it is gone meanwhile */
  previous: HeldAccount | null;
  next: HeldAccount;
  expiresAt: Date;
}

const accountRow = z.object({
  provider_account_id: z.string().nullable(),
  provider_account_name: z.string().nullable(),
});

/** The queued sync of a deleted connection disappears; one under way is kept from retrying. */
async function dropConnectionJobs(tx: CommonQueryMethods, connectionId: number): Promise<void> {
  await tx.query(sql.typeAlias('void')`SELECT FROM graphile_worker.remove_job(${jobKeyOf(connectionId)})`);
}

export function createAccountSwitch(deps: WhoopConnectionDeps, unlinking: Pick<Unlinking, 'revokeAtWhoop'>) {
  const { pool, pendingSwitches, tokens } = deps;

  return {
    /** What the confirmation page names: the account the history comes from and the one waiting. */
    async pendingSwitch(input: {
      userId: number;
      sessionId: string;
    }): Promise<AccountSwitchQuestion | undefined> {
      const held = await pendingSwitches.find(input);
      if (!held) return undefined;
      const current = await pool.maybeOne(sql.type(accountRow)`
        SELECT provider_account_id, provider_account_name FROM integration_connection
        WHERE user_id = ${input.userId} AND provider = ${PROVIDER}
      `);
      const previous = current?.provider_account_id
        ? {
            memberId: current.provider_account_id,
            memberName: current.provider_account_name ?? `WHOOP member ${current.provider_account_id}`,
          }
        : null;
      return { previous, next: held.account, expiresAt: held.expiresAt };
    },

    /**
     * Deletes the old account's WHOOP data and links the held account, in one transaction; then revokes
     * the old account's grant at WHOOP (best effort) if it was still live. `replaces`: the WHOOP member id
     * the person saw on the page; if the link changed meanwhile, nothing is deleted.
     */
    async confirmSwitch(input: {
      userId: number;
      sessionId: string;
      replaces: string;
      log?: Logger;
      requestId?: string | undefined;
    }): Promise<LinkedConnection> {
      const log = input.log ?? deps.logger;
      const { userId } = input;
      let switched: {
        connectionId: number;
        account: HeldAccount;
        scopes: string[];
        old: { id: number; sealed: SealedTokenRow[] } | undefined;
      };
      try {
        switched = await pool.transaction(async (tx) => {
          const held = await pendingSwitches.take(tx, input);
          if (!held) {
            throw new AccountSwitchError(
              'expired',
              'This request to switch WHOOP accounts expired or was already answered. Nothing was changed. Press Connect to try again.',
            );
          }
          const existing = await lockConnection(tx, userId);
          if ((existing?.provider_account_id ?? '') !== input.replaces) {
            throw new AccountSwitchError(
              'changed',
              'Your WHOOP link changed while this question was open. Nothing was changed. Press Connect to try again.',
            );
          }
          if (await linkedElsewhere(tx, userId, held.account.memberId)) throw alreadyLinkedElsewhere();
          let old: { id: number; sealed: SealedTokenRow[] } | undefined;
          if (existing) {
            old = { id: existing.id, sealed: await tokens.read(tx, existing.id) };
            await dropConnectionJobs(tx, existing.id);
            // Every integration_* row of the old account (records, raw payloads, runs, tokens, webhooks) cascades.
            await tx.query(
              sql.typeAlias('void')`DELETE FROM integration_connection WHERE id = ${existing.id}`,
            );
          }
          const connectionId = await writeLink(deps, tx, {
            userId,
            account: held.account,
            granted: held.tokens,
            requestId: input.requestId,
          });
          return { connectionId, account: held.account, scopes: held.tokens.scopes, old };
        });
      } catch (error) {
        // One-time: a refused switch does not stay pending (the rollback kept the held grant).
        if (!(error instanceof AccountSwitchError && error.code === 'expired')) {
          await pendingSwitches.discard(userId);
        }
        if (error instanceof AccountSwitchError || error instanceof LinkError) {
          log.warn({ userId, reason: error.code }, 'whoop account switch refused');
          throw error;
        }
        if (error instanceof TokenVaultError) return keysUnavailable(error, log);
        return raceForAccount(error);
      }
      log.info(
        {
          userId,
          deletedConnectionId: switched.old?.id,
          connectionId: switched.connectionId,
          whoopUserId: switched.account.memberId,
        },
        'whoop account switch: old account data deleted, new account linked',
      );
      if (switched.old && switched.old.sealed.length > 0) {
        await unlinking.revokeAtWhoop(switched.old.id, switched.old.sealed, log);
      }
      return {
        connectionId: switched.connectionId,
        whoopUserId: switched.account.memberId,
        memberName: switched.account.memberName,
        scopes: switched.scopes,
        created: true,
      };
    },

    /** Destroys the held grant; everything else stays as it was. False when nothing was waiting. */
    async cancelSwitch(input: { userId: number; log?: Logger }): Promise<boolean> {
      const log = input.log ?? deps.logger;
      const discarded = await pendingSwitches.discard(input.userId);
      log.info(
        { userId: input.userId, discarded },
        'whoop account switch cancelled: the held grant is destroyed',
      );
      return discarded;
    },
  };
}
