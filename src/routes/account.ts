import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { withoutControlCharacters } from '../services/form-text.ts';
import { isValidTimeZone, listTimeZones } from '../services/time-zones.ts';
import { displayNameField } from '../services/users.ts';

const settingsInput = z.object({
  displayName: displayNameField,
  timeZone: z.string().trim().refine(isValidTimeZone, 'Choose a valid time zone.'),
});

export default async function accountRoutes(app: FastifyInstance) {
  const timeZones = listTimeZones();
  app.addHook('preHandler', app.requireUser);

  app.get('/account', async (request, reply) => {
    const user = request.user;
    return reply.page('pages/account', {
      title: 'Account',
      values: { displayName: user?.display_name, timeZone: user?.time_zone },
      errors: {},
      timeZones,
    });
  });

  app.post('/account', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, string>;
    const parsed = settingsInput.safeParse(body);
    if (!parsed.success || !request.user) {
      const errors: Record<string, string> = {};
      for (const issue of parsed.error?.issues ?? []) errors[String(issue.path[0])] ??= issue.message;
      reply.code(422);
      return reply.page('pages/account', {
        title: 'Account',
        values: withoutControlCharacters(body),
        errors,
        timeZones,
      });
    }
    await app.services.users.updateSettings(request.user.id, parsed.data);
    request.session.flash = { kind: 'info', message: 'Settings saved.' };
    return reply.redirect('/account', 303);
  });
}
