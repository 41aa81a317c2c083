import type { FastifyInstance, FastifyPluginAsync, FastifyPluginOptions } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyInstance {
    /** FEATURE_WHOOP_INTEGRATION: off, the Integrations UI is hidden and no WHOOP route exists. */
    whoopEnabled: boolean;
    /**
     * Registers a WHOOP-only plugin (routes, the OAuth plugin) in this context; with the feature off
     * nothing is registered, so every WHOOP URL answers 404 like any unknown address.
     */
    registerWhoop: <Options extends FastifyPluginOptions>(
      plugin: FastifyPluginAsync<Options>,
      options?: Options,
    ) => Promise<void>;
  }
}

// The feature flag (WHOOP-01) in one place: pages ask app.whoopEnabled, and WHOOP's routes and
// plugins are registered through app.registerWhoop instead of each asking the config.
async function whoopFeaturePlugin(app: FastifyInstance) {
  const enabled = app.config.whoop.enabled;
  app.decorate('whoopEnabled', enabled);
  app.decorate('registerWhoop', async function registerWhoop<
    Options extends FastifyPluginOptions,
  >(this: FastifyInstance, plugin: FastifyPluginAsync<Options>, options?: Options) {
    if (enabled) await this.register(plugin, options ?? ({} as Options));
  });
}

export default fp(whoopFeaturePlugin, { name: 'whoop-feature', fastify: '5.x', dependencies: ['services'] });
