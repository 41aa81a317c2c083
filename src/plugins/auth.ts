import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { User } from '../services/users.ts';

declare module 'fastify' {
  interface FastifyRequest {
    user: User | null;
  }
  interface FastifyInstance {
    requireUser: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
}

function isHtmx(request: FastifyRequest): boolean {
  return request.headers['hx-request'] === 'true';
}

async function authPlugin(app: FastifyInstance) {
  app.decorateRequest('user', null);
  app.addHook('preHandler', async (request) => {
    const userId = request.session?.userId;
    if (typeof userId !== 'number') return;
    request.user = await app.services.users.findById(userId);
  });
  app.decorate('requireUser', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.user) return;
    const next = encodeURIComponent(request.url);
    if (isHtmx(request)) {
      // htmx would swap a login page into a fragment: ask it to navigate instead.
      await reply.header('hx-redirect', `/login?next=${next}`).code(401).send('Log in again.');
      return;
    }
    await reply.redirect(`/login?next=${next}`, 303);
  });
}

export default fp(authPlugin, { name: 'auth', fastify: '5.x', dependencies: ['session', 'services'] });
