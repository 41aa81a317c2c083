// Shared set-up for the WHOOP linking tests: a real simulator on 127.0.0.1:0 (spoken to over HTTP),
// the app built with its URLs as WHOOP_OAUTH_BASE_URL / WHOOP_API_BASE_URL, and a browser-like session.
import type { LightMyRequestResponse } from 'fastify';
import { parse } from 'node-html-parser';
import { z } from 'zod';
import { sql } from '../../src/services/db/sql.ts';
import {
  createKeyringKeyProvider,
  createTokenVault,
  parseKeyring,
  type TokenVault,
} from '../../src/services/token-vault/index.ts';
import type { WhoopSimulator, WhoopSimulatorOptions } from '../../src/whoop-sim/index.ts';
import { type BuildOptions, build, type TestApp } from '../helper.ts';
import { type BrowserSession, csrfTokenFrom } from '../support/browser-session.ts';
import {
  consentFields,
  type SimClient,
  simulatorEnv,
  startTestSimulator,
  type Teardown,
} from '../support/whoop-sim.ts';

export const CLIENT_ID = 'health-tracker-test';
export const CLIENT_SECRET = 'health-tracker-test-secret';
export const REDIRECT_URI = 'http://localhost:3000/integrations/whoop/callback';
export const INTERNAL_TOKEN = 'internal-api-token-for-tests-0123456789abcdef';

const CLIENT: SimClient = {
  clientId: CLIENT_ID,
  clientSecret: CLIENT_SECRET,
  redirectUri: REDIRECT_URI,
  name: 'Health Tracker (test)',
};

/** The simulator on the wall clock with WHOOP's own rate limits; `redirectUri` registers another callback. */
export async function startSim(
  t: Teardown,
  options: Partial<WhoopSimulatorOptions> & { redirectUri?: string } = {},
): Promise<WhoopSimulator> {
  const { redirectUri, ...simulator } = options;
  return startTestSimulator(t, {
    client: { ...CLIENT, redirectUri: redirectUri ?? REDIRECT_URI },
    seed: 7,
    clock: 'wall',
    simulator,
  });
}

export function whoopEnv(sim: WhoopSimulator, extra: Record<string, string> = {}): Record<string, string> {
  return { ...simulatorEnv(sim, CLIENT), INTERNAL_API_TOKEN: INTERNAL_TOKEN, ...extra };
}

/** A simulator with one member, and the app pointed at it. */
export async function setUp(
  t: Teardown,
  options: { env?: Record<string, string>; build?: BuildOptions; sim?: Partial<WhoopSimulatorOptions> } = {},
): Promise<TestApp & { sim: WhoopSimulator; memberId: number }> {
  const sim = await startSim(t, options.sim);
  const member = sim.createMember({ firstName: 'Whitney', lastName: 'Hoop', days: 3 });
  const built = await build(t, { ...options.build, env: whoopEnv(sim, options.env) });
  return { ...built, sim, memberId: member.userId };
}

/** Presses Connect on /integrations: the app answers 303 to WHOOP's authorize URL. */
export async function pressConnect(browser: BrowserSession): Promise<LightMyRequestResponse> {
  return browser.submit('/integrations', '/integrations/whoop/connect', {});
}

/** Opens WHOOP's consent page and presses Grant or Deny, as a browser would; returns the redirect. */
export async function answerConsent(
  authorizeUrl: string,
  decision: 'grant' | 'deny',
  whoopUserId?: number,
): Promise<URL> {
  const page = await fetch(authorizeUrl);
  const html = await page.text();
  if (page.status !== 200) throw new Error(`consent page answered ${page.status}: ${html}`);
  const fields = consentFields(html);
  const action = new URL('/oauth/oauth2/consent', authorizeUrl);
  const body = new URLSearchParams({
    ...fields,
    decision,
    ...(whoopUserId ? { user_id: String(whoopUserId) } : {}),
  });
  const answer = await fetch(action, { method: 'POST', body, redirect: 'manual' });
  const location = answer.headers.get('location');
  if (!location) throw new Error(`consent answered ${answer.status} without a redirect`);
  return new URL(location);
}

/** Follows WHOOP's redirect back to the app's callback in this browser session. */
export function followCallback(browser: BrowserSession, callback: URL): Promise<LightMyRequestResponse> {
  return browser.get(`${callback.pathname}${callback.search}`);
}

/** Connect -> consent -> callback. */
export async function linkWhoop(
  browser: BrowserSession,
  options: { decision?: 'grant' | 'deny'; whoopUserId?: number } = {},
): Promise<{ authorizeUrl: URL; callbackUrl: URL; callback: LightMyRequestResponse }> {
  const connect = await pressConnect(browser);
  if (connect.statusCode !== 303) throw new Error(`Connect answered ${connect.statusCode}`);
  const authorizeUrl = new URL(String(connect.headers.location));
  const callbackUrl = await answerConsent(
    authorizeUrl.toString(),
    options.decision ?? 'grant',
    options.whoopUserId,
  );
  const callback = await followCallback(browser, callbackUrl);
  return { authorizeUrl, callbackUrl, callback };
}

export interface CardState {
  status: string | undefined;
  flash: string;
  memberName: string;
  buttons: string[];
  text: string;
}

