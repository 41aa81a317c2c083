import type { IncomingMessage, ServerResponse } from 'node:http';
import formbody from '@fastify/formbody';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * helmet's headers, computed once: the policy is the same for every response (no nonces, no
 * per-request directives), and building it per request (as @fastify/helmet does) was one of the
 * larger costs of a cheap route (issue 11).
 */
function securityHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader(name: string, value: string) {
      headers[name.toLowerCase()] = value;
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, () => {});
  return headers;
}

async function securityPlugin(app: FastifyInstance) {
  const { config } = app;
  // Chrome applies form-action to the redirect after a POST, and Connect redirects to WHOOP.
  const formTargets = ["'self'"];
  if (app.whoopClient.authorizeOrigin) formTargets.push(app.whoopClient.authorizeOrigin);
  const headers = securityHeaders({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
        formAction: formTargets,
        ...(config.cookieSecure ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    strictTransportSecurity: config.cookieSecure,
  });
  app.addHook('onRequest', async (_request, reply) => {
    reply.headers(headers);
  });
  await app.register(formbody, { bodyLimit: 64 * 1024 });
  // Login and sign-up are throttled by services.signIn, with counters in PostgreSQL.
}

export default fp(securityPlugin, {
  name: 'security',
  fastify: '5.x',
  dependencies: ['services', 'whoop-client'],
});
