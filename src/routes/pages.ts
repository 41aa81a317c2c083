import type { FastifyInstance } from 'fastify';

// Health pages; their data arrives with the health-pages work, the shell and empty states are here now.
export default async function pageRoutes(app: FastifyInstance) {
  app.addHook('preHandler', app.requireUser);
  app.get('/', async (_request, reply) => reply.page('pages/dashboard', { title: 'Dashboard' }));
  app.get('/sleep', async (_request, reply) => reply.page('pages/sleep', { title: 'Sleep' }));
  app.get('/exercises', async (_request, reply) => reply.page('pages/exercises', { title: 'Exercises' }));
  app.get('/progress', async (_request, reply) => reply.page('pages/progress', { title: 'Progress' }));
}
