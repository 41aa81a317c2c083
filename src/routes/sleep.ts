import type { FastifyInstance, FastifyReply } from 'fastify';
import { formatterFor } from '../presenters/format.ts';
import { type SleepForm, sleepFormOf } from '../services/manual-logs/sleep-log.ts';
import { dateQuery, formBody, idParam, notFound, signedIn } from './page-helpers.ts';

interface FormPage {
  title: string;
  action: string;
  entryId?: number;
  values: Partial<SleepForm>;
  errors?: Record<string, string>;
  today: string;
}

function renderForm(reply: FastifyReply, page: FormPage) {
  const status = page.errors ? 422 : 200;
  return reply.code(status).page('pages/sleep-form', { errors: {}, ...page });
}

export default async function sleepRoutes(app: FastifyInstance) {
  const { healthPages, sleepLog } = app.services;
  app.addHook('preHandler', app.requireUser);

  app.get('/sleep', async (request, reply) => {
    const user = signedIn(request);
    const data = await healthPages.sleep(user, dateQuery(request, 'until'));
    return reply.page('pages/sleep', { title: 'Sleep', ...data, fmt: formatterFor(user.time_zone) });
  });

  app.get('/sleep/new', async (request, reply) => {
    const today = healthPages.todayFor(signedIn(request));
    return renderForm(reply, { title: 'Log sleep', action: '/sleep', values: { date: today }, today });
  });

  app.post('/sleep', async (request, reply) => {
    const user = signedIn(request);
    const result = await sleepLog.create(user, formBody(request));
    if (!result.ok) {
      const today = healthPages.todayFor(user);
      return renderForm(reply, {
        title: 'Log sleep',
        action: '/sleep',
        values: formBody(request),
        errors: result.errors,
        today,
      });
    }
    request.session.flash = { kind: 'info', message: 'Sleep saved.' };
    return reply.redirect('/sleep', 303);
  });

  app.get('/sleep/:id/edit', async (request, reply) => {
    const user = signedIn(request);
    const id = idParam(request);
    const entry = id === undefined ? null : await sleepLog.find(user.id, id);
    if (!entry) return notFound(reply);
    const values = sleepFormOf(entry, user.time_zone);
    const today = healthPages.todayFor(user);
    return renderForm(reply, {
      title: 'Edit sleep',
      action: `/sleep/${entry.id}`,
      entryId: entry.id,
      values,
      today,
    });
  });

  app.post('/sleep/:id', async (request, reply) => {
    const user = signedIn(request);
    const id = idParam(request);
    const result = id === undefined ? null : await sleepLog.update(user, id, formBody(request));
    if (!result || id === undefined) return notFound(reply);
    if (!result.ok) {
      const today = healthPages.todayFor(user);
      const values = formBody(request);
      return renderForm(reply, {
        title: 'Edit sleep',
        action: `/sleep/${id}`,
        entryId: id,
        values,
        errors: result.errors,
        today,
      });
    }
    request.session.flash = { kind: 'info', message: 'Sleep updated.' };
    return reply.redirect('/sleep', 303);
  });

  app.post('/sleep/:id/delete', async (request, reply) => {
    const id = idParam(request);
    const removed = id !== undefined && (await sleepLog.remove(signedIn(request).id, id));
    if (!removed) return notFound(reply);
    request.session.flash = { kind: 'info', message: 'Sleep entry deleted.' };
    return reply.redirect('/sleep', 303);
  });
}
