import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { WhoopAuthorizeEndpoint } from '../services/whoop/settings.ts';

declare module 'fastify' {
  interface FastifyInstance {
    whoopClient: {
      /** The WHOOP client's public side (no secret); undefined when the feature is off or no client is configured. */
      authorizeEndpoint: WhoopAuthorizeEndpoint | undefined;
      /** The origin browsers are sent to for consent (the CSP's form-action); undefined with the feature off. */
      authorizeOrigin: string | undefined;
    };
  }
}

// The WHOOP HTTP client, as the web side sees it: where browsers go to authorize. Every call to
// WHOOP (code exchange, refresh, data, revoke) stays inside the framework-free services, which hold
// the client secret; routes ask those services for results.
async function whoopClientPlugin(app: FastifyInstance) {
  const authorizeEndpoint = app.services.whoop.authorizeEndpoint;
  // The effective authorize URL: the in-process simulator's in demo mode, else WHOOP_OAUTH_BASE_URL.
  const oauthBaseUrl = authorizeEndpoint?.oauthBaseUrl ?? app.config.whoop.oauthBaseUrl;
  app.decorate('whoopClient', {
    authorizeEndpoint,
    authorizeOrigin: app.whoopEnabled ? new URL(oauthBaseUrl).origin : undefined,
  });
}

export default fp(whoopClientPlugin, {
  name: 'whoop-client',
  fastify: '5.x',
  dependencies: ['services', 'whoop-feature'],
});
