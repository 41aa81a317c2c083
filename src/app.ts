import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import authPlugin from './plugins/auth.ts';
import csrfPlugin from './plugins/csrf.ts';
import errorsPlugin from './plugins/errors.ts';
import requestIdPlugin, { requestIdFrom } from './plugins/request-id.ts';
import securityPlugin from './plugins/security.ts';
import servicesPlugin from './plugins/services.ts';
import sessionPlugin from './plugins/session.ts';
import staticAssetsPlugin from './plugins/static-assets.ts';
import viewPlugin from './plugins/view.ts';
import accountRoutes from './routes/account.ts';
import authRoutes from './routes/auth.ts';
import healthRoutes from './routes/health.ts';
import integrationRoutes from './routes/integrations.ts';
import pageRoutes from './routes/pages.ts';
import type { Services } from './services/index.ts';
import type { Logger } from './services/logger.ts';

export interface AppDeps {
  config: Config;
  services: Services;
  logger: Logger;
  sessionSecret: string;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    genReqId: requestIdFrom,
    requestIdHeader: false,
    trustProxy: deps.config.trustProxy,
  });

  // Cross-cutting plugins, in dependency order.
  await app.register(servicesPlugin, { config: deps.config, services: deps.services });
  await app.register(requestIdPlugin);
  await app.register(securityPlugin);
  await app.register(sessionPlugin, { secret: deps.sessionSecret });
  await app.register(csrfPlugin);
  await app.register(authPlugin);
  await app.register(viewPlugin);
  await app.register(staticAssetsPlugin);
  await app.register(errorsPlugin);

  // Routes, by URL area.
  await app.register(healthRoutes);
  await app.register(authRoutes);
  await app.register(accountRoutes);
  await app.register(pageRoutes);
  if (deps.config.whoop.enabled) await app.register(integrationRoutes);

  return app;
}
