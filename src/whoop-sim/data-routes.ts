// WHOOP Data API v2 under /developer: bearer and scope checks, collections, by-id lookups, revoke.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WhoopRecovery } from '../services/whoop/schemas.ts';
import type { SimCore } from './core.ts';
import { endpointKey, gate } from './gate.ts';
import type { Grant } from './oauth-state.ts';
import { type Interval, PageQueryError, paginate, parsePageQuery } from './pagination.ts';
import type { ResourceKind, WhoopRecord } from './store.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function bearer(request: FastifyRequest): string | undefined {
  const match = /^bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  return match?.[1];
}

/** Authenticates, counts, rate-limits and checks the scope; undefined when already answered. */
async function authorize(
  core: SimCore,
  request: FastifyRequest,
  reply: FastifyReply,
  scope: string | null,
): Promise<Grant | undefined> {
  core.sync();
  const token = bearer(request);
  core.counts.count(endpointKey(request), token ? core.oauth.clientOfToken(token) : undefined);
  const result = token ? core.oauth.authenticate(token, core.now()) : { reason: 'missing bearer token' };
  if ('reason' in result) {
    reply
      .code(401)
      .header('www-authenticate', `Bearer error="invalid_token", error_description="${result.reason}"`)
      .send({ error: 'unauthorized', message: `Authorization was not valid: ${result.reason}` });
    return undefined;
  }
  if (!(await gate(core, reply, 'data', result.grant.clientId))) return undefined;
  if (scope && !result.grant.scopes.includes(scope)) {
    const status = core.faults.get().missingScopeStatus;
    reply
      .code(status)
      .send({ error: 'insufficient_scope', message: `This endpoint requires the ${scope} scope.` });
    return undefined;
  }
  return result.grant;
}

function notFound(reply: FastifyReply, what: string) {
  return reply.code(404).send({ error: 'not_found', message: `${what} not found` });
}

function badRequest(reply: FastifyReply, message: string) {
  return reply.code(400).send({ error: 'bad_request', message });
}

/** A copy that breaks the schema the way a corrupted record would. */
function malformed(record: WhoopRecord): Record<string, unknown> {
  return { ...record, score_state: 'NOT_A_SCORE_STATE', created_at: 'yesterday' };
}

const timeOf = (value: unknown) => (typeof value === 'string' ? Date.parse(value) : Number.NaN);

function interval(
  record: { start: string; end?: string | null | undefined },
  key: string | number,
): Interval {
  return { start: timeOf(record.start), end: record.end ? timeOf(record.end) : null, key: String(key) };
}

