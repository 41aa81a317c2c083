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
}

export interface SyncView {
  /** a run is queued, running or deferred: the card polls for progress */
  active: boolean;
  state: 'none' | 'queued' | 'running' | 'deferred' | 'ended';
  domains: DomainProgress[];
  resumeAt: { iso: string; text: string } | null;
  /** the last run's outcome, once it ended */
  result: { status: SyncRun['status']; text: string; at: { iso: string; text: string } | null } | null;
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

function resultText(run: SyncRun, added: number, updated: number): string {
  if (run.status === 'failed') return 'The last sync failed.';
  if (run.status === 'cancelled') return 'The last sync was cancelled: the link changed while it waited.';
  const changes =
    added === 0 && updated === 0
      ? 'Everything was already up to date.'
      : `${plural(added, 'record')} added, ${plural(updated, 'record')} updated.`;
  return run.status === 'partial' ? `${changes} Some data could not be read.` : changes;
}

export function syncView(run: SyncRun | null, timeZone: string): SyncView {
  if (!run) return { active: false, state: 'none', domains: [], resumeAt: null, result: null };
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
    };
  });
  const active = run.status === 'queued' || run.status === 'running' || run.status === 'deferred';
  const added = domains.reduce((sum, d) => sum + d.added, 0);
  const updated = domains.reduce((sum, d) => sum + d.updated, 0);
  return {
    active,
    state: active ? (run.status as 'queued' | 'running' | 'deferred') : 'ended',
    domains,
    resumeAt: run.status === 'deferred' ? instantView(run.resume_at, timeZone) : null,
    result: active
      ? null
      : {
          status: run.status,
          text: resultText(run, added, updated),
          at: instantView(run.finished_at, timeZone),
        },
  };
}
