import type { Config } from '../../config.ts';

/** The six read scopes and `offline` (without it WHOOP issues no refresh token). */
export const WHOOP_REQUESTED_SCOPES = [
  'read:recovery',
  'read:cycles',
  'read:workout',
  'read:sleep',
  'read:profile',
  'read:body_measurement',
  'offline',
] as const;

/**
 * The WHOOP endpoints and client credentials the services talk to. Derived once at start-up: from
 * the config in live mode, from the in-process simulator in demo mode (see src/main.ts).
 */
export interface WhoopSettings {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUri: string;
  /** e.g. https://api.prod.whoop.com/oauth/oauth2 (authorize at /auth, tokens at /token) */
  readonly oauthBaseUrl: string;
  /** e.g. https://api.prod.whoop.com/developer */
  readonly apiBaseUrl: string;
}

/** What the browser-facing side may know: no client secret. */
export interface WhoopAuthorizeEndpoint {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly oauthBaseUrl: string;
  readonly scopes: readonly string[];
}

/** Settings from the config alone, when it names a real client (mode 'live'). */
export function whoopSettingsFromConfig(config: Config): WhoopSettings | undefined {
  const { whoop } = config;
  if (whoop.mode !== 'live' || !whoop.clientId || !whoop.clientSecret) return undefined;
  return Object.freeze({
    clientId: whoop.clientId,
    clientSecret: whoop.clientSecret,
    redirectUri: whoop.redirectUri,
    oauthBaseUrl: whoop.oauthBaseUrl,
    apiBaseUrl: whoop.apiBaseUrl,
  });
}
