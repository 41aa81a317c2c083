import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

async function securityPlugin(app: FastifyInstance) {
  const { config } = app;
  // Chrome applies form-action to the redirect after a POST, and Connect redirects to WHOOP.
  const formTargets = ["'self'"];
  // The effective authorize URL: the in-process simulator's in demo mode, else WHOOP_OAUTH_BASE_URL.
  const oauthBaseUrl = app.services.whoop.authorizeEndpoint?.oauthBaseUrl ?? config.whoop.oauthBaseUrl;
  if (config.whoop.enabled) formTargets.push(new URL(oauthBaseUrl).origin);
  await app.register(helmet, {
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
  await app.register(formbody, { bodyLimit: 64 * 1024 });
  // Login and sign-up are throttled by services.signIn, with counters in PostgreSQL.
}

export default fp(securityPlugin, { name: 'security', fastify: '5.x', dependencies: ['services'] });
