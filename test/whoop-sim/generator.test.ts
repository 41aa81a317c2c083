import t from 'tap';
import type { WhoopCycle, WhoopSleep } from '../../src/services/whoop/schemas.ts';
import { generateHistory, type MemberHistory } from '../../src/whoop-sim/index.ts';
import { control, FIXED_NOW, startSim } from './helpers.ts';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function localDate(iso: string, offset: string): string {
  const m = /^([+-])(\d{2}):(\d{2})$/.exec(offset);
  const minutes = m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  return new Date(Date.parse(iso) + minutes * 60_000).toISOString().slice(0, 10);
}

t.test('the generator is deterministic for a seed', async (t) => {
  const input = {
    userId: 10129,
    seed: 99,
    days: 45,
    timezoneOffset: '+05:30',
    now: FIXED_NOW,
    inProgress: true,
  };
  t.same(generateHistory(input), generateHistory({ ...input }), 'same seed, same history');
  t.notSame(
    generateHistory(input).sleeps,
    generateHistory({ ...input, seed: 100 }).sleeps,
    'another seed differs',
  );

  // two independent simulators built with the same seed serve the same data over HTTP
  const truths: MemberHistory[] = [];
  for (let i = 0; i < 2; i++) {
    const sim = await startSim(t, { seed: 7 });
    const created = await control<{ userId: number }>(sim, 'POST', '/members', {
      days: 30,
      timezoneOffset: '-10:00',
    });
    t.equal(created.status, 201);
    truths.push((await control<MemberHistory>(sim, 'GET', `/members/${created.body.userId}/truth`)).body);
  }
  t.same(truths[0], truths[1]);
  t.equal(truths[0]?.cycles.length, 30);
});

for (const timezoneOffset of ['Z', '+05:30', '-10:00', '-03:30']) {
  t.test(`a realistic history (offset ${timezoneOffset})`, async (t) => {
    const days = 120;
    const h = generateHistory({ userId: 10200, seed: 5, days, timezoneOffset, now: FIXED_NOW });

    t.equal(h.cycles.length, days, 'one cycle per day');
    const open = h.cycles.filter((c) => c.end === undefined);
    t.same(open, [h.cycles[0]], 'only the newest cycle has no end');
    const cycles = [...h.cycles].reverse();
    t.ok(
      cycles.slice(1).every((c, i) => cycles[i]?.end === c.start),
      'each cycle ends when the next one starts',
    );
    t.ok(h.cycles.every((c) => Number.isInteger(c.id)) && new Set(h.cycles.map((c) => c.id)).size === days);

    const all = [...h.cycles, ...h.sleeps, ...h.workouts, ...h.recoveries] as Array<Record<string, unknown>>;
    const stamps = all.flatMap((r) => ['created_at', 'updated_at', 'start', 'end'].map((k) => r[k]));
    t.ok(
      stamps.every((s) => s === undefined || (typeof s === 'string' && ISO_MS.test(s))),
      'timestamps are ISO-8601 UTC with ms',
    );
    t.ok(all.every((r) => r.user_id === 10200));
    t.ok(
      [...h.sleeps, ...h.workouts].every((r) => UUID.test(r.id)),
      'uuid sleep and workout ids',
    );
    t.ok([...h.cycles, ...h.sleeps, ...h.workouts].every((r) => r.timezone_offset === timezoneOffset));

    const main = h.sleeps.filter((s) => !s.nap);
    const naps = h.sleeps.filter((s) => s.nap);
    t.equal(main.length, days, 'one main sleep per cycle');
    t.ok(
      main.every((s) => h.cycles.find((c) => c.id === s.cycle_id)?.start === s.start),
      'a cycle starts when its main sleep starts',
    );
    t.ok(naps.length > 5, `occasional naps (${naps.length})`);
    // at FIXED_NOW it is 05:20 at -10:00: that member is still asleep, so no recovery yet
    const inProgress = main.filter((s) => Date.parse(s.end) === FIXED_NOW);
    t.ok(
      inProgress.every((s) => s.score_state === 'PENDING_SCORE'),
      'a sleep under way is pending',
    );
    t.equal(h.recoveries.length, main.length - inProgress.length, 'a recovery per finished main sleep');
    t.ok(
      h.recoveries.every((r) => main.some((s) => s.id === r.sleep_id && s.cycle_id === r.cycle_id)),
      'recoveries are keyed by cycle and main sleep, never a nap',
    );
    t.ok(h.recoveries.every((r) => !('id' in r) && !('timezone_offset' in r)));

    const scored = h.sleeps.filter((s) => s.score_state === 'SCORED');
    const addsUp = scored.every((s) => {
      const st = s.score.stage_summary;
      const parts =
        st.total_awake_time_milli +
        st.total_no_data_time_milli +
        st.total_light_sleep_time_milli +
        st.total_slow_wave_sleep_time_milli +
        st.total_rem_sleep_time_milli;
      return (
        parts === st.total_in_bed_time_milli &&
        st.total_in_bed_time_milli === Date.parse(s.end) - Date.parse(s.start)
      );
    });
    t.ok(addsUp, `stage totals add up to time in bed for all ${scored.length} scored sleeps`);
    t.ok(
      main.some((s) => localDate(s.start, timezoneOffset) !== localDate(s.end, timezoneOffset)),
      'some sleeps cross local midnight',
    );

    const states = new Set([...h.sleeps, ...h.workouts].map((r) => r.score_state));
    t.same([...states].sort(), ['PENDING_SCORE', 'SCORED', 'UNSCORABLE'], 'all three score states occur');
    t.ok(
      [...h.sleeps, ...h.workouts, ...h.recoveries].every(
        (r) => (r.score_state === 'SCORED') === 'score' in r,
      ),
      'score is present only when SCORED',
    );

    const perCycle = new Map<number, number>();
    for (const w of h.workouts) {
      const cycle = h.cycles.find(
        (c) => c.start <= w.start && (c.end === undefined || w.start < (c.end ?? '')),
      );
      perCycle.set(cycle?.id ?? -1, (perCycle.get(cycle?.id ?? -1) ?? 0) + 1);
    }
    t.ok(
      [...perCycle.values()].every((n) => n >= 1 && n <= 3),
      'at most 3 workouts a day',
    );
    t.ok(perCycle.size < days, 'and some days without any');
    t.notOk(perCycle.has(-1), 'every workout falls in a cycle');
    t.ok(new Set(h.workouts.map((w) => w.sport_name)).size >= 3, 'varied sport_name');
    const scoredWorkouts = h.workouts.filter((w) => w.score_state === 'SCORED');
    t.ok(
      scoredWorkouts.some((w) => w.score.percent_recorded === 1),
      'percent_recorded as 1.0',
    );
    t.ok(
      scoredWorkouts.every((w) => {
        const z = w.score.zone_durations;
        const sum = [
          z.zone_zero_milli,
          z.zone_one_milli,
          z.zone_two_milli,
          z.zone_three_milli,
          z.zone_four_milli,
        ]
          .concat(z.zone_five_milli)
          .reduce<number>((a, b) => a + (b ?? 0), 0);
        return sum === Date.parse(w.end) - Date.parse(w.start);
      }),
      'heart-rate zones add up to the workout duration',
    );
    const nulls = [
      h.recoveries.some((r) => r.score_state === 'SCORED' && r.score.spo2_percentage === null),
      h.recoveries.some((r) => r.score_state === 'SCORED' && r.score.skin_temp_celsius === null),
      scoredWorkouts.some((w) => w.score.distance_meter === null),
      scoredWorkouts.some((w) => !('distance_meter' in w.score)),
    ];
    t.same(nulls, [true, true, true, true], 'optional metrics are sometimes null, sometimes absent');
  });
}

