// However many people sync, the metrics keep the same series: no label carries a user, an email, a
// WHOOP member, a connection or a raw URL.
import t from 'tap';
import { z } from 'zod';
import { createDbPool } from '../../src/services/db/pool.ts';
import { sql } from '../../src/services/db/sql.ts';
import { createServices } from '../../src/services/index.ts';
import { CLIENT_ID, REDIRECT_URI, startSyncFixture } from '../sync/support/fixture.ts';
import { moved, parseExposition, type Sample, SYNC_METRIC_PREFIXES } from './support.ts';

const SCOPES = 'offline read:recovery read:cycles read:workout read:sleep read:profile read:body_measurement';
const idRow = z.object({ id: z.number() });

interface Person {
  userId: number;
  email: string;
  memberId: number;
  connectionId: number;
  runId: number;
}

/** Runs `task` over `items`, `width` at a time. */
async function inBatches<T, R>(items: T[], width: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += width) {
    results.push(...(await Promise.all(items.slice(start, start + width).map(task))));
  }
  return results;
}

t.test('label sets stay bounded when 100 different people sync', async (t) => {
  const fixture = await startSyncFixture(t, { env: { WHOOP_BACKFILL_DAYS: '2' } });
  // One process of the app with room for several syncs at once (each holds a connection for its slot).
  const pool = await createDbPool(fixture.databaseUrl, { maximumPoolSize: 20 });
  t.teardown(() => pool.end());
  const services = createServices({ config: fixture.config, pool, logger: fixture.logs.logger });
  t.teardown(() => services.close());
  fixture.sim.setConsent({ autoApprove: 'grant' });
  let created = 0;

  /** A person (inserted directly: password hashing is not under test) links a new WHOOP member. */
  async function link(): Promise<Person> {
    created += 1;
    const email = `label-person-${created}@example.test`;
    const member = fixture.sim.createMember({ days: 1 });
    const user = await pool.one(sql.type(idRow)`
      INSERT INTO app_user (email, password_hash, display_name) VALUES (${email}, 'not-a-hash', 'Label test')
      RETURNING id
    `);
    const authorize = new URL(`${fixture.sim.oauthBaseUrl}/auth`);
    authorize.search = new URLSearchParams({
      response_type: 'code',
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT_URI,
      scope: SCOPES,
      state: `label-state-${created}`,
      login_hint: String(member.userId),
    }).toString();
    const consent = await fetch(authorize, { redirect: 'manual' });
    const code = new URL(consent.headers.get('location') ?? 'http://invalid').searchParams.get('code') ?? '';
    const linked = await services.whoop.exchangeCode({ userId: user.id, code });
    const run = await pool.one(sql.type(idRow)`
      SELECT id FROM integration_sync_run WHERE connection_id = ${linked.connectionId}
    `);
    return {
      userId: user.id,
      email,
      memberId: member.userId,
      connectionId: linked.connectionId,
      runId: run.id,
    };
  }

  const people: Person[] = [];
  async function linkAndSync(count: number) {
    const added = await inBatches(
      Array.from({ length: count }, () => link),
      10,
      (task) => task(),
    );
    const outcomes = await inBatches(added, 5, (person) => services.whoopSync.execute(person.runId));
    if (outcomes.some((outcome) => outcome !== 'succeeded')) throw new Error(`syncs ended ${outcomes}`);
    people.push(...added);
  }
  const scrape = async () => parseExposition(await services.metrics.registry.metrics());
  const seriesOf = (samples: Sample[]) =>
    new Set(
      samples
        .filter((sample) => SYNC_METRIC_PREFIXES.some((prefix) => sample.name.startsWith(prefix)))
        .map((sample) => sample.series),
    );

  await linkAndSync(10);
  const early = seriesOf(await scrape());
  await linkAndSync(90);
  const samples = await scrape();
  const late = seriesOf(samples);
  t.equal(new Set(people.map((person) => person.memberId)).size, 100, '100 people, 100 WHOOP members');
  t.equal(
    moved([], samples)('integration_sync_runs_total', { trigger: 'initial', outcome: 'succeeded' }),
    100,
  );
  t.ok(early.size > 20, `${early.size} series after 10 people`);
  // Which domains the first ten people happen to have depends on the hour their data was made at (no
  // workout yet today, say); a label that carried a person would add at least one series per person.
  const added = [...late].filter((series) => !early.has(series));
  t.ok(added.length < 10, `90 more people added ${added.length} series: ${added.join(', ')}`);
  t.ok(
    [...early].every((series) => late.has(series)),
    'no series went away',
  );

  const allowed: Record<string, RegExp> = {
    provider: /^whoop$/,
    trigger: /^(initial|manual|scheduled|internal)$/,
    outcome: /^(succeeded|partial|failed|cancelled)$/,
    domain: /^(profile|body_measurement|cycle|sleep|recovery|workout)$/,
    action: /^(inserted|updated|unchanged|rejected)$/,
    endpoint: /^(\/([a-z0-9_]+|\{id\}))+$/,
    status: /^(0|[1-5]\d\d|connected|syncing|error|reauth_required|disconnected)$/,
    kind: /^(server|network|timeout|client|invalid_record)$/,
    reason: /^(invalid_grant|transient|not_stored)$/,
    window: /^(minute|day)$/,
    state: /^(waiting|running|failed)$/,
    le: /^([\d.]+|\+Inf)$/,
  };
  const personal = new Set(
    people.flatMap((person) => [
      String(person.userId),
      person.email,
      String(person.memberId),
      String(person.connectionId),
    ]),
  );
  const problems: string[] = [];
  for (const sample of samples) {
    if (!SYNC_METRIC_PREFIXES.some((prefix) => sample.name.startsWith(prefix))) continue;
    for (const [key, labelValue] of Object.entries(sample.labels)) {
      if (!allowed[key]?.test(labelValue)) problems.push(`${sample.series}: ${key}="${labelValue}"`);
      if (personal.has(labelValue) && key !== 'status' && key !== 'le')
        problems.push(`${sample.series}: a personal value`);
    }
  }
  t.same(problems, [], 'only known labels with bounded values, nothing personal');
});
