import { createServer, type Server } from 'node:http';
import { createBearerTokenCheck } from './services/bearer-token.ts';
import type { Metrics } from './services/metrics.ts';

// A worker-only process has no Fastify app: this small server gives Prometheus and the container
// healthcheck something to talk to (/metrics and /healthz).
export async function startWorkerMetricsServer(options: {
  metrics: Metrics;
  host: string;
  port: number;
  token: string | undefined;
}): Promise<Server> {
  const authorized = createBearerTokenCheck(options.token);
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET') {
      response.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    if (path === '/healthz') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    if (path !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    if (options.token && !authorized(request.headers.authorization)) {
      response.writeHead(401, { 'www-authenticate': 'Bearer realm="metrics"' }).end();
      return;
    }
    options.metrics.registry.metrics().then(
      (body) => response.writeHead(200, { 'content-type': options.metrics.registry.contentType }).end(body),
      () => response.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(options.port, options.host, resolve));
  return server;
}
