import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { createBearerTokenCheck } from '../services/bearer-token.ts';
import { routedPath } from './routed-path.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest hook for /internal routes: `Authorization: Bearer ${INTERNAL_API_TOKEN}` or 401. */
    requireInternalToken: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
}

export const INTERNAL_PREFIX = '/internal';

export function isInternal(request: FastifyRequest): boolean {
  const path = routedPath(request);
  return path === INTERNAL_PREFIX || path.startsWith(`${INTERNAL_PREFIX}/`);
}

// The internal API is for services, not browsers: bearer token only (compared in constant time), and
// no browser state. Registered before the session plugin so a session cookie on an /internal request
// is never even read.
async function internalApiPlugin(app: FastifyInstance, options: { token: string | undefined }) {
  const authorized = createBearerTokenCheck(options.token);

  app.addHook('onRequest', async (request) => {
    if (isInternal(request)) delete request.headers.cookie;
  });

  app.decorate('requireInternalToken', async (request: FastifyRequest, reply: FastifyReply) => {
    if (authorized(request.headers.authorization)) return;
    request.log.info(
      { hadAuthorization: Boolean(request.headers.authorization) },
      'internal API: bearer token refused',
    );
    await reply.code(401).header('www-authenticate', 'Bearer realm="internal"').send({
      error: 'Unauthorized',
      message: 'A valid internal API bearer token is required.',
      requestId: request.id,
    });
  });
}

export default fp(internalApiPlugin, { name: 'internal-api', fastify: '5.x' });
