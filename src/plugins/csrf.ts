import csrfProtection from '@fastify/csrf-protection';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyContextConfig {
    // Routes authenticated by a bearer token (internal API, signed webhooks) opt out explicitly.
    csrf?: false;
  }
}

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

async function csrfPlugin(app: FastifyInstance) {
  await app.register(csrfProtection, { sessionPlugin: '@fastify/session' });
  // preHandler, not onRequest: the token may arrive in the parsed form body (_csrf).
  app.addHook('preHandler', (request, reply, done) => {
    // An unknown URL changes nothing: it answers 404 rather than a misleading 403.
    if (safeMethods.has(request.method) || request.routeOptions.config?.csrf === false || request.is404) {
      return done();
    }
    app.csrfProtection(request, reply, done);
  });
}

export default fp(csrfPlugin, { name: 'csrf', fastify: '5.x', dependencies: ['session'] });
