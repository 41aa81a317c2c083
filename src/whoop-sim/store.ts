// Members and their records. Records follow the clock (tick) until a control call touches them;
// touched records are pinned so that the clock no longer overwrites what a test set up.
import {
  cycleSchema,
  recoverySchema,
  sleepSchema,
  type WhoopBodyMeasurement,
  type WhoopCycle,
  type WhoopProfile,
  type WhoopRecovery,
  type WhoopSleep,
  type WhoopWebhookEventType,
  type WhoopWorkout,
  workoutSchema,
} from '../services/whoop/schemas.ts';
import {
  bodyOf,
  buildRecovery,
  buildSleep,
  buildWorkout,
  dayIsSettled,
  type MemberHistory,
  materializeDay,
  memberSpec,
  type NewMemberInput,
  profileOf,
} from './generator.ts';
import {
  type DayPlan,
  type MemberSpec,
  onsetOf,
  planDay,
  type SleepPlan,
  type Traits,
  type WorkoutPlan,
} from './plans.ts';
import { hashSeed } from './prng.ts';
import { isTimezoneOffset } from './time.ts';

export const RESOURCE_KINDS = ['cycle', 'sleep', 'recovery', 'workout'] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];
export type WhoopRecord = WhoopCycle | WhoopSleep | WhoopRecovery | WhoopWorkout;

export interface DataEvent {
  userId: number;
  type: WhoopWebhookEventType;
  /** uuid; the sleep's id for recovery events */
  id: string;
}

export class SimError extends Error {
  readonly statusCode: number;
  constructor(statusCode: number, message: string) {
    super(message);
    this.statusCode = statusCode;
  }
}

export interface CreateMemberOptions {
  email?: string | undefined;
  firstName?: string | undefined;
  lastName?: string | undefined;
  /** days of history including the current, unfinished cycle (default 30) */
  days?: number | undefined;
  /** '+05:30', '-10:00', 'Z' (default 'Z') */
  timezoneOffset?: string | undefined;
  seed?: number | undefined;
  withNaps?: boolean | undefined;
  /** false: the body measurement endpoint answers 404 for this member */
  withBody?: boolean | undefined;
  /** adds a workout under way at creation that grows as time advances */
  inProgress?: boolean | undefined;
}

export interface MemberSummary {
  userId: number;
  email: string;
  firstName: string;
  lastName: string;
  timezoneOffset: string;
  seed: number;
  firstDay: string;
  counts: Record<'cycles' | 'sleeps' | 'recoveries' | 'workouts', number>;
  inProgressWorkoutId?: string | undefined;
}

interface Member {
  spec: MemberSpec;
  traits: Traits;
  profile: WhoopProfile;
  body: WhoopBodyMeasurement | undefined;
  lastDay: number;
  openDays: Map<number, DayPlan>;
  daysByCycle: Map<number, DayPlan>;
  sleepPlans: Map<string, SleepPlan>;
  workoutPlans: Map<string, WorkoutPlan>;
  cycles: Map<number, WhoopCycle>;
  sleeps: Map<string, WhoopSleep>;
  recoveries: Map<number, WhoopRecovery>;
  workouts: Map<string, WhoopWorkout>;
  pinned: Set<string>;
  deleted: Set<string>;
}

const startOf = (r: { start: string }) => Date.parse(r.start);

export class SimStore {
  readonly #members = new Map<number, Member>();
  readonly #seed: number;
  #nextUserId = 10129;

  constructor(seed: number) {
    this.#seed = seed;
  }

