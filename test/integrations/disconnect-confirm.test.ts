// Disconnect asks first. Without JavaScript the card's button opens a page with the question and a
// plain form (CSRF); with htmx the same question takes the card's place. Cancel leaves WHOOP linked.
import { type HTMLElement, parse } from 'node-html-parser';
import t, { type Test } from 'tap';
import { z } from 'zod';
import { sql } from '../../src/services/db/sql.ts';
import { BrowserSession, csrfTokenFrom, signUp } from '../support/browser-session.ts';
import { CLIENT_ID, linkMember, loginAs, runSync, startSyncFixture } from '../sync/support/fixture.ts';

const HTMX = { 'hx-request': 'true' };
const REVOKE = 'DELETE /developer/v2/user/access';
const CONFIRM_URL = '/integrations/whoop/disconnect';

const textOf = (element: HTMLElement | null | undefined) => element?.text.replace(/\s+/g, ' ').trim() ?? '';

async function linkedMember(t: Test) {
  const fixture = await startSyncFixture(t);
  const member = fixture.sim.createMember({ days: 3 });
  const linked = await linkMember(fixture, member);
  t.equal(await runSync(fixture, linked.initialRunId), 'succeeded');
  const browser = await loginAs(fixture, linked);
  const status = async () =>
    fixture.pool.oneFirst(sql.type(z.object({ status: z.string() }))`
      SELECT status FROM integration_connection WHERE id = ${linked.connectionId}
    `);
  const revokes = () => fixture.sim.requestCounts()[REVOKE]?.[CLIENT_ID] ?? 0;
  return { fixture, linked, member, browser, status, revokes };
}

t.test('without JavaScript: Disconnect opens a page that asks, and its form disconnects', async (t) => {
  const { browser, status, revokes } = await linkedMember(t);

  const integrations = parse((await browser.get('/integrations')).body);
  const button = integrations.querySelector('#whoop-card form[action="/integrations/whoop/disconnect"]');
  t.equal(button?.getAttribute('method'), 'get', 'the card’s Disconnect only opens the question');
  t.equal(textOf(button?.querySelector('button')), 'Disconnect');

  const asked = await browser.get(CONFIRM_URL);
  t.equal(asked.statusCode, 200);
  const page = parse(asked.body);
  t.ok(page.querySelector('html'), 'a whole page');
  const question = page.querySelector('#whoop-card[data-confirm=disconnect]');
  t.equal(textOf(question?.querySelector('h2')), 'Disconnect WHOOP?');
  t.match(textOf(question), /Your synced history is kept/);
  t.match(textOf(question), /Syncing stops/);
  const form = question?.querySelector('form[method=post][action="/integrations/whoop/disconnect"]');
  t.ok(form?.querySelector('input[name=_csrf]'), 'a plain form with a CSRF token');
  t.equal(textOf(form?.querySelector('button[type=submit]')), 'Disconnect');
  t.equal(
    question?.querySelector('a.cancel')?.getAttribute('href'),
    '/integrations',
    'Cancel is a plain link',
  );
  t.equal(await status(), 'connected', 'asking changed nothing');
  t.equal(revokes(), 0, 'nothing was sent to WHOOP');

  const forged = await browser.post(CONFIRM_URL, {});
  t.equal(forged.statusCode, 403, 'no CSRF token, no disconnect');
  t.equal(await status(), 'connected');

  const confirmed = await browser.post(CONFIRM_URL, { _csrf: csrfTokenFrom(form?.toString() ?? '') });
  t.equal(confirmed.statusCode, 303);
  t.equal(confirmed.headers.location, '/integrations');
  t.equal(await status(), 'disconnected');
  t.equal(revokes(), 1, 'WHOOP was asked to withdraw the access');
  const after = parse((await browser.get('/integrations')).body);
  t.match(
    textOf(after.querySelector('#whoop-card .flash')),
    /WHOOP is disconnected\. Your synced history is kept\./,
  );
});

