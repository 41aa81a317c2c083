import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { historyView } from '../presenters/sync-history.ts';
import { signedIn } from './page-helpers.ts';

// `before`: the oldest run id of the previous page; anything else shows the newest runs.
const historyQuery = z.object({ before: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });

// The person's own WHOOP sync runs. Registered only when FEATURE_WHOOP_INTEGRATION is on.
export default async function syncHistoryRoutes(app: FastifyInstance) {
  app.addHook('preHandler', app.requireUser);

  app.get('/integrations/whoop/history', async (request, reply) => {
    const user = signedIn(request);
    const query = historyQuery.safeParse(request.query ?? {});
    const page = await app.services.syncHistory.forUser(user.id, {
      before: query.success ? query.data.before : undefined,
    });
    const history = historyView(page, user.time_zone);
    return reply.page('pages/sync-history', { title: 'WHOOP sync history', history });
  });
}
