// Freshness as a person sees it: from the simulator step in which a record appeared or changed at
// WHOOP to the step after which the app's row holds that version (or a newer one), plus the real time
// the app took within that step. Records are compared by WHOOP's updated_at (provider_updated_at).
import { z } from 'zod';
import type { DatabasePool } from '../../src/services/db/pool.ts';
import { sql } from '../../src/services/db/sql.ts';
import type { MemberHistory } from '../../src/whoop-sim/index.ts';

export const KINDS = ['cycle', 'sleep', 'recovery', 'workout'] as const;
export type Kind = (typeof KINDS)[number];

const TABLE: Record<Kind, string> = {
  cycle: 'integration_cycle',
  sleep: 'integration_sleep',
  recovery: 'integration_recovery',
  workout: 'integration_workout',
};

interface Change {
  kind: Kind;
  key: string;
  updatedAt: number;
  step: number;
}

export interface Landed {
  kind: Kind;
  minutes: number;
  /** shown within the step it appeared in (a webhook, or a scheduled sync in that very step) */
  sameStep: boolean;
}

const storedRow = z.object({
  connection_id: z.number(),
  external_id: z.string(),
  updated_at: z.date().nullable(),
});

/** Each record of a member's history: its key in the app (connection, kind, external id) and version. */
function versions(connectionId: number, truth: MemberHistory) {
  const out: Array<{ kind: Kind; key: string; json: string; updatedAt: number }> = [];
  const add = (kind: Kind, id: string, record: { updated_at: string }) =>
    out.push({
      kind,
      key: `${connectionId}:${kind}:${id}`,
      json: JSON.stringify(record),
      updatedAt: Date.parse(record.updated_at),
    });
  for (const cycle of truth.cycles) add('cycle', String(cycle.id), cycle);
  for (const sleep of truth.sleeps) add('sleep', sleep.id, sleep);
  for (const recovery of truth.recoveries) add('recovery', String(recovery.cycle_id), recovery);
  for (const workout of truth.workouts) add('workout', workout.id, workout);
  return out;
}

export function createFreshnessTracker(stepMs: number) {
  const seen = new Map<string, string>();
  let pending: Change[] = [];
  const landed: Landed[] = [];

  return {
    /** Notes what changed at WHOOP since the last look; `measured` false only remembers it. */
    observe(
      step: number,
      histories: ReadonlyArray<{ connectionId: number; truth: MemberHistory }>,
      measured: boolean,
    ) {
      for (const { connectionId, truth } of histories) {
        for (const version of versions(connectionId, truth)) {
          if (seen.get(version.key) === version.json) continue;
          seen.set(version.key, version.json);
          if (measured)
            pending.push({ kind: version.kind, key: version.key, updatedAt: version.updatedAt, step });
        }
      }
    },

    /** Which pending changes the app's rows now show; `realMs`: wall time spent in this step so far. */
    async check(pool: DatabasePool, step: number, realMs: number) {
      if (pending.length === 0) return;
      const stored = new Map<string, number>();
      for (const kind of KINDS) {
        const rows = await pool.any(sql.type(storedRow)`
          SELECT connection_id, external_id, provider_updated_at AS updated_at
          FROM ${sql.identifier([TABLE[kind]])} WHERE deleted_at IS NULL
        `);
        for (const row of rows)
          if (row.updated_at)
            stored.set(`${row.connection_id}:${kind}:${row.external_id}`, row.updated_at.getTime());
      }
      const still: Change[] = [];
      for (const change of pending) {
        const at = stored.get(change.key);
        if (at === undefined || at < change.updatedAt) {
          still.push(change);
          continue;
        }
        landed.push({
          kind: change.kind,
          minutes: ((step - change.step) * stepMs + realMs) / 60_000,
          sameStep: step === change.step,
        });
      }
      pending = still;
    },

    landed: () => landed,
    notShown: () => pending.length,
  };
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}
