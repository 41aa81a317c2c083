import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { safeRedirectTarget } from '../services/safe-redirect.ts';
import { routedPath } from './routed-path.ts';

const messages: Record<number, { title: string; message: string }> = {
  400: {
    title: 'Bad request',
    message: 'The request could not be understood. Check the form and try again.',
  },
  401: { title: 'Not signed in', message: 'Log in to continue.' },
  403: {
    title: 'Request refused',
    message: 'This form has expired or was not sent from this site. Go back, reload the page and try again.',
  },
  404: { title: 'Not found', message: 'There is nothing at this address.' },
  413: { title: 'Too large', message: 'What you sent is too large.' },
  415: { title: 'Unsupported', message: 'This kind of request body is not supported here.' },
  429: {
    title: 'Too many attempts',
    message: 'Too many attempts in a short time. Wait a minute and try again.',
  },
};

function wantsJson(request: FastifyRequest): boolean {
  const path = routedPath(request);
  return path.startsWith('/internal/') || path.startsWith('/webhooks/');
}

/** The id of the element htmx swaps into ("div#whoop-card" -> "whoop-card"), when it is a plain one. */
function htmxTargetId(request: FastifyRequest): string | undefined {
  const header = request.headers['hx-target'];
  const match = typeof header === 'string' ? /#([A-Za-z][\w-]{0,63})$/.exec(header) : null;
  return match?.[1];
}

/** The page the person is on (htmx says which), as a same-site path to reload. */
function currentPage(request: FastifyRequest, publicBaseUrl: string): string {
  const header = request.headers['hx-current-url'];
  if (typeof header !== 'string') return '/';
  try {
    const url = new URL(header);
    return safeRedirectTarget(`${url.pathname}${url.search}`, publicBaseUrl);
  } catch {
    return '/';
  }
}

async function sendError(request: FastifyRequest, reply: FastifyReply, statusCode: number, detail?: string) {
  const known = messages[statusCode] ?? messages[400];
  const isServerError = statusCode >= 500;
  const title = isServerError ? 'Something went wrong' : (known?.title ?? 'Error');
  const message = isServerError
    ? 'An unexpected error happened on our side. It has been logged.'
    : (detail ?? known?.message ?? 'The request failed.');
  reply.code(statusCode);
  if (wantsJson(request)) return reply.send({ error: title, message, requestId: request.id });
  if (request.isHtmx) {
    // A whole page swapped into a card would nest the layout. An expired form or session is mended by a
    // fresh page; anything else shows its message where the fragment would have gone.
    const publicBaseUrl = request.server.config.publicBaseUrl;
    if (statusCode === 403) return reply.header('hx-refresh', 'true').send('');
    if (statusCode === 401) {
      const next = encodeURIComponent(currentPage(request, publicBaseUrl));
      return reply.header('hx-redirect', `/login?next=${next}`).send('');
    }
    return reply.page('partials/htmx-error', {
      title,
      message,
      statusCode,
      targetId: htmxTargetId(request),
      reloadHref: currentPage(request, publicBaseUrl),
    });
  }
  return reply.page('pages/error', { title, message, statusCode });
}

async function errorsPlugin(app: FastifyInstance) {
  app.setNotFoundHandler(async (request, reply) => sendError(request, reply, 404));
  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    const statusCode = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    if (statusCode >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ statusCode, code: error.code }, error.message);
    // Validation messages are ours and safe to show; other 4xx keep their generic text.
    const detail = error.validation ? error.message : undefined;
    return sendError(request, reply, statusCode, detail);
  });
}

export default fp(errorsPlugin, { name: 'errors', fastify: '5.x', dependencies: ['view'] });
