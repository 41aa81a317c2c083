import type { FastifyInstance } from 'fastify';

export default async function healthRoutes(app: FastifyInstance) {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const database = await app.services.health.databaseReachable();
    return reply.code(database ? 200 : 503).send({ status: database ? 'ready' : 'unavailable', database });
  });
}
