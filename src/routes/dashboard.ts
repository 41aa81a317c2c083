import type { FastifyInstance } from 'fastify';
import { formatterFor } from '../presenters/format.ts';
import { signedIn } from './page-helpers.ts';

export default async function dashboardRoutes(app: FastifyInstance) {
  app.addHook('preHandler', app.requireUser);

  app.get('/', async (request, reply) => {
    const user = signedIn(request);
    const data = await app.services.healthPages.dashboard(user);
    return reply.page('pages/dashboard', { title: 'Dashboard', ...data, fmt: formatterFor(user.time_zone) });
  });
}