export function dataRoutes(core: SimCore) {
  return async (app: FastifyInstance) => {
    function collection<T extends WhoopRecord>(
      path: string,
      kind: ResourceKind,
      scope: string,
      list: (userId: number) => T[],
      intervalOf: (userId: number, record: T) => Interval,
    ) {
      app.get(path, async (request, reply) => {
        const grant = await authorize(core, request, reply, scope);
        if (!grant) return reply;
        let query: ReturnType<typeof parsePageQuery>;
        try {
          query = parsePageQuery(kind, request.query as Record<string, unknown>, core.now());
        } catch (err) {
          if (err instanceof PageQueryError) return badRequest(reply, err.message);
          throw err;
        }
        const page = paginate(kind, list(grant.userId), (r) => intervalOf(grant.userId, r), query);
        const faults = core.faults.get();
        const records: unknown[] = [...page.records];
        const first = page.records[0];
        if (first && (faults.malformedRecord === true || faults.malformedRecord === kind))
          records[0] = malformed(first);
        const nextToken = faults.repeatNextToken && query.token ? query.token : page.next_token;
        return reply.send(nextToken ? { records, next_token: nextToken } : { records });
      });
    }

    app.get('/v2/user/profile/basic', async (request, reply) => {
      const grant = await authorize(core, request, reply, 'read:profile');
      if (!grant) return reply;
      return reply.send(core.store.profile(grant.userId));
    });

    app.get('/v2/user/measurement/body', async (request, reply) => {
      const grant = await authorize(core, request, reply, 'read:body_measurement');
      if (!grant) return reply;
      const body = core.store.body(grant.userId);
      return body ? reply.send(body) : notFound(reply, 'Body measurement');
    });

    app.delete('/v2/user/access', async (request, reply) => {
      const grant = await authorize(core, request, reply, null);
      if (!grant) return reply;
      core.oauth.revokeMember(grant.clientId, grant.userId);
      return reply.code(204).send();
    });

    collection(
      '/v2/cycle',
      'cycle',
      'read:cycles',
      (u) => core.store.cycles(u),
      (_u, c) => interval(c, c.id),
    );
    collection(
      '/v2/activity/sleep',
      'sleep',
      'read:sleep',
      (u) => core.store.sleeps(u),
      (_u, s) => interval(s, s.id),
    );
    collection(
      '/v2/activity/workout',
      'workout',
      'read:workout',
      (u) => core.store.workouts(u),
      (_u, w) => interval(w, w.id),
    );
    collection(
      '/v2/recovery',
      'recovery',
      'read:recovery',
      (u) => core.store.recoveries(u),
      (u, r: WhoopRecovery) => ({ ...core.store.recoveryInterval(u, r), key: r.sleep_id }),
    );

    type CycleParams = { Params: { cycleId: string } };
    const cycleOf = (userId: number, raw: string) =>
      /^\d+$/.test(raw) ? core.store.cycles(userId).find((c) => c.id === Number(raw)) : undefined;

    app.get<CycleParams>('/v2/cycle/:cycleId', async (request, reply) => {
      const grant = await authorize(core, request, reply, 'read:cycles');
      if (!grant) return reply;
      if (!/^\d+$/.test(request.params.cycleId)) return badRequest(reply, 'cycleId must be an integer');
      const cycle = cycleOf(grant.userId, request.params.cycleId);
      return cycle ? reply.send(cycle) : notFound(reply, 'Cycle');
    });

    app.get<CycleParams>('/v2/cycle/:cycleId/sleep', async (request, reply) => {
      const grant = await authorize(core, request, reply, 'read:sleep');
      if (!grant) return reply;
      if (!/^\d+$/.test(request.params.cycleId)) return badRequest(reply, 'cycleId must be an integer');
      const cycleId = Number(request.params.cycleId);
      const sleep = core.store.sleeps(grant.userId).find((s) => s.cycle_id === cycleId && !s.nap);
      return sleep ? reply.send(sleep) : notFound(reply, 'Sleep for this cycle');
    });

    app.get<CycleParams>('/v2/cycle/:cycleId/recovery', async (request, reply) => {
      const grant = await authorize(core, request, reply, 'read:recovery');
      if (!grant) return reply;
      if (!/^\d+$/.test(request.params.cycleId)) return badRequest(reply, 'cycleId must be an integer');
      const cycleId = Number(request.params.cycleId);
      const recovery = core.store.recoveries(grant.userId).find((r) => r.cycle_id === cycleId);
      return recovery ? reply.send(recovery) : notFound(reply, 'Recovery for this cycle');
    });

    app.get<{ Params: { sleepId: string } }>('/v2/activity/sleep/:sleepId', async (request, reply) => {
      const grant = await authorize(core, request, reply, 'read:sleep');
      if (!grant) return reply;
      if (!UUID_RE.test(request.params.sleepId)) return badRequest(reply, 'sleepId must be a UUID');
      const sleep = core.store.sleeps(grant.userId).find((s) => s.id === request.params.sleepId);
      return sleep ? reply.send(sleep) : notFound(reply, 'Sleep');
    });

    app.get<{ Params: { workoutId: string } }>('/v2/activity/workout/:workoutId', async (request, reply) => {
      const grant = await authorize(core, request, reply, 'read:workout');
      if (!grant) return reply;
      if (!UUID_RE.test(request.params.workoutId)) return badRequest(reply, 'workoutId must be a UUID');
      const workout = core.store.workouts(grant.userId).find((w) => w.id === request.params.workoutId);
      return workout ? reply.send(workout) : notFound(reply, 'Workout');
    });
  };
}
