import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CALLBACK_PATH, STATE_COOKIE } from '../plugins/whoop-oauth.ts';
import { instantView } from '../presenters/date-formats.ts';
import { type SyncView, syncAnnouncement, syncView } from '../presenters/sync-status.ts';
import {
  AccountSwitchError,
  type AccountSwitchQuestion,
  LinkError,
  type WhoopCard,
} from '../services/whoop/connections.ts';
import { formBody, signedIn } from './page-helpers.ts';

const callbackQuery = z.object({
  code: z.string().min(1).max(4096).optional(),
  state: z.string().min(1).max(512).optional(),
  error: z.string().max(200).optional(),
});

export interface CardView {
  status: WhoopCard['status'];
  memberName: string | null;
  linkedSince: { iso: string; text: string } | null;
  lastSync: { iso: string; text: string } | null;
  lastSyncStatus: WhoopCard['lastSyncStatus'];
  lastSyncError: string | null;
  nextSync: { iso: string; text: string } | null;
  hasHistory: boolean;
  configured: boolean;
  message: { kind: 'info' | 'error'; text: string } | undefined;
  /** the last sync run: live progress, or its outcome */
  sync?: SyncView | undefined;
}

export function cardView(
  card: WhoopCard,
  timeZone: string,
  extra: { configured: boolean; message?: CardView['message'] },
): CardView {
  return {
    status: card.status,
    memberName: card.memberName,
    linkedSince: instantView(card.connectedAt, timeZone),
    lastSync: instantView(card.lastSyncAt, timeZone),
    lastSyncStatus: card.lastSyncStatus,
    lastSyncError: card.lastSyncError,
    nextSync: instantView(card.nextSyncAt, timeZone),
    hasHistory: card.hasHistory,
    configured: extra.configured,
    message: extra.message,
  };
}

const SWITCH_PATH = '/integrations/whoop/switch';
const DISCONNECT_PATH = '/integrations/whoop/disconnect';
const switchGone =
  'This request to switch WHOOP accounts expired or was already answered. Nothing was changed. Press Connect to try again.';

export interface SwitchView {
  previous: { name: string; id: string } | null;
  next: { name: string; id: string };
  expires: { iso: string; text: string } | null;
}

function switchView(question: AccountSwitchQuestion, timeZone: string): SwitchView {
  const account = (held: { memberName: string; memberId: string }) => ({
    name: held.memberName,
    id: held.memberId,
  });
  return {
    previous: question.previous ? account(question.previous) : null,
    next: account(question.next),
    expires: instantView(question.expiresAt, timeZone),
  };
}

