import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Config } from './config.ts';
import authPlugin from './plugins/auth.ts';
import canonicalOriginPlugin from './plugins/canonical-origin.ts';
import csrfPlugin from './plugins/csrf.ts';
import errorsPlugin from './plugins/errors.ts';
import internalApiPlugin from './plugins/internal-api.ts';
import metricsPlugin from './plugins/metrics.ts';
import requestIdPlugin, { requestIdFrom } from './plugins/request-id.ts';
import requestLogPlugin from './plugins/request-log.ts';
import securityPlugin from './plugins/security.ts';
import servicesPlugin from './plugins/services.ts';
import sessionPlugin from './plugins/session.ts';
import staticAssetsPlugin from './plugins/static-assets.ts';
import tokenCryptoPlugin from './plugins/token-crypto.ts';
import viewPlugin from './plugins/view.ts';
import whoopClientPlugin from './plugins/whoop-client.ts';
import whoopFeaturePlugin from './plugins/whoop-feature.ts';
import whoopOAuthPlugin from './plugins/whoop-oauth.ts';
import accountRoutes from './routes/account.ts';
import authRoutes from './routes/auth.ts';
import dashboardRoutes from './routes/dashboard.ts';
import dataRightsRoutes from './routes/data-rights.ts';
import exerciseRoutes from './routes/exercises.ts';
import healthRoutes from './routes/health.ts';
import integrationRoutes from './routes/integrations.ts';
import internalRoutes from './routes/internal.ts';
import progressRoutes from './routes/progress.ts';
import sleepRoutes from './routes/sleep.ts';
import syncHistoryRoutes from './routes/sync-history.ts';
import webhookRoutes from './routes/webhooks.ts';
import type { Services } from './services/index.ts';
import type { Logger } from './services/logger.ts';

export interface AppDeps {
  config: Config;
  services: Services;
  logger: Logger;
  sessionSecret: string;
  /** INTERNAL_API_TOKEN (or the generated development one); without it every /internal request is 401. */
  internalApiToken?: string | undefined;
}

/**
 * TRUST_PROXY as Fastify takes it. A hop count trusts that many proxies in front of the socket (this
 * Fastify treats a bare number as "trust nothing"); addresses trust exactly those proxies.
 */
function fastifyTrustProxy(setting: Config['trustProxy']) {
  if (setting === false) return false;
  if (typeof setting === 'number') return (_address: string, hop: number) => hop < setting;
  return [...setting];
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    genReqId: requestIdFrom,
    requestIdHeader: false,
    trustProxy: fastifyTrustProxy(deps.config.trustProxy),
    // One line per request from request-log.ts instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
  });

  // Cross-cutting plugins, for every response.
  await app.register(servicesPlugin, { config: deps.config, services: deps.services });
  // The WHOOP integration's plugins (WHOOP-01, -07): the flag, token crypto and the WHOOP client.
  await app.register(whoopFeaturePlugin);
  await app.register(tokenCryptoPlugin);
  await app.register(whoopClientPlugin);
  await app.register(requestIdPlugin);
  await app.register(requestLogPlugin);
  await app.register(metricsPlugin, { token: deps.config.metricsToken });
  // Probes and /metrics stay outside the site: they pay for no session, cookie, CSP or page rendering.
  await app.register(healthRoutes);
  // WHOOP's signed webhooks: raw bytes in, no session or CSRF (the signature is the authentication).
  await app.registerWhoop(webhookRoutes);
  await app.register(site, deps);

  return app;
}

/** Pages, forms, htmx partials and the internal API: an encapsulated context of their own. */
async function site(app: FastifyInstance, deps: AppDeps) {
  // Cross-cutting plugins of the site, in dependency order.
  await app.register(securityPlugin);
  // Before the session: pages asked for on another host name than PUBLIC_BASE_URL's move there cookie-free.
  await app.register(canonicalOriginPlugin);
  // Before the session: /internal requests are stripped of cookies before anything reads them.
  await app.register(internalApiPlugin, { token: deps.internalApiToken });
  await app.register(sessionPlugin, { secret: deps.sessionSecret });
  await app.register(csrfPlugin);
  await app.register(authPlugin);
  await app.register(viewPlugin);
  await app.register(staticAssetsPlugin);
  await app.register(errorsPlugin);
  // WHOOP-only plugins and routes go through the feature flag: off, they are not registered at all.
  await app.registerWhoop(whoopOAuthPlugin);

  // Routes, by URL area.
  await app.register(authRoutes);
  await app.register(accountRoutes);
  await app.register(dataRightsRoutes);
  await app.register(dashboardRoutes);
  await app.register(sleepRoutes);
  await app.register(exerciseRoutes);
  await app.register(progressRoutes);
  await app.registerWhoop(integrationRoutes);
  await app.registerWhoop(syncHistoryRoutes);
  await app.register(internalRoutes, { prefix: '/internal' });
}
