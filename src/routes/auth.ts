import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  CONTROL_CHARACTER_MESSAGE,
  hasControlCharacters,
  withoutControlCharacters,
} from '../services/form-text.ts';
import { safeRedirectTarget } from '../services/safe-redirect.ts';
import { listTimeZones } from '../services/time-zones.ts';
import { EmailTakenError, signUpInput } from '../services/users.ts';

const typed = (value: string) => !hasControlCharacters(value);
const loginInput = z.object({
  email: z
    .string()
    .trim()
    .max(254, 'Email is too long.')
    .refine(typed, CONTROL_CHARACTER_MESSAGE)
    .default(''),
  password: z.string().max(200, 'Password is too long.').refine(typed, CONTROL_CHARACTER_MESSAGE).default(''),
  next: z.unknown().optional(),
});

function throttledMessage(seconds: number, scope: 'address' | 'account'): string {
  const wait = seconds > 90 ? `${Math.ceil(seconds / 60)} minutes` : `${seconds} seconds`;
  return scope === 'account'
    ? `Too many failed attempts for this account. Try again in ${wait}.`
    : `Too many attempts from your network. Try again in ${wait}.`;
}

function fieldErrors(error: z.ZodError): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of error.issues) {
    const field = String(issue.path[0] ?? 'form');
    errors[field] ??= issue.message;
  }
  return errors;
}

export default async function authRoutes(app: FastifyInstance) {
  // Only same-site paths: an open redirect after login would be a phishing tool.
  const safeNext = (next: unknown) => safeRedirectTarget(next, app.config.publicBaseUrl);
  const timeZones = listTimeZones();

  app.get('/signup', async (request, reply) => {
    if (request.user) return reply.redirect('/', 303);
    return reply.page('pages/signup', { title: 'Sign up', values: {}, errors: {}, timeZones });
  });

  app.post('/signup', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, string>;
    const parsed = signUpInput.safeParse(body);
    const values = withoutControlCharacters({
      email: body.email ?? '',
      displayName: body.displayName ?? '',
      timeZone: body.timeZone,
    });
    if (!parsed.success) {
      reply.code(422);
      return reply.page('pages/signup', {
        title: 'Sign up',
        values,
        errors: fieldErrors(parsed.error),
        timeZones,
      });
    }
    try {
      const result = await app.services.signIn.signUp({ ...parsed.data, address: request.ip });
      if (result.outcome === 'throttled') {
        reply.code(429).header('retry-after', String(result.retryAfterSeconds));
        return reply.page('pages/signup', {
          title: 'Sign up',
          values,
          errors: { form: throttledMessage(result.retryAfterSeconds, result.scope) },
          timeZones,
        });
      }
      const { user } = result;
      await request.session.regenerate();
      request.session.userId = user.id;
      request.log.info({ userId: user.id }, 'account created');
      return reply.redirect('/', 303);
    } catch (error) {
      if (!(error instanceof EmailTakenError)) throw error;
      reply.code(409);
      return reply.page('pages/signup', {
        title: 'Sign up',
        values,
        errors: { email: 'An account with this email already exists. Log in instead.' },
        timeZones,
      });
    }
  });

  app.get('/login', async (request, reply) => {
    const next = safeNext((request.query as { next?: string }).next);
    if (request.user) return reply.redirect(next, 303);
    return reply.page('pages/login', { title: 'Log in', email: '', next, error: undefined, errors: {} });
  });

  app.post('/login', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const parsed = loginInput.safeParse(body);
    if (!parsed.success) {
      reply.code(422);
      return reply.page('pages/login', {
        title: 'Log in',
        email: typeof body.email === 'string' ? withoutControlCharacters({ email: body.email }).email : '',
        next: safeNext(body.next),
        error: 'Please fix the highlighted fields.',
        errors: fieldErrors(parsed.error),
      });
    }
    const input = parsed.data;
    const next = safeNext(input.next);
    const result = await app.services.signIn.logIn({ ...input, address: request.ip });
    if (result.outcome !== 'logged_in') {
      request.log.info({ reason: result.outcome }, 'login refused');
      if (result.outcome === 'throttled')
        reply.code(429).header('retry-after', String(result.retryAfterSeconds));
      else reply.code(401);
      return reply.page('pages/login', {
        title: 'Log in',
        email: input.email,
        next,
        error:
          result.outcome === 'throttled'
            ? throttledMessage(result.retryAfterSeconds, result.scope)
            : 'Email or password is incorrect.',
        errors: {},
      });
    }
    const { user } = result;
    // A fresh session id at login defeats session fixation.
    await request.session.regenerate();
    request.session.userId = user.id;
    request.log.info({ userId: user.id }, 'logged in');
    return reply.redirect(next, 303);
  });

  app.post('/logout', async (request, reply) => {
    await request.session.destroy();
    return reply.redirect('/login', 303);
  });
}
