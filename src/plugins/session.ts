import cookie from '@fastify/cookie';
import session from '@fastify/session';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { SESSION_TTL_MS } from '../services/index.ts';

declare module 'fastify' {
  interface Session {
    userId?: number;
    flash?: { kind: 'info' | 'error'; message: string };
  }
}

export const SESSION_COOKIE = 'sid';

async function sessionPlugin(app: FastifyInstance, options: { secret: string }) {
  const repository = app.services.sessions;
  // Adapter from @fastify/session's callback store to our Postgres repository.
  const store = {
    get(id: string, callback: (error: unknown, value?: never) => void) {
      repository.get(id).then((data) => callback(null, (data ?? undefined) as never), callback);
    },
    set(id: string, value: Record<string, unknown>, callback: (error?: unknown) => void) {
      const cookieData = value.cookie as { expires?: Date | string | null } | undefined;
      const expires = cookieData?.expires ? new Date(cookieData.expires) : null;
      repository.set(id, value, expires).then(() => callback(), callback);
    },
    destroy(id: string, callback: (error?: unknown) => void) {
      repository.destroy(id).then(() => callback(), callback);
    },
  };
  await app.register(cookie);
  await app.register(session, {
    secret: options.secret,
    cookieName: SESSION_COOKIE,
    store: store as never,
    // Write only when something changed: no session row per htmx poll or anonymous visit.
    saveUninitialized: false,
    rolling: false,
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: app.config.cookieSecure,
      path: '/',
      maxAge: SESSION_TTL_MS,
    },
  });
}

export default fp(sessionPlugin, { name: 'session', fastify: '5.x', dependencies: ['services'] });