// Registered only when FEATURE_WHOOP_INTEGRATION is on: otherwise every /integrations URL is a 404.
export default async function integrationRoutes(app: FastifyInstance) {
  const configured = app.services.whoop.authorizeEndpoint !== undefined;

  /** The card's record and the last sync run, read concurrently: one round trip's wait, not two. */
  async function loadCard(userId: number) {
    const [card, run] = await Promise.all([
      app.services.whoop.card(userId),
      app.services.whoopSync.latestRun(userId),
    ]);
    return { card, run };
  }

  async function renderCard(
    request: FastifyRequest,
    reply: FastifyReply,
    template: string,
    message?: CardView['message'],
    loaded?: Awaited<ReturnType<typeof loadCard>>,
    options: { announce?: boolean } = {},
  ) {
    const user = request.user;
    if (!user) throw new Error('renderCard needs a signed-in user');
    // The outcome of Connect / Disconnect is shown inside the card, so an htmx swap replaces it too.
    const flash = request.session.flash;
    if (flash) request.session.flash = undefined;
    const shown = message ?? (flash ? { kind: flash.kind, text: flash.message } : undefined);
    const { card, run } = loaded ?? (await loadCard(user.id));
    const view = cardView(card, user.time_zone, { configured, message: shown });
    view.sync = syncView(run, user.time_zone);
    // Only the poll that sees a run end tells screen readers the outcome (once, see whoop-card.eta).
    const announce = options.announce ? syncAnnouncement(view.sync, card) : null;
    return reply.page(template, { title: 'Integrations', card: view, announce });
  }

  // The callback checks its own session: a login redirect must not carry the code in `next`.
  app.get(CALLBACK_PATH, async (request, reply) => {
    reply.clearCookie(STATE_COOKIE, { path: CALLBACK_PATH });
    if (!request.user) return reply.redirect('/login?next=%2Fintegrations', 303);
    const parsed = callbackQuery.safeParse(request.query ?? {});
    // A query that is not plain strings is treated like an unknown state: refused, nothing linked.
    const query = parsed.success ? parsed.data : { code: undefined, state: undefined, error: undefined };
    try {
      const linked = await app.services.whoop.completeAuthorization({
        userId: request.user.id,
        sessionId: request.session.sessionId,
        ...query,
        log: request.log,
        requestId: request.id,
      });
      // Another WHOOP account than the one the history comes from: the person decides first.
      if ('awaitingConfirmation' in linked) return reply.redirect(SWITCH_PATH, 303);
      request.session.flash = { kind: 'info', message: 'WHOOP is linked.' };
    } catch (error) {
      if (!(error instanceof LinkError)) throw error;
      request.session.flash = { kind: 'error', message: error.message };
    }
    return reply.redirect('/integrations', 303);
  });

  app.register(async (pages) => {
    pages.addHook('preHandler', app.requireUser);

    pages.get('/integrations', async (request, reply) => renderCard(request, reply, 'pages/integrations'));

    // The card alone, for htmx to refresh in place.
    pages.get('/integrations/whoop/card', async (request, reply) =>
      renderCard(request, reply, 'partials/whoop-card'),
    );

    pages.post('/integrations/whoop/connect', async (request, reply) => {
      const user = request.user;
      if (!user) throw new Error('requireUser let an anonymous request through');
      const attempt = await app.services.authThrottle.connectAttempt(user.id);
      if (!attempt.allowed) {
        const minutes = Math.ceil(attempt.retryAfterSeconds / 60);
        request.session.flash = {
          kind: 'error',
          message: `Too many attempts to connect WHOOP. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
        };
        return reply.redirect('/integrations', 303);
      }
      if (!configured) {
        request.session.flash = { kind: 'error', message: 'WHOOP is not configured on this server.' };
        return reply.redirect('/integrations', 303);
      }
      try {
        return reply.redirect(await app.whoopAuthorizationUrl(request, reply), 303);
      } catch (error) {
        if (!(error instanceof LinkError)) throw error;
        request.session.flash = { kind: 'error', message: error.message };
        return reply.redirect('/integrations', 303);
      }
    });

    // Disconnect asks first: a page with a plain form (works without JavaScript), or the card's content with htmx.
    pages.get(DISCONNECT_PATH, async (request, reply) => {
      const user = signedIn(request);
      const card = await app.services.whoop.card(user.id);
      if (card.status === 'disconnected') {
        const text = 'WHOOP is not linked: there is nothing to disconnect.';
        if (request.isHtmx) return renderCard(request, reply, 'partials/whoop-card', { kind: 'info', text });
        request.session.flash = { kind: 'info', message: text };
        return reply.redirect('/integrations', 303);
      }
      const view = { status: card.status, memberName: card.memberName };
      const template = request.isHtmx ? 'partials/whoop-disconnect-confirm' : 'pages/whoop-disconnect';
      return reply.page(template, { title: 'Disconnect WHOOP', card: view });
    });

    pages.post(DISCONNECT_PATH, async (request, reply) => {
      const user = request.user;
      if (!user) throw new Error('requireUser let an anonymous request through');
      const result = await app.services.whoop.disconnect({ userId: user.id, log: request.log });
      const text = result.wasLinked
        ? 'WHOOP is disconnected. Your synced history is kept.'
        : 'WHOOP was not linked.';
      if (request.isHtmx) return renderCard(request, reply, 'partials/whoop-card', { kind: 'info', text });
      request.session.flash = { kind: 'info', message: text };
      return reply.redirect('/integrations', 303);
    });

    // Another WHOOP account came back from WHOOP: name both, and ask (two plain forms, no script needed).
    pages.get(SWITCH_PATH, async (request, reply) => {
      const user = signedIn(request);
      const question = await app.services.whoop.pendingSwitch({
        userId: user.id,
        sessionId: request.session.sessionId,
      });
      if (!question) {
        request.session.flash = { kind: 'error', message: switchGone };
        return reply.redirect('/integrations', 303);
      }
      return reply.page('pages/whoop-switch', {
        title: 'Switch WHOOP account',
        question: switchView(question, user.time_zone),
      });
    });

    pages.post(SWITCH_PATH, async (request, reply) => {
      const user = signedIn(request);
      const { replaces = '' } = formBody(request);
      try {
        const linked = await app.services.whoop.confirmSwitch({
          userId: user.id,
          sessionId: request.session.sessionId,
          replaces,
          log: request.log,
          requestId: request.id,
        });
        request.session.flash = {
          kind: 'info',
          message: `WHOOP is linked to ${linked.memberName}. The earlier account's WHOOP data was deleted; the first sync of this one is under way.`,
        };
      } catch (error) {
        if (!(error instanceof LinkError || error instanceof AccountSwitchError)) throw error;
        request.session.flash = { kind: 'error', message: error.message };
      }
      return reply.redirect('/integrations', 303);
    });

    pages.post(`${SWITCH_PATH}/cancel`, async (request, reply) => {
      const user = signedIn(request);
      await app.services.whoop.cancelSwitch({ userId: user.id, log: request.log });
      request.session.flash = {
        kind: 'info',
        message: 'Nothing was changed: the other WHOOP account was not linked, and your history is kept.',
      };
      return reply.redirect('/integrations', 303);
    });

    // Sync now: enqueues a manual sync, or joins the one already queued or running.
    pages.post('/integrations/whoop/sync', async (request, reply) => {
      const user = request.user;
      if (!user) throw new Error('requireUser let an anonymous request through');
      const result = await app.services.whoopSync.request({
        userId: user.id,
        trigger: 'manual',
        requestId: request.id,
        cooldownMs: app.config.sync.manualCooldownMs,
      });
      const why =
        result.outcome === 'refused' && result.status === 'reauth_required'
          ? 'waiting for a reconnect'
          : 'not linked';
      const refused =
        result.outcome === 'refused'
          ? { kind: 'error' as const, text: `WHOOP is ${why}: nothing to sync.` }
          : result.outcome === 'cooldown'
            ? {
                kind: 'info' as const,
                text: `WHOOP was synced moments ago. Sync now works again at ${instantView(result.availableAt, user.time_zone)?.text}.`,
              }
            : undefined;
      if (request.isHtmx) return renderCard(request, reply, 'partials/whoop-card', refused);
      if (refused) request.session.flash = { kind: 'error', message: refused.text };
      return reply.redirect('/integrations', 303);
    });

    // Polled while a sync is under way (every second while it reads). Once it has ended the whole card comes back in its
    // place (new Last sync, the result) without a trigger, which stops the polling (htmx 4 ignores 286).
    pages.get('/integrations/whoop/sync/status', async (request, reply) => {
      const user = request.user;
      if (!user) throw new Error('requireUser let an anonymous request through');
      const loaded = await loadCard(user.id);
      const sync = syncView(loaded.run, user.time_zone);
      const { status } = loaded.card;
      if (request.isHtmx && !sync.active && status !== 'syncing') {
        reply.header('hx-retarget', '#whoop-card').header('hx-reswap', 'outerHTML');
        return renderCard(request, reply, 'partials/whoop-card', undefined, loaded, { announce: true });
      }
      return reply.page('partials/whoop-sync-status', { card: { status, sync } });
    });
  });
}
