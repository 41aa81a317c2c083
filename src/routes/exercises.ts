import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { formatterFor } from '../presenters/format.ts';
import { addDays } from '../services/local-time.ts';
import { type WorkoutForm, workoutFormOf } from '../services/manual-logs/workout-log.ts';
import { dateQuery, formBody, idParam, notFound, signedIn } from './page-helpers.ts';

interface FormPage {
  title: string;
  action: string;
  entryId?: number;
  values: Partial<WorkoutForm>;
  errors?: Record<string, string>;
  today: string;
}

function renderForm(reply: FastifyReply, page: FormPage) {
  return reply.code(page.errors ? 422 : 200).page('pages/workout-form', { errors: {}, ...page });
}

const dayUrl = (date: string) => `/exercises?date=${date}`;

export default async function exerciseRoutes(app: FastifyInstance) {
  const { healthPages, workoutLog } = app.services;
  app.addHook('preHandler', app.requireUser);

  app.get('/exercises', async (request, reply) => {
    const user = signedIn(request);
    const data = await healthPages.exercises(user, dateQuery(request, 'date'));
    const days = {
      previous: addDays(data.date, -1),
      next: data.date < data.today ? addDays(data.date, 1) : null,
    };
    return reply.page('pages/exercises', {
      title: 'Exercises',
      ...data,
      ...days,
      fmt: formatterFor(user.time_zone),
    });
  });

  app.get('/exercises/new', async (request, reply) => {
    const today = healthPages.todayFor(signedIn(request));
    const date = dateQuery(request, 'date') ?? today;
    return renderForm(reply, { title: 'Log a workout', action: '/exercises', values: { date }, today });
  });

  app.post('/exercises', async (request, reply) => {
    const user = signedIn(request);
    const result = await workoutLog.create(user, formBody(request));
    if (!result.ok) {
      const today = healthPages.todayFor(user);
      const values = formBody(request);
      return renderForm(reply, {
        title: 'Log a workout',
        action: '/exercises',
        values,
        errors: result.errors,
        today,
      });
    }
    request.session.flash = { kind: 'info', message: 'Workout saved.' };
    return reply.redirect(dayUrl(result.value.local_date), 303);
  });

  app.get('/exercises/:id/edit', async (request, reply) => {
    const user = signedIn(request);
    const id = idParam(request);
    const session = id === undefined ? null : await workoutLog.find(user.id, id);
    if (!session) return notFound(reply);
    const values = workoutFormOf(session, user.time_zone);
    const today = healthPages.todayFor(user);
    const action = `/exercises/${session.id}`;
    return renderForm(reply, { title: 'Edit workout', action, entryId: session.id, values, today });
  });

  app.post('/exercises/:id', async (request, reply) => {
    const user = signedIn(request);
    const id = idParam(request);
    const result = id === undefined ? null : await workoutLog.update(user, id, formBody(request));
    if (!result || id === undefined) return notFound(reply);
    if (!result.ok) {
      const today = healthPages.todayFor(user);
      const values = formBody(request);
      const action = `/exercises/${id}`;
      return renderForm(reply, {
        title: 'Edit workout',
        action,
        entryId: id,
        values,
        errors: result.errors,
        today,
      });
    }
    request.session.flash = { kind: 'info', message: 'Workout updated.' };
    return reply.redirect(dayUrl(result.value.local_date), 303);
  });

  app.post('/exercises/:id/delete', async (request, reply) => {
    const user = signedIn(request);
    const id = idParam(request);
    const session = id === undefined ? null : await workoutLog.find(user.id, id);
    if (!session || !(await workoutLog.remove(user.id, session.id))) return notFound(reply);
    request.session.flash = { kind: 'info', message: 'Workout deleted.' };
    return reply.redirect(dayUrl(session.local_date), 303);
  });

  // Wearable workouts come from the provider and are read-only here: any attempt to change one is
  // refused plainly (someone else's, or an unknown id, is simply not found).
  async function refuseWearableEdit(request: FastifyRequest, reply: FastifyReply) {
    const id = idParam(request);
    const owned = id !== undefined && (await healthPages.wearableWorkoutOwnedBy(signedIn(request).id, id));
    if (!owned) return notFound(reply);
    return reply.code(403).page('pages/error', {
      title: 'Read-only workout',
      message:
        'This workout comes from WHOOP and cannot be edited or deleted here. Change it in the WHOOP app.',
    });
  }
  app.get('/exercises/whoop/:id/edit', refuseWearableEdit);
  app.post('/exercises/whoop/:id', refuseWearableEdit);
  app.post('/exercises/whoop/:id/delete', refuseWearableEdit);
}
