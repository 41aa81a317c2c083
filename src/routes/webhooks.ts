import type { FastifyInstance } from 'fastify';
import { WEBHOOK_BODY_LIMIT } from '../services/whoop/sync/webhooks.ts';

export const WHOOP_WEBHOOK_PATH = '/webhooks/whoop';

// Outside the site: no session, cookie or CSRF (WHOOP signs instead). The body stays raw bytes: the
// signature is over exactly what was sent, and re-serialized JSON would not match it.
export default async function webhookRoutes(app: FastifyInstance) {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT },
    (_request, body, done) => done(null, body),
  );

  // WHOOP retries anything but a 2xx: say what failed in the log, and nothing more in the answer.
  app.setErrorHandler((error: { statusCode?: number }, request, reply) => {
    const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) request.log.error({ err: error }, 'whoop webhook: failed');
    return reply
      .code(status)
      .send({ error: status === 500 ? 'internal error' : String((error as Error).message) });
  });

  app.post(WHOOP_WEBHOOK_PATH, async (request, reply) => {
    const header = (name: string) => {
      const value = request.headers[name];
      return typeof value === 'string' ? value : undefined;
    };
    const result = await app.services.whoopSync.webhooks.receive({
      rawBody: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
      timestamp: header('x-whoop-signature-timestamp'),
      signature: header('x-whoop-signature'),
      log: request.log,
    });
    if (result.status === 204) return reply.code(204).send();
    request.log.warn({ reason: result.reason }, 'whoop webhook: refused');
    return reply.code(result.status).send({ error: result.reason });
  });
}
