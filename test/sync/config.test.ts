import t from 'tap';
import { ConfigError, loadConfig } from '../../src/config.ts';

t.test('sync settings: defaults, and every bad value named', async (t) => {
  t.same(loadConfig({ NODE_ENV: 'test' }).sync, {
    schedule: '0 6,18 * * *',
    timeZone: 'UTC',
    backfillDays: 365,
    lookbackDays: 3,
    rateLimitPerMinute: 100,
    rateLimitPerDay: 10_000,
    requestTimeoutMs: 15_000,
    manualCooldownMs: 120_000,
    webhookSilenceMs: 24 * 3_600_000,
  });
  const custom = loadConfig({
    NODE_ENV: 'test',
    SYNC_SCHEDULE: '*/30 * * * *',
    SYNC_TIMEZONE: 'Europe/Berlin',
    WHOOP_BACKFILL_DAYS: '30',
    WHOOP_RATE_LIMIT_PER_MINUTE: '50',
    WHOOP_WEBHOOK_SILENCE_HOURS: '6',
  }).sync;
  t.match(custom, {
    schedule: '*/30 * * * *',
    timeZone: 'Europe/Berlin',
    backfillDays: 30,
    rateLimitPerMinute: 50,
    webhookSilenceMs: 6 * 3_600_000,
  });

  const problems = (() => {
    try {
      loadConfig({
        NODE_ENV: 'test',
        SYNC_SCHEDULE: 'twice a day',
        SYNC_TIMEZONE: 'Mars/Olympus',
        WHOOP_RATE_LIMIT_PER_DAY: '0',
        WHOOP_WEBHOOK_SILENCE_HOURS: 'never',
      });
      return [];
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return error.problems;
    }
  })();
  t.match(problems.join('\n'), /SYNC_SCHEDULE: must be a cron expression/);
  t.match(problems.join('\n'), /SYNC_TIMEZONE: must be an IANA time zone/);
  t.match(problems.join('\n'), /WHOOP_RATE_LIMIT_PER_DAY/);
  t.match(problems.join('\n'), /WHOOP_WEBHOOK_SILENCE_HOURS/);
});