export function readCard(html: string): CardState {
  const root = parse(html);
  const card = root.querySelector('#whoop-card');
  return {
    status: card?.getAttribute('data-status'),
    flash: root
      .querySelectorAll('.flash')
      .map((node) => node.text.trim())
      .join(' '),
    memberName: card?.querySelector('.member-name')?.text.trim() ?? '',
    buttons: card?.querySelectorAll('button').map((button) => button.text.trim()) ?? [],
    text: card?.text.replace(/\s+/g, ' ').trim() ?? '',
  };
}

export async function integrationsCard(browser: BrowserSession): Promise<CardState> {
  const page = await browser.get('/integrations');
  if (page.statusCode !== 200) throw new Error(`/integrations answered ${page.statusCode}`);
  return readCard(page.body);
}

/** Presses Disconnect on the card, then confirms on the page that asks (as a browser without JavaScript does). */
export async function disconnect(browser: BrowserSession, headers: Record<string, string> = {}) {
  const card = parse((await browser.get('/integrations')).body);
  const ask = card.querySelector('#whoop-card form[action="/integrations/whoop/disconnect"]');
  if (ask?.getAttribute('method') !== 'get') throw new Error('no Disconnect button on the card');
  const confirmation = parse((await browser.get('/integrations/whoop/disconnect')).body);
  const form = confirmation.querySelector('form[method="post"][action="/integrations/whoop/disconnect"]');
  if (!form) throw new Error('no confirmation form on the Disconnect page');
  return browser.post('/integrations/whoop/disconnect', { _csrf: csrfTokenFrom(form.toString()) }, headers);
}

const connectionRow = z.object({
  id: z.number(),
  user_id: z.number(),
  status: z.string(),
  provider_account_id: z.string().nullable(),
  scopes: z.array(z.string()),
  connected_at: z.date().nullable(),
  disconnected_at: z.date().nullable(),
});

export async function connections(app: TestApp) {
  return app.pool.any(sql.type(connectionRow)`
    SELECT id, user_id, status, provider_account_id, scopes, connected_at, disconnected_at
    FROM integration_connection ORDER BY id
  `);
}

const tokenRow = z.object({
  connection_id: z.number(),
  kind: z.string(),
  key_provider: z.string(),
  key_id: z.string(),
  key_version: z.string(),
  expires_at: z.date().nullable(),
  ciphertext: z.custom<Buffer>((v) => Buffer.isBuffer(v)),
});

export async function tokenRows(app: TestApp) {
  return app.pool.any(sql.type(tokenRow)`
    SELECT connection_id, kind, key_provider, key_id, key_version, expires_at, ciphertext
    FROM integration_token ORDER BY connection_id, kind
  `);
}

export async function userIdOf(app: TestApp, email: string): Promise<number> {
  return app.pool.oneFirst(sql.type(z.object({ id: z.number() }))`
    SELECT id FROM app_user WHERE email = ${email}
  `);
}

/** The latest grant the simulator issued (to learn the access token it handed out, for checks). */
export function liveGrants(sim: WhoopSimulator) {
  return sim.grants().filter((grant) => !grant.revoked);
}

const sealedRow = z.object({
  connection_id: z.number(),
  kind: z.enum(['access', 'refresh']),
  ciphertext: z.custom<Buffer>((v) => Buffer.isBuffer(v)),
  iv: z.custom<Buffer>((v) => Buffer.isBuffer(v)),
  auth_tag: z.custom<Buffer>((v) => Buffer.isBuffer(v)),
  wrapped_key: z.custom<Buffer>((v) => Buffer.isBuffer(v)),
  key_provider: z.enum(['kms', 'keyring']),
  key_id: z.string(),
  key_version: z.string(),
});

/** Opens every stored token with `vault` (the test's own copy of the keys): what WHOOP handed out. */
export async function openStoredTokens(
  app: TestApp,
  vault: TokenVault,
): Promise<Array<{ connectionId: number; kind: 'access' | 'refresh'; token: string; keyVersion: string }>> {
  const rows = await app.pool.any(sql.type(sealedRow)`
    SELECT connection_id, kind, ciphertext, iv, auth_tag, wrapped_key, key_provider, key_id, key_version
    FROM integration_token ORDER BY connection_id, kind
  `);
  return Promise.all(
    rows.map(async (row) => ({
      connectionId: row.connection_id,
      kind: row.kind,
      keyVersion: row.key_version,
      token: await vault.open(
        {
          ciphertext: row.ciphertext,
          iv: row.iv,
          authTag: row.auth_tag,
          wrappedKey: row.wrapped_key,
          keyProvider: row.key_provider,
          keyId: row.key_id,
          keyVersion: row.key_version,
        },
        { connectionId: String(row.connection_id), kind: row.kind },
      ),
    })),
  );
}

export function keyringVault(spec: string): TokenVault {
  return createTokenVault({
    keyProvider: createKeyringKeyProvider({ keys: parseKeyring(spec), keyId: 'local' }),
  });
}

export async function addRawEvent(
  app: TestApp,
  connectionId: number,
  externalId = 'sleep-1',
): Promise<number> {
  return app.pool.oneFirst(sql.type(z.object({ id: z.number() }))`
    INSERT INTO integration_raw_event (connection_id, resource_type, external_id, content_hash, payload)
    VALUES (${connectionId}, 'sleep', ${externalId}, ${sql.binary(Buffer.from(externalId))}, ${sql.jsonb({ id: externalId })})
    RETURNING id
  `);
}
