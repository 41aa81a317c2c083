// Your data: download all of it, delete the WHOOP part, or delete the account. Each deletion asks on a
// page of its own first (a plain form with CSRF; the account also asks for the password).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { SESSION_COOKIE } from '../plugins/session.ts';
import type { Revocation } from '../services/data-rights/erase.ts';
import { formBody, signedIn } from './page-helpers.ts';

const passwordInput = z.object({ password: z.string().max(200).default('') });

function throttledMessage(seconds: number): string {
  const wait = seconds > 90 ? `${Math.ceil(seconds / 60)} minutes` : `${seconds} seconds`;
  return `Too many wrong passwords for this account. Try again in ${wait}.`;
}

function whoopDeletedMessage(deleted: boolean, revocation: Revocation): string {
  if (!deleted) return 'There was no WHOOP data to delete.';
  if (revocation === 'failed')
    return "Your WHOOP data is deleted. WHOOP could not be reached to revoke this app's access; its keys are destroyed, and you can also remove the app in your WHOOP account's settings.";
  if (revocation === 'revoked')
    return "Your WHOOP data is deleted and this app's access to your WHOOP account is revoked.";
  return 'Your WHOOP data is deleted.';
}

export default async function dataRightsRoutes(app: FastifyInstance) {
  const { dataRights } = app.services;
  const requireUser = { preHandler: app.requireUser };

  app.get('/account/export', requireUser, async (request, reply) => {
    const user = signedIn(request);
    const archive = await dataRights.streamExport(user, request.log);
    return reply
      .type('application/zip')
      .header('content-disposition', `attachment; filename="${dataRights.exportFileName(user)}"`)
      .header('cache-control', 'no-store')
      .send(archive);
  });

  app.get('/account/whoop-data/delete', requireUser, async (request, reply) => {
    const hasWhoopData = await dataRights.hasWhoopData(signedIn(request).id);
    return reply.page('pages/delete-whoop-data', { title: 'Delete your WHOOP data', hasWhoopData });
  });

  app.post('/account/whoop-data/delete', requireUser, async (request, reply) => {
    const user = signedIn(request);
    const result = await dataRights.eraseWhoopData({ userId: user.id, log: request.log });
    request.session.flash = { kind: 'info', message: whoopDeletedMessage(result.deleted, result.revocation) };
    return reply.redirect('/account', 303);
  });

  app.get('/account/delete', requireUser, async (_request, reply) => {
    return reply.page('pages/delete-account', { title: 'Delete your account', errors: {} });
  });

  app.post('/account/delete', requireUser, async (request, reply) => {
    const user = signedIn(request);
    const { password } = passwordInput.catch({ password: '' }).parse(formBody(request));
    const result = await dataRights.deleteAccount({ userId: user.id, password, log: request.log });
    if (result.outcome !== 'deleted') {
      if (result.outcome === 'throttled')
        reply.code(429).header('retry-after', String(result.retryAfterSeconds));
      else reply.code(422);
      return reply.page('pages/delete-account', {
        title: 'Delete your account',
        error: result.outcome === 'throttled' ? throttledMessage(result.retryAfterSeconds) : undefined,
        errors: {
          password:
            result.outcome === 'refused'
              ? 'That is not your password. Nothing was deleted.'
              : 'Nothing was deleted.',
        },
      });
    }
    // The account's sessions went with it; this ends the browser's own and drops its cookie.
    await request.session.destroy();
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    const failed = result.revocation === 'failed' ? '?whoop=not-revoked' : '';
    return reply.redirect(`/account/deleted${failed}`, 303);
  });

  app.get('/account/deleted', async (request, reply) => {
    if (request.user) return reply.redirect('/account', 303);
    const query = (request.query ?? {}) as Record<string, unknown>;
    return reply.page('pages/account-deleted', {
      title: 'Account deleted',
      revocationFailed: query.whoop === 'not-revoked',
    });
  });
}
