// The only code that speaks to WHOOP over HTTP: token endpoint, profile, revoke.
// Framework-free; tokens go in and out as values and are never logged or put in an error message.
import { request } from 'undici';
import { type ApiMetrics, endpointPattern, recordCall, TOKEN_ENDPOINT } from './call-telemetry.ts';
import { oauthErrorSchema, profileSchema, tokenResponseSchema, type WhoopProfile } from './schemas.ts';
import type { WhoopSettings } from './settings.ts';

/** The token endpoint refused (invalid_grant, invalid_client, ...): retrying the same request will not help. */
export class WhoopOAuthError extends Error {
  override name = 'WhoopOAuthError';
  readonly status: number;
  readonly error: string;
  constructor(status: number, error: string) {
    super(`WHOOP token endpoint answered ${status} ${error}`);
    this.status = status;
    this.error = error;
  }
}

/** The Data API answered with a client error (401 bad token, 403/404 ...). */
export class WhoopApiError extends Error {
  override name = 'WhoopApiError';
  readonly status: number;
  constructor(what: string, status: number) {
    super(`WHOOP ${what} answered ${status}`);
    this.status = status;
  }
}

/** WHOOP did not answer usefully (network error, timeout, 5xx, 429, a body that is not what WHOOP sends). */
export class WhoopUnavailableError extends Error {
  override name = 'WhoopUnavailableError';
  readonly status: number | undefined;
  constructor(what: string, detail: string, status?: number) {
    super(`WHOOP ${what} unavailable: ${detail}`);
    this.status = status;
  }
}

export interface WhoopTokens {
  accessToken: string;
  refreshToken: string | undefined;
  /** seconds */
  expiresIn: number;
  scopes: string[];
}

export interface WhoopClientOptions {
  settings: WhoopSettings;
  /** per request; default 15 s */
  timeoutMs?: number;
  /** every call counted by endpoint pattern and status */
  metrics?: ApiMetrics | undefined;
}

type HttpResponse = { status: number; text: string };

export function createWhoopClient(options: WhoopClientOptions) {
  const { settings } = options;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const tokenUrl = `${settings.oauthBaseUrl}/token`;

  async function send(
    what: string,
    url: string,
    init: { method: 'GET' | 'POST' | 'DELETE'; headers: Record<string, string>; body?: string },
  ): Promise<HttpResponse> {
    const endpoint =
      url === tokenUrl ? TOKEN_ENDPOINT : endpointPattern(url.slice(settings.apiBaseUrl.length));
    try {
      const response = await request(url, {
        method: init.method,
        headers: { 'user-agent': 'health-tracker', accept: 'application/json', ...init.headers },
        body: init.body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const text = await response.body.text();
      recordCall(options.metrics, endpoint, response.statusCode);
      return { status: response.statusCode, text };
    } catch (error) {
      recordCall(options.metrics, endpoint, undefined, error);
      // undici's errors name the failure (ECONNREFUSED, timeout), never a header or body.
      const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new WhoopUnavailableError(what, detail);
    }
  }

  function parseJson(text: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  }

  async function tokenRequest(what: string, params: Record<string, string>): Promise<WhoopTokens> {
    // Client credentials in the form body: WHOOP rejects HTTP Basic alone with invalid_client.
    const body = new URLSearchParams({
      ...params,
      client_id: settings.clientId,
      client_secret: settings.clientSecret,
    });
    const response = await send(what, tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: body.toString(),
    });
    const json = parseJson(response.text);
    if (response.status === 200) {
      const parsed = tokenResponseSchema.safeParse(json);
      if (!parsed.success) throw new WhoopUnavailableError(what, 'the token response is malformed', 200);
      return {
        accessToken: parsed.data.access_token,
        refreshToken: parsed.data.refresh_token,
        expiresIn: parsed.data.expires_in,
        scopes: parsed.data.scope.split(/[ +]/).filter(Boolean),
      };
    }
    const error = oauthErrorSchema.safeParse(json);
    if (response.status >= 400 && response.status < 500 && response.status !== 429 && error.success) {
      throw new WhoopOAuthError(response.status, error.data.error);
    }
    throw new WhoopUnavailableError(what, `HTTP ${response.status}`, response.status);
  }

  function bearer(accessToken: string): Record<string, string> {
    return { authorization: `Bearer ${accessToken}` };
  }

  return {
    /** Authorization code -> tokens. `codeVerifier` when the authorize request carried a PKCE challenge. */
    exchangeCode(input: { code: string; codeVerifier?: string | undefined }): Promise<WhoopTokens> {
      return tokenRequest('code exchange', {
        grant_type: 'authorization_code',
        code: input.code,
        redirect_uri: settings.redirectUri,
        ...(input.codeVerifier ? { code_verifier: input.codeVerifier } : {}),
      });
    },

    /** Rotates both tokens; always asks for `offline`, or WHOOP may return no new refresh token. */
    refreshTokens(refreshToken: string): Promise<WhoopTokens> {
      return tokenRequest('token refresh', {
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        scope: 'offline',
      });
    },

    async getProfile(accessToken: string): Promise<WhoopProfile> {
      const what = 'profile';
      const response = await send(what, `${settings.apiBaseUrl}/v2/user/profile/basic`, {
        method: 'GET',
        headers: bearer(accessToken),
      });
      if (response.status === 200) {
        const parsed = profileSchema.safeParse(parseJson(response.text));
        if (!parsed.success) throw new WhoopUnavailableError(what, 'the profile is malformed', 200);
        return parsed.data;
      }
      if (response.status >= 500 || response.status === 429) {
        throw new WhoopUnavailableError(what, `HTTP ${response.status}`, response.status);
      }
      throw new WhoopApiError(what, response.status);
    },

    /** DELETE /v2/user/access: ends every token of this app for the member (204). */
    async revokeAccess(accessToken: string): Promise<void> {
      const what = 'revoke';
      const response = await send(what, `${settings.apiBaseUrl}/v2/user/access`, {
        method: 'DELETE',
        headers: bearer(accessToken),
      });
      if (response.status >= 200 && response.status < 300) return;
      if (response.status >= 500 || response.status === 429) {
        throw new WhoopUnavailableError(what, `HTTP ${response.status}`, response.status);
      }
      throw new WhoopApiError(what, response.status);
    },
  };
}

export type WhoopClient = ReturnType<typeof createWhoopClient>;
