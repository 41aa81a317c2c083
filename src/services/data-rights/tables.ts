// Which tables hold a person's data, in one list: the export reads these (columns discovered from the
// database, so a new column is exported without a change here), and test/data-rights checks that every
// table with a user_id or connection_id column is either exported or withheld below, on purpose.
// Adding a table to the export is one line.

/** How a row belongs to a person: the account row itself, a user_id column, or one of their connections. */
export type Ownership = 'account' | 'user' | 'connection';

export interface ExportedTable {
  table: string;
  /** the folder of the archive its files go to */
  folder: 'account' | 'manual-logs' | 'whoop';
  owner: Ownership;
  /** columns never exported (secrets, or plumbing that means nothing outside this server) */
  withheld?: readonly string[];
}

// Every exported table has an `id` column: the export pages through rows by it. A table not (yet) in
// the database, while a migration lags the code, is left out rather than failing the download.
export const EXPORTED_TABLES: readonly ExportedTable[] = [
  { table: 'app_user', folder: 'account', owner: 'account', withheld: ['password_hash'] },
  { table: 'sleep_entry', folder: 'manual-logs', owner: 'user' },
  { table: 'workout_session', folder: 'manual-logs', owner: 'user' },
  {
    table: 'integration_connection',
    folder: 'whoop',
    owner: 'user',
    // A process's lease on the token refresh: says nothing about the person.
    withheld: ['refresh_lease_owner', 'refresh_lease_until'],
  },
  { table: 'integration_sync_run', folder: 'whoop', owner: 'connection' },
  { table: 'integration_raw_event', folder: 'whoop', owner: 'connection' },
  { table: 'integration_webhook_event', folder: 'whoop', owner: 'connection' },
  { table: 'integration_cycle', folder: 'whoop', owner: 'user' },
  { table: 'integration_sleep', folder: 'whoop', owner: 'user' },
  { table: 'integration_recovery', folder: 'whoop', owner: 'user' },
  { table: 'integration_workout', folder: 'whoop', owner: 'user' },
  { table: 'integration_body_measurement', folder: 'whoop', owner: 'user' },
];

/** Tables with a person's rows that the export leaves out, and why. */
export const WITHHELD_TABLES: Readonly<Record<string, string>> = {
  integration_token: 'sealed WHOOP tokens: credentials, never handed out',
  session: 'web session ids: whoever holds one is signed in',
  oauth_state: 'one-time WHOOP link requests: hashes and a sealed PKCE verifier',
  integration_pending_switch: 'a WHOOP account switch awaiting confirmation: sealed tokens, gone in minutes',
};
