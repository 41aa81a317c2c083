// The four WHOOP collections the sync pages through, and how each record becomes a row.
import type { z } from 'zod';
import { cycleSchema, recoverySchema, sleepSchema, workoutSchema } from '../schemas.ts';
import { contentHash } from './canonical-json.ts';
import { cycleRow, recoveryRow, sleepRow, workoutRow } from './normalize.ts';
import type { Domain } from './runs.ts';

export type CollectionDomain = Exclude<Domain, 'profile' | 'body_measurement'>;

interface Collection {
  path: string;
  schema: z.ZodType;
  table: string;
  row: (record: never) => { external_id: string };
  id: (record: never) => string;
  /** the instant the watermark follows: newest first, so the first page holds the newest */
  anchor: (record: never) => string;
}

// Sleep before recovery: a new recovery finds its sleep's row (and so its local date) at once.
export const COLLECTIONS: Record<CollectionDomain, Collection> = {
  cycle: {
    path: '/v2/cycle',
    schema: cycleSchema,
    table: 'integration_cycle',
    row: cycleRow,
    id: (record: { id: number }) => String(record.id),
    anchor: (record: { start: string }) => record.start,
  },
  sleep: {
    path: '/v2/activity/sleep',
    schema: sleepSchema,
    table: 'integration_sleep',
    row: sleepRow,
    id: (record: { id: string }) => record.id,
    anchor: (record: { start: string }) => record.start,
  },
  recovery: {
    path: '/v2/recovery',
    schema: recoverySchema,
    table: 'integration_recovery',
    row: recoveryRow,
    id: (record: { cycle_id: number }) => String(record.cycle_id),
    // Recovery has no start; it appears when its sleep ends, and WHOOP filters it by that sleep.
    anchor: (record: { created_at: string }) => record.created_at,
  },
  workout: {
    path: '/v2/activity/workout',
    schema: workoutSchema,
    table: 'integration_workout',
    row: workoutRow,
    id: (record: { id: string }) => record.id,
    anchor: (record: { start: string }) => record.start,
  },
};

export const DOMAIN_ORDER: readonly Domain[] = [
  'profile',
  'body_measurement',
  'cycle',
  'sleep',
  'recovery',
  'workout',
];

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.join('.') || '(record)'}: ${issue.message}`)
    .join('; ')
    .slice(0, 2000);
}

/** Marks an id made up for a record whose own id could not be read. */
export const INVALID_ID_PREFIX = 'invalid:';

/** The id of a record that failed its schema, as far as it can be read. */
export function bestEffortId(record: unknown): string {
  if (record && typeof record === 'object') {
    const value = (record as Record<string, unknown>).id ?? (record as Record<string, unknown>).cycle_id;
    if (typeof value === 'number' || (typeof value === 'string' && /^[\w-]{1,64}$/.test(value)))
      return String(value);
  }
  return `${INVALID_ID_PREFIX}${contentHash(record).slice(0, 16)}`;
}
