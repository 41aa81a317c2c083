// What happens to every data and token request once the client is known: rate limit, then the
// latency / hang / error switches. Injected errors come before any state change, so a 502 on the
// token endpoint never spends a refresh token (as with WHOOP's transient 502s).
import { setTimeout as delay } from 'node:timers/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SimCore } from './core.ts';

export function endpointKey(request: FastifyRequest): string {
  return `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`;
}

const INJECTED_BODIES: Record<number, string> = {
  502: '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>',
  503: '<html><head><title>503 Service Temporarily Unavailable</title></head><body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>',
};

/** Returns false when the request has been answered (or left hanging) here. */
export async function gate(
  core: SimCore,
  reply: FastifyReply,
  target: 'data' | 'token',
  clientId: string,
): Promise<boolean> {
  const limit = core.rateLimiter.consume(clientId, core.now());
  reply.headers(limit.headers);
  if (!limit.allowed) {
    reply
      .code(429)
      .send({ error: 'too_many_requests', message: 'Rate limit exceeded; wait for X-RateLimit-Reset.' });
    return false;
  }
  const { latencyMs } = core.faults.get();
  if (latencyMs > 0) await delay(latencyMs);
  if (core.faults.shouldHang()) {
    reply.hijack();
    const raw = reply.raw;
    core.hung.add(raw);
    raw.on('close', () => core.hung.delete(raw));
    return false;
  }
  const status = core.faults.injectedError(target);
  if (status !== undefined) {
    const html = INJECTED_BODIES[status];
    if (html) reply.code(status).type('text/html').send(html);
    else
      reply.code(status).send({ error: 'internal_server_error', message: 'Injected failure (whoop-sim).' });
    return false;
  }
  return true;
}