  createMember(options: CreateMemberOptions, now: number): MemberSummary {
    const days = options.days ?? 30;
    if (!Number.isInteger(days) || days < 1 || days > 3650) throw new SimError(400, 'days must be 1..3650');
    const timezoneOffset = options.timezoneOffset ?? 'Z';
    if (!isTimezoneOffset(timezoneOffset))
      throw new SimError(400, 'timezoneOffset must be +hh:mm, -hh:mm or Z');
    const userId = this.#nextUserId++;
    const input: NewMemberInput = {
      ...options,
      userId,
      seed: options.seed ?? hashSeed(this.#seed, 'member', userId),
      days,
      timezoneOffset,
      now,
    };
    const { spec, traits } = memberSpec(input);
    const member: Member = {
      spec,
      traits,
      profile: profileOf(spec),
      body: bodyOf(spec, traits),
      lastDay: spec.firstDay - 1,
      openDays: new Map(),
      daysByCycle: new Map(),
      sleepPlans: new Map(),
      workoutPlans: new Map(),
      cycles: new Map(),
      sleeps: new Map(),
      recoveries: new Map(),
      workouts: new Map(),
      pinned: new Set(),
      deleted: new Set(),
    };
    this.#members.set(userId, member);
    // history that predates any grant sends no webhooks
    this.#advance(member, now);
    return this.summary(userId);
  }

  summary(userId: number): MemberSummary {
    const m = this.#member(userId);
    return {
      userId,
      email: m.profile.email,
      firstName: m.profile.first_name,
      lastName: m.profile.last_name,
      timezoneOffset: m.spec.timezoneOffset,
      seed: m.spec.seed,
      firstDay: new Date(m.spec.firstDay * 86_400_000).toISOString().slice(0, 10),
      counts: {
        cycles: m.cycles.size,
        sleeps: m.sleeps.size,
        recoveries: m.recoveries.size,
        workouts: m.workouts.size,
      },
      inProgressWorkoutId: m.spec.liveWorkout?.id,
    };
  }

  memberIds(): number[] {
    return [...this.#members.keys()];
  }

  hasMember(userId: number): boolean {
    return this.#members.has(userId);
  }

  /** Moves every member's data to `now`; returns what changed. */
  tick(now: number): DataEvent[] {
    const events: DataEvent[] = [];
    for (const member of this.#members.values()) events.push(...this.#advance(member, now));
    return events;
  }

  #advance(member: Member, now: number): DataEvent[] {
    const { spec, traits } = member;
    while (onsetOf(spec, traits, member.lastDay + 1) <= now) {
      member.lastDay++;
      const day = planDay(spec, traits, member.lastDay);
      member.openDays.set(member.lastDay, day);
      member.daysByCycle.set(day.cycleId, day);
      for (const s of [day.sleep, ...day.naps]) member.sleepPlans.set(s.id, s);
      for (const w of day.workouts) member.workoutPlans.set(w.id, w);
    }
    const events: DataEvent[] = [];
    const changed = (key: string, prev: unknown, next: unknown) =>
      !member.pinned.has(key) && !member.deleted.has(key) && JSON.stringify(prev) !== JSON.stringify(next);
    for (const [epochDay, day] of member.openDays) {
      const records = materializeDay(spec, day, now);
      const { cycle, recovery } = records;
      if (cycle && changed(`cycle:${cycle.id}`, member.cycles.get(cycle.id), cycle)) {
        member.cycles.set(cycle.id, cycle);
      }
      for (const sleep of records.sleeps) {
        if (changed(`sleep:${sleep.id}`, member.sleeps.get(sleep.id), sleep)) {
          member.sleeps.set(sleep.id, sleep);
          events.push({ userId: spec.userId, type: 'sleep.updated', id: sleep.id });
        }
      }
      if (
        recovery &&
        changed(`recovery:${recovery.cycle_id}`, member.recoveries.get(recovery.cycle_id), recovery)
      ) {
        member.recoveries.set(recovery.cycle_id, recovery);
        events.push({ userId: spec.userId, type: 'recovery.updated', id: recovery.sleep_id });
      }
      for (const workout of records.workouts) {
        if (changed(`workout:${workout.id}`, member.workouts.get(workout.id), workout)) {
          member.workouts.set(workout.id, workout);
          events.push({ userId: spec.userId, type: 'workout.updated', id: workout.id });
        }
      }
      if (dayIsSettled(day, now)) member.openDays.delete(epochDay);
    }
    return events;
  }

  profile(userId: number): WhoopProfile {
    return this.#member(userId).profile;
  }

  body(userId: number): WhoopBodyMeasurement | undefined {
    return this.#member(userId).body;
  }

  cycles(userId: number): WhoopCycle[] {
    return [...this.#member(userId).cycles.values()];
  }

  sleeps(userId: number): WhoopSleep[] {
    return [...this.#member(userId).sleeps.values()];
  }

  workouts(userId: number): WhoopWorkout[] {
    return [...this.#member(userId).workouts.values()];
  }

  recoveries(userId: number): WhoopRecovery[] {
    return [...this.#member(userId).recoveries.values()];
  }

  /** Sort/filter interval of a recovery: its sleep's, as WHOOP orders recoveries. */
  recoveryInterval(userId: number, recovery: WhoopRecovery): { start: number; end: number | null } {
    const m = this.#member(userId);
    const sleep = m.sleeps.get(recovery.sleep_id);
    if (sleep) return { start: startOf(sleep), end: Date.parse(sleep.end) };
    const cycle = m.cycles.get(recovery.cycle_id);
    return { start: cycle ? startOf(cycle) : 0, end: cycle?.end ? Date.parse(cycle.end) : null };
  }

  /** The member's records exactly as the API would serve them, newest first. */
  truth(userId: number): MemberHistory {
    const byStart = <T extends { start: string }>(a: T, b: T) => startOf(b) - startOf(a);
    return {
      profile: this.profile(userId),
      body_measurement: this.body(userId) ?? null,
      cycles: this.cycles(userId).sort(byStart),
      sleeps: this.sleeps(userId).sort(byStart),
      recoveries: this.recoveries(userId).sort(
        (a, b) => this.recoveryInterval(userId, b).start - this.recoveryInterval(userId, a).start,
      ),
      workouts: this.workouts(userId).sort(byStart),
    };
  }

  /** PENDING_SCORE / UNSCORABLE -> SCORED; a SCORED record is scored again with slightly different values. */
  rescore(userId: number, kind: ResourceKind, id: string, now: number): DataEvent[] {
    const m = this.#member(userId);
    if (kind === 'sleep') {
      const sleep = this.#find(m.sleeps, id, kind);
      const plan = this.#plan(m.sleepPlans, id);
      if (sleep.score_state === 'SCORED') {
        plan.mix = {
          ...plan.mix,
          awakeFrac: plan.mix.awakeFrac * 0.85,
          remFrac: Math.min(0.3, plan.mix.remFrac * 1.05),
        };
      }
      const updated = buildSleep(
        m.spec,
        { ...plan, start: startOf(sleep) },
        Date.parse(sleep.end),
        'SCORED',
        {
          createdAt: Date.parse(sleep.created_at),
          updatedAt: now,
        },
      );
      this.#put(m, 'sleep', id, updated);
      const events: DataEvent[] = [{ userId, type: 'sleep.updated', id }];
      const day = m.daysByCycle.get(updated.cycle_id);
      const recovery = m.recoveries.get(updated.cycle_id);
      if (!updated.nap && day && recovery) {
        const stamp = { createdAt: Date.parse(recovery.created_at), updatedAt: now };
        this.#put(m, 'recovery', String(updated.cycle_id), buildRecovery(m.spec, day, id, 'SCORED', stamp));
        events.push({ userId, type: 'recovery.updated', id });
      }
      return events;
    }
    if (kind === 'workout') {
      const workout = this.#find(m.workouts, id, kind);
      const plan = this.#plan(m.workoutPlans, id);
      if (workout.score_state === 'SCORED') {
        plan.mix = { ...plan.mix, kjPerHour: plan.mix.kjPerHour * 1.04, avgHr: plan.mix.avgHr + 1 };
      }
      const updated = buildWorkout(
        m.spec,
        { ...plan, start: startOf(workout) },
        Date.parse(workout.end),
        'SCORED',
        {
          createdAt: Date.parse(workout.created_at),
          updatedAt: now,
        },
      );
      this.#put(m, 'workout', id, updated);
      return [{ userId, type: 'workout.updated', id }];
    }
    if (kind === 'recovery') {
      const recovery = this.#recovery(m, id);
      const day = m.daysByCycle.get(recovery.cycle_id);
      if (!day) throw new SimError(409, 'the recovery has no day plan to score it from');
      if (recovery.score_state === 'SCORED')
        day.recovery.recoveryScore = Math.max(1, day.recovery.recoveryScore - 3);
      const stamp = { createdAt: Date.parse(recovery.created_at), updatedAt: now };
      const rebuilt = buildRecovery(m.spec, day, recovery.sleep_id, 'SCORED', stamp);
      this.#put(m, 'recovery', String(recovery.cycle_id), rebuilt);
      return [{ userId, type: 'recovery.updated', id: recovery.sleep_id }];
    }
    throw new SimError(400, 'cycles are not rescored; use edit');
  }

  /** Extends a sleep or workout as an in-progress upload would: later `end`, bigger totals. */
  grow(userId: number, kind: ResourceKind, id: string, ms: number, now: number): DataEvent[] {
    if (!Number.isFinite(ms) || ms <= 0) throw new SimError(400, 'ms must be a positive number');
    const m = this.#member(userId);
    const stamp = (r: { created_at: string }) => ({ createdAt: Date.parse(r.created_at), updatedAt: now });
    if (kind === 'sleep') {
      const sleep = this.#find(m.sleeps, id, kind);
      const plan = { ...this.#plan(m.sleepPlans, id), start: startOf(sleep) };
      this.#put(
        m,
        kind,
        id,
        buildSleep(m.spec, plan, Date.parse(sleep.end) + ms, sleep.score_state, stamp(sleep)),
      );
      return [{ userId, type: 'sleep.updated', id }];
    }
    if (kind === 'workout') {
      const workout = this.#find(m.workouts, id, kind);
      const plan = { ...this.#plan(m.workoutPlans, id), start: startOf(workout) };
      this.#put(
        m,
        kind,
        id,
        buildWorkout(m.spec, plan, Date.parse(workout.end) + ms, workout.score_state, stamp(workout)),
      );
      return [{ userId, type: 'workout.updated', id }];
    }
    throw new SimError(400, 'only sleeps and workouts grow');
  }

  /**
   * Merges `patch` into a record (one level deep for `score`); the result must still be valid, unless
   * `hostile` (a broken or malicious record, as a client must survive: it is served as it is).
   */
  edit(
    userId: number,
    kind: ResourceKind,
    id: string,
    patch: Record<string, unknown>,
    now: number,
    options: { hostile?: boolean } = {},
  ): DataEvent[] {
    const m = this.#member(userId);
    const record = this.#get(m, kind, id);
    const current = record as Record<string, unknown>;
    const merged: Record<string, unknown> = { ...current, updated_at: new Date(now).toISOString(), ...patch };
    const score = patch.score;
    if (score && typeof score === 'object' && current.score && typeof current.score === 'object') {
      merged.score = { ...current.score, ...score };
    }
    for (const [k, v] of Object.entries(patch))
      if (v === null && (k === 'end' || k === 'score')) delete merged[k];
    const schema = {
      cycle: cycleSchema,
      sleep: sleepSchema,
      recovery: recoverySchema,
      workout: workoutSchema,
    }[kind];
    const key = kind === 'recovery' ? String((current as WhoopRecovery).cycle_id) : id;
    if (options.hostile) {
      this.#put(m, kind, key, merged as never);
      return this.#events(userId, kind, record, 'updated');
    }
    const parsed = schema.safeParse(merged);
    if (!parsed.success) throw new SimError(400, `edited record is not valid: ${parsed.error.message}`);
    this.#put(m, kind, key, parsed.data);
    return this.#events(userId, kind, record, 'updated');
  }

  remove(userId: number, kind: ResourceKind, id: string): DataEvent[] {
    const m = this.#member(userId);
    const current = this.#get(m, kind, id);
    const events = this.#events(userId, kind, current, 'deleted');
    if (kind === 'cycle') this.#drop(m, 'cycle', String((current as WhoopCycle).id));
    if (kind === 'workout') this.#drop(m, 'workout', id);
    if (kind === 'recovery') this.#drop(m, 'recovery', String((current as WhoopRecovery).cycle_id));
    if (kind === 'sleep') {
      this.#drop(m, 'sleep', id);
      const recovery = m.recoveries.get((current as WhoopSleep).cycle_id);
      if (recovery && recovery.sleep_id === id) {
        this.#drop(m, 'recovery', String(recovery.cycle_id));
        events.push({ userId, type: 'recovery.deleted', id });
      }
    }
    return events;
  }

  #events(userId: number, kind: ResourceKind, record: WhoopRecord, verb: 'updated' | 'deleted'): DataEvent[] {
    if (kind === 'cycle') return [];
    const id =
      kind === 'recovery' ? (record as WhoopRecovery).sleep_id : (record as WhoopSleep | WhoopWorkout).id;
    return [{ userId, type: `${kind}.${verb}`, id }];
  }

  #get(m: Member, kind: ResourceKind, id: string): WhoopRecord {
    if (kind === 'cycle') return this.#find(m.cycles, Number(id), kind);
    if (kind === 'sleep') return this.#find(m.sleeps, id, kind);
    if (kind === 'workout') return this.#find(m.workouts, id, kind);
    return this.#recovery(m, id);
  }

  /** Recoveries are addressed by cycle id or by sleep id. */
  #recovery(m: Member, id: string): WhoopRecovery {
    const byCycle = /^\d+$/.test(id) ? m.recoveries.get(Number(id)) : undefined;
    const found = byCycle ?? [...m.recoveries.values()].find((r) => r.sleep_id === id);
    if (!found) throw new SimError(404, `no recovery ${id}`);
    return found;
  }

  #put(m: Member, kind: ResourceKind, key: string, record: WhoopRecord): void {
    m.pinned.add(`${kind}:${key}`);
    if (kind === 'cycle') m.cycles.set(Number(key), record as WhoopCycle);
    if (kind === 'sleep') m.sleeps.set(key, record as WhoopSleep);
    if (kind === 'workout') m.workouts.set(key, record as WhoopWorkout);
    if (kind === 'recovery') m.recoveries.set(Number(key), record as WhoopRecovery);
  }

  #drop(m: Member, kind: ResourceKind, key: string): void {
    m.deleted.add(`${kind}:${key}`);
    if (kind === 'cycle') m.cycles.delete(Number(key));
    if (kind === 'sleep') m.sleeps.delete(key);
    if (kind === 'workout') m.workouts.delete(key);
    if (kind === 'recovery') m.recoveries.delete(Number(key));
  }

  #find<K, V>(map: Map<K, V>, key: K, kind: string): V {
    const found = map.get(key);
    if (!found) throw new SimError(404, `no ${kind} ${String(key)}`);
    return found;
  }

  #plan<P>(plans: Map<string, P>, id: string): P {
    const plan = plans.get(id);
    if (!plan) throw new SimError(404, `no plan for ${id}`);
    return plan;
  }

  #member(userId: number): Member {
    const m = this.#members.get(userId);
    if (!m) throw new SimError(404, `no member ${userId}`);
    return m;
  }
}
