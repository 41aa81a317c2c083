import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

// Health checks, metrics scrapes and the sync-status poll (every second for each person watching a
// sync) would bury the log: they are logged at debug. Every other request gets one info line when it
// ends, with its route pattern, status and duration (Fastify's own two lines are off).
const QUIET_ROUTES = new Set(['/healthz', '/readyz', '/metrics', '/integrations/whoop/sync/status']);

async function requestLogPlugin(app: FastifyInstance) {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url;
    const line = {
      method: request.method,
      route: route ?? '(no route)',
      statusCode: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime),
    };
    if (route && QUIET_ROUTES.has(route)) request.log.debug(line, 'request completed');
    else request.log.info(line, 'request completed');
  });
}

export default fp(requestLogPlugin, { name: 'request-log', fastify: '5.x' });
