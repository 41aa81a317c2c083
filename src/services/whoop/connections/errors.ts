// Why nothing was linked (or switched), in words a person can act on. Never carries a token or a code.
import type { LogSink as Logger } from '../../logger.ts';
import { TokenVaultError } from '../../token-vault/index.ts';

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

export class LinkError extends Error {
  override name = 'LinkError';
  readonly code: LinkErrorCode;
  constructor(code: LinkErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export const nothingLinked = 'Nothing was linked.';

/** The vault could not seal or open (KMS down, key missing): say so plainly, log the detail. */
export function keysUnavailable(error: unknown, log: Logger): never {
  if (!(error instanceof TokenVaultError)) throw error;
  log.error({ err: error, code: error.code }, 'whoop oauth: token keys unavailable');
  throw new LinkError(
    'keys_unavailable',
    `Linking WHOOP is not possible right now: the server cannot protect the tokens. ${nothingLinked} Try again later.`,
  );
}

export function alreadyLinkedElsewhere(): LinkError {
  return new LinkError(
    'account_linked_elsewhere',
    `This WHOOP account is already linked to another user of this app. ${nothingLinked}`,
  );
}
