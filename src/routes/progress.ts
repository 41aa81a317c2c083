import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { formatterFor } from '../presenters/format.ts';
import { bodyView, progressCharts } from '../presenters/progress.ts';
import { PROGRESS_RANGES, type ProgressRange } from '../services/health-pages/index.ts';
import { signedIn } from './page-helpers.ts';

// Anything but 7, 30, 90 or 365 (a hand-edited URL) shows the default range rather than an error.
const rangeQuery = z.object({
  range: z.coerce
    .number()
    .refine((value): value is ProgressRange => (PROGRESS_RANGES as readonly number[]).includes(value))
    .catch(30),
});

export default async function progressRoutes(app: FastifyInstance) {
  app.addHook('preHandler', app.requireUser);

  async function chartsView(request: FastifyRequest) {
    const user = signedIn(request);
    const { range } = rangeQuery.parse(request.query ?? {});
    const data = await app.services.healthPages.progress(user, range as ProgressRange);
    const fmt = formatterFor(user.time_zone);
    return {
      ...data,
      ranges: PROGRESS_RANGES,
      charts: progressCharts(data, fmt),
      bodyView: bodyView(data.body, fmt),
      fmt,
    };
  }

  app.get('/progress', async (request, reply) =>
    reply.page('pages/progress', { title: 'Progress', ...(await chartsView(request)) }),
  );

  // The charts alone, for htmx to swap in place; a plain visit gets the whole page at the same range.
  app.get('/progress/charts', async (request, reply) => {
    if (!request.isHtmx) {
      const { range } = rangeQuery.parse(request.query ?? {});
      return reply.redirect(`/progress?range=${range}`, 303);
    }
    return reply.page('partials/progress-charts', await chartsView(request));
  });
}
