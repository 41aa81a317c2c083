// The sync history page: each run as a person reads it. Errors become sentences chosen by their
// code, never the stored technical text (which may name endpoints or internal details).
import type { SyncErrorCode, SyncRunSummary } from '../services/sync-history.ts';
import type { DomainCounts } from '../services/whoop/sync/runs.ts';
import { formatterFor } from './format.ts';

const DOMAINS: ReadonlyArray<[string, string]> = [
  ['profile', 'Profile'],
  ['body_measurement', 'Body measurement'],
  ['cycle', 'Strain (cycles)'],
  ['sleep', 'Sleep'],
  ['recovery', 'Recovery'],
  ['workout', 'Workouts'],
];

const TRIGGERS: Record<SyncRunSummary['trigger'], string> = {
  initial: 'First sync after linking',
  manual: 'Sync now',
  scheduled: 'Scheduled',
  internal: 'Requested by the service',
};

const STATUSES: Record<SyncRunSummary['status'], string> = {
  queued: 'Waiting to start',
  running: 'Running',
  deferred: 'Paused',
  succeeded: 'Succeeded',
  partial: 'Partly succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

export const ERROR_SENTENCES: Record<Exclude<SyncErrorCode, 'partial_data'>, string> = {
  reauth_required:
    "WHOOP no longer accepts this app's access to your account. Reconnect WHOOP on the Integrations page to resume syncing; your history is kept.",
  whoop_unavailable:
    'WHOOP was unavailable or answered with errors. Nothing is lost: the next sync tries again.',
  rate_limited:
    'WHOOP asked this app to slow down (too many requests at once). Nothing is lost: the next sync tries again.',
  quota_spent:
    "WHOOP's daily request limit for this app was used up. The sync continues by itself once the limit resets.",
  whoop_refused:
    'WHOOP refused a request for your data. The next sync tries again; if this keeps happening, reconnect WHOOP.',
  app_credentials:
    "WHOOP refused this server's app credentials. The server's operator has to fix this; your link is kept.",
  different_account:
    'WHOOP answered for a different WHOOP account than the one linked. Disconnect, then connect the account you want: if it is another account, you are asked before its data replaces the old one.',
  connection_changed:
    'The sync was cancelled: WHOOP was disconnected, or needed a reconnect, before it could run.',
  job_lost: 'The sync was interrupted on the server. The next sync starts again from where it stopped.',
  unexpected: 'Something went wrong on our side. It has been logged, and the next sync tries again.',
};

export interface RunView {
  id: number;
  when: { iso: string; text: string };
  trigger: string;
  status: SyncRunSummary['status'];
  statusText: string;
  duration: string | null;
  domains: Array<{ domain: string; label: string; text: string; failed: boolean }>;
  error: string | null;
  reference: string | null;
}

export interface HistoryView {
  runs: RunView[];
  olderHref: string | null;
}

/** "under a second", "4 s", "2 min 05 s", "1 h 03 min". */
export function runDuration(ms: number): string {
  if (ms < 1000) return 'under a second';
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(seconds % 60).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

function domainText(counts: DomainCounts): string {
  if (counts.skipped) return `not read: ${counts.skipped}`;
  const parts = [`${counts.fetched} read`, `${counts.inserted} new`, `${counts.updated} updated`];
  if (counts.unchanged > 0) parts.push(`${counts.unchanged} unchanged`);
  if (counts.deleted) parts.push(`${counts.deleted} deleted at WHOOP`);
  if (counts.rejected > 0) parts.push(`${counts.rejected} unreadable`);
  return counts.error ? `stopped (WHOOP refused it) after ${parts.join(', ')}` : parts.join(', ');
}

function partialSentence(run: SyncRunSummary): string {
  const stopped = DOMAINS.filter(([domain]) => run.counts[domain]?.error).map(([, label]) => label);
  const rejected = Object.values(run.counts).reduce((sum, counts) => sum + (counts?.rejected ?? 0), 0);
  const parts: string[] = [];
  if (stopped.length > 0) parts.push(`WHOOP refused to list ${stopped.join(', ')}`);
  if (rejected > 0)
    parts.push(
      `${plural(rejected, 'record')} WHOOP sent could not be read and ${rejected === 1 ? 'was' : 'were'} kept aside`,
    );
  const detail = parts.length > 0 ? `: ${parts.join('; ')}` : '';
  return `Most of your data was synced, but not all of it${detail}. The next sync tries again.`;
}

export function errorSentence(run: SyncRunSummary): string | null {
  if (!run.errorCode) return null;
  if (run.errorCode === 'partial_data') return partialSentence(run);
  return ERROR_SENTENCES[run.errorCode];
}

export function historyView(
  page: { runs: SyncRunSummary[]; olderBefore: number | null },
  timeZone: string,
): HistoryView {
  const fmt = formatterFor(timeZone);
  return {
    runs: page.runs.map((run) => {
      const at = run.startedAt ?? run.queuedAt;
      return {
        id: run.id,
        when: { iso: at.toISOString(), text: fmt.dateTime(at) },
        trigger: TRIGGERS[run.trigger],
        status: run.status,
        statusText:
          run.status === 'deferred' && run.resumeAt
            ? `Paused until ${fmt.dateTime(run.resumeAt)}`
            : STATUSES[run.status],
        duration: run.durationMs === null ? null : runDuration(run.durationMs),
        domains: DOMAINS.flatMap(([domain, label]) => {
          const counts = run.counts[domain];
          return counts ? [{ domain, label, text: domainText(counts), failed: Boolean(counts.error) }] : [];
        }),
        error: errorSentence(run),
        reference: run.requestId,
      };
    }),
    olderHref: page.olderBefore === null ? null : `/integrations/whoop/history?before=${page.olderBefore}`,
  };
}
