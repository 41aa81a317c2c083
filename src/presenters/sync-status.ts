// What the WHOOP card says about syncing: live per-domain progress while a run is queued, running
// or waiting for WHOOP's daily limit, and the outcome of the last run once it ended.

import type { Domain, SyncRun } from '../services/whoop/sync/runs.ts';
import { instantView } from './date-formats.ts';

const DOMAIN_LABELS: Record<Domain, string> = {
  profile: 'Profile',
  body_measurement: 'Body measurement',
  cycle: 'Strain (cycles)',
  sleep: 'Sleep',
  recovery: 'Recovery',
  workout: 'Workouts',
};
const ORDER: readonly Domain[] = ['profile', 'body_measurement', 'cycle', 'sleep', 'recovery', 'workout'];

export interface DomainProgress {
  domain: Domain;
  label: string;
  state: 'waiting' | 'reading' | 'done' | 'failed';
  fetched: number;
  added: number;
  updated: number;
  /** stored records WHOOP no longer lists, marked deleted */
  removed: number;
  /** why this sync did not read the domain (it is read daily, or webhooks keep it current) */
  skipped: string | null;
}

export interface SyncView {
  /** a run is queued, running or deferred: the card polls for progress */
  active: boolean;
  state: 'none' | 'queued' | 'running' | 'deferred' | 'ended';
  domains: DomainProgress[];
  resumeAt: { iso: string; text: string } | null;
  /** how many seconds until the card looks again; null: nothing is active, it stops looking */
  pollSeconds: number | null;
  /** the last run's outcome, once it ended */
  result: { status: SyncRun['status']; text: string; at: { iso: string; text: string } | null } | null;
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

function resultText(run: SyncRun, added: number, updated: number, removed: number): string {
  if (run.status === 'failed') return 'The last sync failed.';
  if (run.status === 'cancelled') return 'The last sync was cancelled: the link changed while it waited.';
  const changes =
    added === 0 && updated === 0 && removed === 0
      ? 'Everything was already up to date.'
      : `${plural(added, 'record')} added, ${plural(updated, 'record')} updated${removed > 0 ? `, ${removed} deleted at WHOOP` : ''}.`;
  return run.status === 'partial' ? `${changes} Some data could not be read.` : changes;
}

// Every second while a run reads WHOOP. A worker takes a queued run within a second or so, so the
// first seconds after a press are watched as closely; a run that stays queued (busy workers) or waits
// for WHOOP's daily budget (hours) is looked at far less often: every watcher costs a request.
const POLL_RUNNING_SECONDS = 1;
const HANDOFF_MS = 10_000;
const POLL_QUEUED_SECONDS = 15;
const POLL_DEFERRED_SECONDS = 60;

function pollSecondsFor(run: SyncRun, now: number): number | null {
  if (run.status === 'running') return POLL_RUNNING_SECONDS;
  if (run.status === 'queued') {
    return now - run.queued_at.getTime() < HANDOFF_MS ? POLL_RUNNING_SECONDS : POLL_QUEUED_SECONDS;
  }
  if (run.status === 'deferred') return POLL_DEFERRED_SECONDS;
  return null;
}

export function syncView(run: SyncRun | null, timeZone: string, now: number = Date.now()): SyncView {
  if (!run)
    return { active: false, state: 'none', domains: [], resumeAt: null, pollSeconds: null, result: null };
  const domains = ORDER.map((domain): DomainProgress => {
    const counts = run.counts[domain];
    const state = counts?.error
      ? 'failed'
      : counts?.done
        ? 'done'
        : counts || run.current_domain === domain
          ? 'reading'
          : 'waiting';
    return {
      domain,
      label: DOMAIN_LABELS[domain],
      state,
      fetched: counts?.fetched ?? 0,
      added: domain === 'profile' ? 0 : (counts?.inserted ?? 0),
      updated: counts?.updated ?? 0,
      removed: counts?.deleted ?? 0,
      skipped: counts?.skipped ?? null,
    };
  });
  const active = run.status === 'queued' || run.status === 'running' || run.status === 'deferred';
  const added = domains.reduce((sum, d) => sum + d.added, 0);
  const updated = domains.reduce((sum, d) => sum + d.updated, 0);
  const removed = domains.reduce((sum, d) => sum + d.removed, 0);
  return {
    active,
    state: active ? (run.status as 'queued' | 'running' | 'deferred') : 'ended',
    domains,
    resumeAt: run.status === 'deferred' ? instantView(run.resume_at, timeZone) : null,
    pollSeconds: pollSecondsFor(run, now),
    result: active
      ? null
      : {
          status: run.status,
          text: resultText(run, added, updated, removed),
          at: instantView(run.finished_at, timeZone),
        },
  };
}

/**
 * The one sentence screen readers hear when a run ends. The card's progress lines are not a live
 * region (they change every second); this goes into a polite live region that stays on the page.
 */
export function syncAnnouncement(
  sync: SyncView,
  card: { status: string; lastSyncError: string | null },
): string | null {
  if (!sync.result) return null;
  if (card.status === 'reauth_required') return 'The WHOOP sync stopped: WHOOP needs you to reconnect.';
  if (sync.result.status === 'failed') {
    const why = card.lastSyncError ?? 'WHOOP did not answer as expected.';
    return `The WHOOP sync failed: ${why} The next sync will try again.`;
  }
  if (sync.result.status === 'cancelled') return sync.result.text;
  return `The WHOOP sync finished. ${sync.result.text}`;
}
