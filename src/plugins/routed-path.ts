import type { FastifyRequest } from 'fastify';

/**
 * The path the router matched (its pattern), or for a request no route matched its decoded path. Never
 * the raw URL: the router decodes "/%69nternal/..." to "/internal/...", and a check on the raw text
 * would let it past.
 */
export function routedPath(request: FastifyRequest): string {
  const pattern = request.routeOptions.url;
  if (pattern) return pattern;
  const raw = request.url.split('?')[0] ?? '/';
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
