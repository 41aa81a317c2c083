import { fileURLToPath } from 'node:url';
import view from '@fastify/view';
import { Eta } from 'eta';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyReply {
    page: (template: string, data?: Record<string, unknown>) => Promise<string>;
  }
  interface FastifyRequest {
    isHtmx: boolean;
  }
}

export const viewsDir = fileURLToPath(new URL('../views', import.meta.url));

export interface NavItem {
  href: string;
  label: string;
}

function navigation(whoopEnabled: boolean): NavItem[] {
  const items = [
    { href: '/', label: 'Dashboard' },
    { href: '/sleep', label: 'Sleep' },
    { href: '/exercises', label: 'Exercises' },
    { href: '/progress', label: 'Progress' },
  ];
  if (whoopEnabled) items.push({ href: '/integrations', label: 'Integrations' });
  return items;
}

async function viewPlugin(app: FastifyInstance) {
  const eta = new Eta({ views: viewsDir, cache: app.config.isProduction, autoEscape: true });
  await app.register(view, { engine: { eta }, templates: viewsDir, production: app.config.isProduction });
  const nav = navigation(app.whoopEnabled);

  app.decorateRequest('isHtmx', false);
  app.addHook('onRequest', async (request) => {
    request.isHtmx = request.headers['hx-request'] === 'true';
  });
  // Pages answer htmx with a fragment and browsers with the whole page: caches must keep them apart.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (!String(reply.getHeader('content-type') ?? '').startsWith('text/html')) return payload;
    const vary = String(reply.getHeader('vary') ?? '');
    if (!/(^|,)\s*hx-request\s*(,|$)/i.test(vary))
      reply.header('vary', vary ? `${vary}, HX-Request` : 'HX-Request');
    return payload;
  });

  // Every template sees the same shell data; csrf() is lazy so pages without forms create no session.
  app.decorateReply(
    'page',
    function page(this: FastifyReply, template: string, data: Record<string, unknown> = {}) {
      const request: FastifyRequest = this.request;
      const flash = request.session?.flash;
      if (flash) request.session.flash = undefined;
      const locals = {
        user: request.user,
        nav,
        currentPath: request.url.split('?')[0],
        requestId: request.id,
        whoopEnabled: app.whoopEnabled,
        flash,
        csrf: () => this.generateCsrf(),
        ...data,
      };
      this.type('text/html; charset=utf-8');
      return this.viewAsync(template, locals);
    },
  );
}

export default fp(viewPlugin, {
  name: 'view',
  fastify: '5.x',
  dependencies: ['services', 'csrf', 'auth', 'whoop-feature'],
});
