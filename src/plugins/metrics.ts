import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { createBearerTokenCheck } from '../services/bearer-token.ts';

function statusClass(statusCode: number): string {
  return `${Math.floor(statusCode / 100)}xx`;
}

// Times every request by its route pattern (never the raw URL, which would carry ids) and serves
// /metrics for Prometheus, outside the session, behind METRICS_TOKEN when one is configured.
async function metricsPlugin(app: FastifyInstance, options: { token: string | undefined }) {
  const { metrics } = app.services;
  const authorized = createBearerTokenCheck(options.token);

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequestDuration.observe(
      { route, method: request.method, status_class: statusClass(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.get('/metrics', async (request, reply) => {
    if (options.token && !authorized(request.headers.authorization)) {
      return reply.code(401).header('www-authenticate', 'Bearer realm="metrics"').send({
        error: 'Unauthorized',
        message: 'A valid metrics bearer token is required.',
        requestId: request.id,
      });
    }
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
}

export default fp(metricsPlugin, { name: 'metrics', fastify: '5.x', dependencies: ['services'] });
