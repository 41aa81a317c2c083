import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isInternal } from './internal-api.ts';

/**
 * The site answers on PUBLIC_BASE_URL's host name only. A person who opens the app on another name for
 * the same server (http://127.0.0.1:3000 while PUBLIC_BASE_URL is http://localhost:3000) would get a
 * session cookie for that name, and WHOOP sends them back to PUBLIC_BASE_URL, where that cookie is not
 * sent: they land on the login page and are never linked. So page requests on another host name go to
 * the same path and query on the public origin, before the session plugin can set any cookie.
 *
 * Only the host name is compared. Browsers scope cookies by host name, not by port or scheme (RFC 6265
 * §8.5), so that is what dead-ends; and behind a reverse proxy the port, and without TRUST_PROXY the
 * scheme, that the app sees are the proxy's, which would make a stricter rule redirect in a loop. The
 * host name is the Host header, or X-Forwarded-Host from a proxy trusted by TRUST_PROXY (Fastify's
 * request.hostname): a proxy must pass one of them on. Probes, /metrics and webhooks live outside the
 * site and /internal is for services with a bearer token, so none of them is ever redirected.
 */
async function canonicalOriginPlugin(app: FastifyInstance) {
  const publicUrl = new URL(app.config.publicBaseUrl);
  const publicOrigin = publicUrl.origin;
  const publicHostname = publicUrl.hostname.toLowerCase();

  function onAnotherHost(request: FastifyRequest): boolean {
    // No Host at all (HTTP/1.0, or only an untrusted X-Forwarded-Host): nothing says which name was used.
    if (!request.host) return false;
    return request.hostname.toLowerCase() !== publicHostname;
  }

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (isInternal(request) || !onAnotherHost(request)) return;
    request.log.info(
      { host: request.hostname, publicBaseUrl: publicOrigin },
      'request on another host name than PUBLIC_BASE_URL',
    );
    // Not 308: browsers keep permanent redirects, and PUBLIC_BASE_URL may change.
    const isNavigation =
      (request.method === 'GET' || request.method === 'HEAD') && !request.headers['hx-request'];
    if (isNavigation) {
      const path = request.url.startsWith('/') ? request.url : '/';
      return reply.redirect(`${publicOrigin}${path}`, 307);
    }
    // A form or htmx request from a page loaded on the other name: its session and CSRF token belong to
    // that name, so it cannot succeed here. htmx reloads the page, which the redirect above then moves.
    if (request.headers['hx-request']) return reply.code(421).header('hx-refresh', 'true').send('');
    return reply.code(421).type('text/html; charset=utf-8').send(misdirectedPage(publicOrigin));
  });
}

function misdirectedPage(publicOrigin: string): string {
  const href = publicOrigin.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;');
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Wrong address · Health Tracker</title></head>
<body>
<main>
<h1>Wrong address</h1>
<p>This app is reached at <a href="${href}/">${href}</a>. Open it there, sign in and try again.</p>
</main>
</body>
</html>
`;
}

export default fp(canonicalOriginPlugin, {
  name: 'canonical-origin',
  fastify: '5.x',
  dependencies: ['services'],
});
