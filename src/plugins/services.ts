import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.ts';
import type { Services } from '../services/index.ts';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    services: Services;
  }
}

async function servicesPlugin(app: FastifyInstance, options: { config: Config; services: Services }) {
  app.decorate('config', options.config);
  app.decorate('services', options.services);
}

export default fp(servicesPlugin, { name: 'services', fastify: '5.x' });
