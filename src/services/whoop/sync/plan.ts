// What one pass reads. Every pass lists cycles (no webhook covers them). Profile and body measurement
// change rarely and are read at most daily. While webhooks flow, a scheduled pass lists sleep, recovery
// and workouts only once a day, over a short window that catches dropped webhooks; once webhooks have
// been silent for WHOOP_WEBHOOK_SILENCE_HOURS, the full schedule resumes. Syncs a person asked for
// (first link, Sync now, the internal API) always read the collections in full.
import type { SyncTrigger } from './runs.ts';

const HOUR_MS = 3_600_000;
// "Daily" with slack: two scheduled syncs 12 h apart read profile and body in exactly one of them,
// even when a run starts a little earlier one day than the day before.
export const DAILY_MS = 20 * HOUR_MS;
// The window a webhook-era listing reaches back: a day of dropped webhooks, plus slack for late scoring.
export const WEBHOOK_ERA_WINDOW_MS = 26 * HOUR_MS;

export interface PassPlan {
  profile: boolean;
  /** sleep, recovery and workout: full (from the watermark), short (the webhook-era window), or skip */
  covered: 'full' | 'short' | 'skip';
}

export const FULL_PASS: PassPlan = { profile: true, covered: 'full' };

export interface ConnectionFacts {
  profileReadAt: Date | null;
  lastWebhookAt: Date | null;
  coveredListedAt: Date | null;
}

export function planPass(
  trigger: SyncTrigger,
  facts: ConnectionFacts,
  options: { now: number; webhookSilenceMs: number },
): PassPlan {
  const { now } = options;
  const olderThanADay = (at: Date | null) => at === null || now - at.getTime() >= DAILY_MS;
  const profile = olderThanADay(facts.profileReadAt);
  const webhooksFlow =
    facts.lastWebhookAt !== null && now - facts.lastWebhookAt.getTime() < options.webhookSilenceMs;
  if (trigger !== 'scheduled' || !webhooksFlow) return { profile, covered: 'full' };
  return { profile, covered: olderThanADay(facts.coveredListedAt) ? 'short' : 'skip' };
}
