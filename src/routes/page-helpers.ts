import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { isLocalDate } from '../services/local-time.ts';
import type { User } from '../services/users.ts';

/** The signed-in person; only for routes behind app.requireUser. */
export function signedIn(request: FastifyRequest): User {
  if (!request.user) throw new Error('requireUser let an anonymous request through');
  return request.user;
}

const entryId = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });

/** The numeric :id of a URL, or undefined (the caller answers 404: ids are not guessable input). */
export function idParam(request: FastifyRequest): number | undefined {
  const parsed = entryId.safeParse(request.params);
  return parsed.success ? parsed.data.id : undefined;
}

/** A 'YYYY-MM-DD' query value, or undefined when absent or not a real date. */
export function dateQuery(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' && isLocalDate(value) ? value : undefined;
}

export function formBody(request: FastifyRequest): Record<string, string> {
  const body = request.body;
  if (typeof body !== 'object' || body === null) return {};
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(body)) if (typeof value === 'string') fields[name] = value;
  return fields;
}

/** The app's 404 page (also for someone else's entry: its existence is not confirmed). */
export function notFound(reply: FastifyReply): FastifyReply {
  reply.callNotFound();
  // Returning the reply tells Fastify the async not-found page is on its way.
  return reply;
}
