// Shared set-up for the simulator's contract tests: a real simulator on 127.0.0.1:0, spoken to
// over HTTP with global fetch, closed by t.teardown.
import type { WhoopSimulator, WhoopSimulatorOptions } from '../../src/whoop-sim/index.ts';
import { consentFields, startTestSimulator, type Teardown } from '../support/whoop-sim.ts';

export type { Teardown } from '../support/whoop-sim.ts';

export const CLIENT_ID = 'test-client';
export const CLIENT_SECRET = 'sim_client_secret_123';
export const REDIRECT_URI = 'http://127.0.0.1:9/whoop/callback';
export const ALL_SCOPES =
  'offline read:recovery read:cycles read:workout read:sleep read:profile read:body_measurement';
/** a fixed base clock: only advanceTime moves simulated time */
export const FIXED_NOW = Date.parse('2026-03-10T15:20:00.000Z');

export async function startSim(
  t: Teardown,
  options: Partial<WhoopSimulatorOptions> = {},
): Promise<WhoopSimulator> {
  return startTestSimulator(t, {
    client: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: REDIRECT_URI, name: 'Test App' },
    seed: 42,
    clock: FIXED_NOW,
    simulator: options,
  });
}

export function authorizeUrl(sim: WhoopSimulator, params: Record<string, string> = {}): string {
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope: ALL_SCOPES,
    state: 'state-12345',
    ...params,
  });
  return `${sim.oauthBaseUrl}/auth?${query}`;
}

/** The consent form's hidden fields, as a browser would submit them. */
export const hiddenFields = consentFields;

export async function submitConsent(
  sim: WhoopSimulator,
  url: string,
  decision: 'grant' | 'deny',
  userId?: number,
): Promise<Response> {
  const page = await fetch(url);
  const fields = hiddenFields(await page.text());
  const body = new URLSearchParams({ ...fields, decision, ...(userId ? { user_id: String(userId) } : {}) });
  return fetch(`${sim.oauthBaseUrl}/consent`, { method: 'POST', body, redirect: 'manual' });
}

export function token(
  sim: WhoopSimulator,
  params: Record<string, string>,
  init: RequestInit = {},
): Promise<Response> {
  return fetch(`${sim.oauthBaseUrl}/token`, {
    method: 'POST',
    body: new URLSearchParams({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, ...params }),
    ...init,
  });
}

export interface Tokens {
  access_token: string;
  refresh_token?: string;
  expires_in: number;
  scope: string;
  token_type: string;
}

/** Consent (Grant) + code exchange for `userId`; returns the token response. */
export async function connect(
  sim: WhoopSimulator,
  userId: number,
  params: Record<string, string> = {},
): Promise<Tokens> {
  const consent = await submitConsent(sim, authorizeUrl(sim, params), 'grant', userId);
  const code = new URL(consent.headers.get('location') ?? '').searchParams.get('code');
  if (!code) throw new Error(`no code in ${consent.headers.get('location')}`);
  const response = await token(sim, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
  if (response.status !== 200) throw new Error(`token exchange failed: ${await response.text()}`);
  return (await response.json()) as Tokens;
}

export function api(
  sim: WhoopSimulator,
  path: string,
  accessToken: string,
  init: RequestInit = {},
): Promise<Response> {
  return fetch(`${sim.apiBaseUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${accessToken}`, ...(init.headers ?? {}) },
  });
}

export async function control<T = unknown>(
  sim: WhoopSimulator,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${sim.controlUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** Follows next_token (sent back as nextToken) to the end; fails on a repeated token. */
export async function fetchAllPages<T>(
  sim: WhoopSimulator,
  path: string,
  accessToken: string,
  query: Record<string, string> = {},
): Promise<{ records: T[]; pages: number }> {
  const records: T[] = [];
  const seen = new Set<string>();
  let next: string | undefined;
  let pages = 0;
  do {
    const params = new URLSearchParams({ ...query, ...(next ? { nextToken: next } : {}) });
    const response = await api(sim, `${path}?${params}`, accessToken);
    if (response.status !== 200) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    const page = (await response.json()) as { records: T[]; next_token?: string | null };
    records.push(...page.records);
    pages++;
    next = page.next_token || undefined;
    if (next && seen.has(next)) throw new Error('repeated next_token');
    if (next) seen.add(next);
  } while (next);
  return { records, pages };
}