t.test('Cancel leaves WHOOP linked', async (t) => {
  const { browser, status, revokes } = await linkedMember(t);
  const page = parse((await browser.get(CONFIRM_URL)).body);
  const cancel = page.querySelector('#whoop-card a.cancel')?.getAttribute('href') ?? '';
  const back = await browser.get(cancel);
  t.equal(back.statusCode, 200);
  t.equal(parse(back.body).querySelector('#whoop-card')?.getAttribute('data-status'), 'connected');
  t.equal(await status(), 'connected');
  t.equal(revokes(), 0);
});

t.test('with htmx: the question takes the card’s place, and the answer swaps the card', async (t) => {
  const { browser, status } = await linkedMember(t);
  const integrations = parse((await browser.get('/integrations')).body);
  const button = integrations.querySelector('#whoop-card form[action="/integrations/whoop/disconnect"]');
  t.equal(button?.getAttribute('hx-get'), CONFIRM_URL);
  t.equal(button?.getAttribute('hx-target'), '#whoop-card');
  t.equal(button?.getAttribute('hx-swap'), 'outerHTML');

  const asked = await browser.get(CONFIRM_URL, HTMX);
  t.equal(asked.statusCode, 200);
  const fragment = parse(asked.body);
  t.notOk(fragment.querySelector('html'), 'a fragment, not a page');
  const question = fragment.querySelector('#whoop-card[data-confirm=disconnect]');
  t.ok(question, 'in the card’s place');
  t.ok(question?.querySelector('[autofocus]'), 'the question takes the focus the pressed button had');
  const form = question?.querySelector('form[action="/integrations/whoop/disconnect"]');
  t.equal(form?.getAttribute('hx-post'), CONFIRM_URL);
  t.equal(form?.getAttribute('hx-target'), '#whoop-card');

  const confirmed = await browser.post(CONFIRM_URL, { _csrf: csrfTokenFrom(form?.toString() ?? '') }, HTMX);
  t.equal(confirmed.statusCode, 200);
  const card = parse(confirmed.body).querySelector('#whoop-card');
  t.equal(card?.getAttribute('data-status'), 'disconnected');
  t.match(textOf(card), /WHOOP is disconnected/);
  t.equal(await status(), 'disconnected');
});

t.test('Reconnect needed: "Disconnect instead" asks the same question', async (t) => {
  const { fixture, linked, browser } = await linkedMember(t);
  await fixture.pool.query(sql.typeAlias('void')`
    UPDATE integration_connection SET status = 'reauth_required' WHERE id = ${linked.connectionId}
  `);
  const card = parse((await browser.get('/integrations')).body).querySelector('#whoop-card');
  const button = card?.querySelector('form[action="/integrations/whoop/disconnect"]');
  t.equal(button?.getAttribute('method'), 'get');
  t.equal(textOf(button?.querySelector('button')), 'Disconnect instead');
  const page = parse((await browser.get(CONFIRM_URL)).body);
  t.equal(page.querySelector('#whoop-card')?.getAttribute('data-status'), 'reauth_required');
  t.ok(page.querySelector('#whoop-card form[method=post] input[name=_csrf]'));
});

t.test('nothing linked: no question, back to Integrations', async (t) => {
  const fixture = await startSyncFixture(t);
  const browser = new BrowserSession(fixture.app);
  await signUp(browser, { email: 'never-linked@example.com' });
  const response = await browser.get(CONFIRM_URL);
  t.equal(response.statusCode, 303);
  t.equal(response.headers.location, '/integrations');
  const card = parse((await browser.get('/integrations')).body).querySelector('#whoop-card');
  t.match(textOf(card?.querySelector('.flash')), /WHOOP is not linked: there is nothing to disconnect\./);

  const htmx = parse((await browser.get(CONFIRM_URL, HTMX)).body).querySelector('#whoop-card');
  t.equal(htmx?.getAttribute('data-status'), 'disconnected', 'with htmx: the card itself, saying so');
});

t.test('signed out: the question asks to log in first', async (t) => {
  const fixture = await startSyncFixture(t);
  const response = await new BrowserSession(fixture.app).get(CONFIRM_URL);
  t.equal(response.statusCode, 303);
  t.match(response.headers.location, /^\/login/);
});
