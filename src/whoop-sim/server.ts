import formbody from '@fastify/formbody';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { controlRoutes } from './control-routes.ts';
import type { SimCore } from './core.ts';
import { dataRoutes } from './data-routes.ts';
import { endpointKey } from './gate.ts';
import { oauthRoutes } from './oauth-routes.ts';

export const CONTROL_PREFIX = '/_sim';

export async function buildServer(
  core: SimCore,
  logger: FastifyServerOptions['logger'] | { child: unknown } = false,
): Promise<FastifyInstance> {
  const isInstance = typeof logger === 'object' && logger !== null && 'child' in logger;
  // forceCloseConnections: hung requests must not keep close() waiting
  const app: FastifyInstance = isInstance
    ? Fastify({ loggerInstance: logger as FastifyBaseLogger, forceCloseConnections: true })
    : Fastify({ logger: logger as FastifyServerOptions['logger'], forceCloseConnections: true });
  await app.register(formbody);
  await app.register(oauthRoutes(core), { prefix: '/oauth/oauth2' });
  await app.register(dataRoutes(core), { prefix: '/developer' });
  await app.register(controlRoutes(core), { prefix: CONTROL_PREFIX });
  app.setNotFoundHandler((request, reply) => {
    // v1 paths and typos are counted too: "sync OK, zero rows" starts with a silent 404
    if (!request.url.startsWith(CONTROL_PREFIX)) core.counts.count(endpointKey(request), undefined);
    return reply
      .code(404)
      .send({ error: 'not_found', message: `No route ${request.method} ${request.url.split('?')[0]}` });
  });
  app.addHook('preClose', async () => core.close());
  return app;
}
