import type { FastifyInstance } from 'fastify';

// Registered only when FEATURE_WHOOP_INTEGRATION is on: otherwise every /integrations URL is a 404.
export default async function integrationRoutes(app: FastifyInstance) {
  app.addHook('preHandler', app.requireUser);
  app.get('/integrations', async (_request, reply) =>
    reply.page('pages/integrations', { title: 'Integrations', card: { status: 'disconnected' } }),
  );
}