t.test('time moves the data: sleeps grow while in progress, then get scored; cycles close', async (t) => {
  const sim = await startSim(t);
  const member = sim.createMember({ days: 3, timezoneOffset: '+05:30' });
  const before = sim.groundTruth(member.userId);
  const seen = new Map<string, Array<{ state: string; end: string }>>();
  let strain = (before.cycles[0] as WhoopCycle & { score: { strain: number } }).score.strain;
  let rising = true;
  for (let step = 0; step < 144; step++) {
    const { events } = sim.advanceTime(10 * 60_000);
    const truth = sim.groundTruth(member.userId);
    for (const s of truth.sleeps) {
      const history = seen.get(s.id) ?? [];
      const last = history.at(-1);
      if (!last || last.state !== s.score_state || last.end !== s.end)
        history.push({ state: s.score_state, end: s.end });
      seen.set(s.id, history);
    }
    const current = truth.cycles[0] as WhoopCycle;
    if (current.score_state === 'SCORED' && current.id === (before.cycles[0] as WhoopCycle).id) {
      rising &&= current.score.strain >= strain;
      strain = current.score.strain;
    }
    t.ok(events.every((e) => e.userId === member.userId));
  }
  t.ok(rising, "the current cycle's strain keeps rising");
  const after = sim.groundTruth(member.userId);
  t.equal(after.cycles.length, 4, 'a new day brought a new cycle');
  t.ok((after.cycles[1] as WhoopCycle).end, 'the previous current cycle now has an end');
  t.equal((after.cycles[0] as WhoopCycle).end, undefined);

  const newNight = after.sleeps.find(
    (s) => !s.nap && !before.sleeps.some((b) => b.id === s.id),
  ) as WhoopSleep;
  const history = seen.get(newNight.id) ?? [];
  t.equal(history[0]?.state, 'PENDING_SCORE', 'first seen in progress, pending');
  t.ok(history.filter((h) => h.state === 'PENDING_SCORE').length > 3, 'its end grew while in progress');
  t.equal(history.at(-1)?.state, 'SCORED', 'then it was scored');
  t.ok(
    after.recoveries.some((r) => r.sleep_id === newNight.id),
    'and got a recovery',
  );
});
