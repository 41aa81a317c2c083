import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

const require = createRequire(import.meta.url);
const htmxDir = path.dirname(require.resolve('htmx.org/dist/htmx.min.js'));
const publicDir = fileURLToPath(new URL('../public', import.meta.url));

// htmx is served by the app itself from node_modules: no CDN, nothing fetched at run time.
async function staticAssetsPlugin(app: FastifyInstance) {
  const maxAge = app.config.isProduction ? 3600_000 : 0;
  await app.register(fastifyStatic, { root: publicDir, prefix: '/static/', maxAge, index: false });
  await app.register(fastifyStatic, {
    root: htmxDir,
    prefix: '/vendor/htmx/',
    decorateReply: false,
    allowedPath: (pathName) => pathName === '/htmx.min.js',
    maxAge,
    index: false,
  });
}

export default fp(staticAssetsPlugin, { name: 'static-assets', fastify: '5.x', dependencies: ['services'] });
