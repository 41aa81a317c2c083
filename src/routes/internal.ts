import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { LinkError, type LinkErrorCode } from '../services/whoop/connections.ts';

const exchangeBody = z.strictObject({
  userId: z.number().int().positive(),
  code: z.string().min(1).max(4096),
  codeVerifier: z.string().min(43).max(128).optional(),
});

const disconnectBody = z.strictObject({ userId: z.number().int().positive() });
const syncBody = z.strictObject({ userId: z.number().int().positive() });
const statusQuery = z.strictObject({
  userId: z
    .string()
    .regex(/^[1-9]\d{0,14}$/, 'userId must be a positive whole number')
    .transform(Number),
});

const linkErrorStatus: Record<LinkErrorCode, number> = {
  not_configured: 503,
  unknown_user: 404,
  missing_code: 400,
  invalid_state: 400,
  declined: 400,
  provider_error: 400,
  code_rejected: 400,
  client_rejected: 502,
  whoop_unavailable: 502,
  profile_unreadable: 400,
  account_linked_elsewhere: 409,
  different_account: 409,
  keys_unavailable: 503,
  budget_spent: 429,
};

function fail(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  error: string,
  message: string,
  extra = {},
) {
  return reply.code(status).send({ error, message, ...extra, requestId: request.id });
}

/** Validates a JSON body with zod; answers 415/400 itself and returns undefined when it did. */
function parseBody<T extends z.ZodType>(
  schema: T,
  request: FastifyRequest,
  reply: FastifyReply,
): z.infer<T> | undefined {
  if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) {
    fail(request, reply, 415, 'Unsupported Media Type', 'Send a JSON body (content-type: application/json).');
    return undefined;
  }
  const parsed = schema.safeParse(request.body);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
  fail(request, reply, 400, 'Bad Request', 'The JSON body is not valid.', { issues });
  return undefined;
}

/** Validates the query string with zod; answers 400 itself and returns undefined when it did. */
function parseQuery<T extends z.ZodType>(
  schema: T,
  request: FastifyRequest,
  reply: FastifyReply,
): z.infer<T> | undefined {
  const parsed = schema.safeParse(request.query ?? {});
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
  fail(request, reply, 400, 'Bad Request', 'The query string is not valid.', { issues });
  return undefined;
}

function linkFailure(request: FastifyRequest, reply: FastifyReply, error: unknown) {
  if (!(error instanceof LinkError)) throw error;
  return fail(request, reply, linkErrorStatus[error.code], error.code, error.message);
}

// Service-to-service API: bearer token (checked before the body is even parsed), JSON in and out,
// no session, no CSRF. Registered with the /internal prefix.
export default async function internalRoutes(app: FastifyInstance) {
  app.addHook('onRequest', app.requireInternalToken);
  app.setNotFoundHandler({ preHandler: app.requireInternalToken }, async (request, reply) =>
    fail(
      request,
      reply,
      404,
      'Not Found',
      `No internal route ${request.method} ${request.url.split('?')[0]}.`,
    ),
  );

  if (!app.config.whoop.enabled) return;

  app.post('/whoop/oauth/exchange', { config: { csrf: false } }, async (request, reply) => {
    const body = parseBody(exchangeBody, request, reply);
    if (!body) return reply;
    try {
      const linked = await app.services.whoop.exchangeCode({
        ...body,
        log: request.log,
        requestId: request.id,
      });
      return reply.send({
        status: 'connected',
        connectionId: linked.connectionId,
        whoopUserId: linked.whoopUserId,
        scopes: linked.scopes,
        reusedConnection: !linked.created,
        requestId: request.id,
      });
    } catch (error) {
      return linkFailure(request, reply, error);
    }
  });

  app.post('/whoop/disconnect', { config: { csrf: false } }, async (request, reply) => {
    const body = parseBody(disconnectBody, request, reply);
    if (!body) return reply;
    try {
      const result = await app.services.whoop.disconnect({
        userId: body.userId,
        log: request.log,
        requireUser: true,
      });
      return reply.send({ status: 'disconnected', ...result, requestId: request.id });
    } catch (error) {
      return linkFailure(request, reply, error);
    }
  });

  // Connection state, last/next sync, token expiry (never a token) and the last runs of a user.
  app.get('/whoop/status', async (request, reply) => {
    const query = parseQuery(statusQuery, request, reply);
    if (!query) return reply;
    const report = await app.services.syncHistory.status(query.userId);
    if (!report) return fail(request, reply, 404, 'unknown_user', 'There is no user with this id.');
    return reply.send({ ...report, requestId: request.id });
  });

  // Enqueues a sync (or joins the one already queued or running): 202 with the run to follow.
  app.post('/whoop/sync', { config: { csrf: false } }, async (request, reply) => {
    const body = parseBody(syncBody, request, reply);
    if (!body) return reply;
    const result = await app.services.whoopSync.request({
      userId: body.userId,
      trigger: 'internal',
      requestId: request.id,
    });
    if (result.outcome === 'refused') {
      const message = `The WHOOP connection is ${result.status}: nothing was queued.`;
      return fail(request, reply, 409, 'not_syncable', message, { status: result.status });
    }
    // Only the page's Sync now has a cooldown; a service asking is never told to wait.
    if (result.outcome === 'cooldown') throw new Error('an internal sync request got a cooldown');
    return reply.code(202).send({
      runId: result.runId,
      status: result.outcome === 'joined' ? result.status : 'queued',
      joined: result.outcome === 'joined',
      requestId: request.id,
    });
  });
}
