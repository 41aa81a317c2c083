// Why a sync stopped. Each class decides what happens next: reconnect, retry at the next run, or
// resume after the daily request budget resets. Messages are shown on the card: no tokens, no URLs.

/** The refresh token was refused (invalid_grant): only the person can fix it by reconnecting. */
export class ReauthRequiredError extends Error {
  override name = 'ReauthRequiredError';
}

/** The connection is not live any more (disconnected, or waiting for a reconnect). */
export class NotSyncableError extends Error {
  override name = 'NotSyncableError';
  readonly status: string;
  constructor(status: string) {
    super(`the connection is ${status.replace('_', ' ')}`);
    this.status = status;
  }
}

/** The app-wide daily request budget is spent: the sync resumes after `resumeAt`. */
export class DayBudgetSpentError extends Error {
  override name = 'DayBudgetSpentError';
  readonly resumeAt: Date;
  constructor(resumeAt: Date) {
    super(`the daily WHOOP request budget is spent until ${resumeAt.toISOString()}`);
    this.resumeAt = resumeAt;
  }
}

/** WHOOP answered 401 for a bearer token: the caller refreshes once and retries once. */
export class WhoopUnauthorizedError extends Error {
  override name = 'WhoopUnauthorizedError';
  constructor(what: string) {
    super(`WHOOP ${what} answered 401`);
  }
}

/** A collection answered a page token it had already given: stop instead of looping. */
export class RepeatedPageTokenError extends Error {
  override name = 'RepeatedPageTokenError';
  constructor(what: string) {
    super(`WHOOP ${what} repeated a page token; the listing was stopped`);
  }
}
