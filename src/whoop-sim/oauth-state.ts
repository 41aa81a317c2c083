// Clients, authorization codes, grants and tokens, with WHOOP's (fosite's) rules: single-use
// short-lived codes, refresh tokens only with `offline`, rotation that kills the old pair at once.
import { createHash, randomBytes } from 'node:crypto';

export interface ClientConfig {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  webhookUrl?: string | undefined;
  /** shown on the consent page */
  name?: string | undefined;
}

export interface Grant {
  id: string;
  clientId: string;
  userId: number;
  scopes: string[];
  revoked: boolean;
}

interface AuthCode {
  clientId: string;
  userId: number;
  redirectUri: string;
  scopes: string[];
  expiresAt: number;
  codeChallenge?: string | undefined;
  /** set once exchanged: a replay revokes what the code produced */
  grantId?: string | undefined;
}

interface AccessToken {
  grantId: string;
  clientId: string;
  expiresAt: number;
  revoked: boolean;
}

interface RefreshToken {
  grantId: string;
  clientId: string;
  accessToken: string;
  spent: boolean;
}

export interface TokenResponse {
  access_token: string;
  expires_in: number;
  refresh_token?: string;
  scope: string;
  token_type: 'bearer';
}

const DESCRIPTIONS: Record<string, string> = {
  invalid_grant:
    'The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.',
  invalid_client:
    'Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method).',
  invalid_request:
    'The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed.',
  invalid_scope: 'The requested scope is invalid, unknown, or malformed.',
  unsupported_grant_type: 'The authorization grant type is not supported by the authorization server.',
  unsupported_response_type: 'The authorization server does not support obtaining a token using this method.',
  invalid_state:
    'The state is missing or does not have enough characters and is therefore considered too weak.',
  access_denied: 'The resource owner or authorization server denied the request.',
};

/** An OAuth error in fosite's shape: `{error, error_description, error_hint, status_code}`. */
export class OAuthError extends Error {
  readonly status: number;
  readonly error: string;
  readonly hint: string;

  constructor(status: number, error: string, hint: string) {
    super(`${error}: ${hint}`);
    this.status = status;
    this.error = error;
    this.hint = hint;
  }

  get description(): string {
    return `${DESCRIPTIONS[this.error] ?? this.error} ${this.hint}`;
  }

  body() {
    return {
      error: this.error,
      error_description: this.description,
      error_hint: this.hint,
      status_code: this.status,
    };
  }
}

const opaque = (prefix: string) =>
  `${prefix}${randomBytes(32).toString('base64url')}.${randomBytes(16).toString('base64url')}`;
export const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

export class OAuthState {
  readonly #clients = new Map<string, ClientConfig>();
  readonly #codes = new Map<string, AuthCode>();
  readonly #grants = new Map<string, Grant>();
  readonly #access = new Map<string, AccessToken>();
  readonly #refresh = new Map<string, RefreshToken>();
  readonly #accessTtlMs: number;
  readonly #codeTtlMs: number;

  constructor(options: { accessTokenTtlSeconds: number; codeTtlSeconds: number }) {
    this.#accessTtlMs = options.accessTokenTtlSeconds * 1000;
    this.#codeTtlMs = options.codeTtlSeconds * 1000;
  }

  addClient(client: ClientConfig): void {
    this.#clients.set(client.clientId, { ...client, redirectUris: [...client.redirectUris] });
  }

  updateClient(clientId: string, patch: Partial<Omit<ClientConfig, 'clientId'>>): ClientConfig | undefined {
    const client = this.#clients.get(clientId);
    if (!client) return undefined;
    const updated = {
      ...client,
      ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)),
    };
    this.#clients.set(clientId, updated);
    return updated;
  }

  client(clientId: string): ClientConfig | undefined {
    return this.#clients.get(clientId);
  }

  clients(): ClientConfig[] {
    return [...this.#clients.values()];
  }

  /** Client authentication from the request body; HTTP Basic alone is not enough at WHOOP. */
  authenticateClient(clientId: unknown, clientSecret: unknown, basicOnly: boolean): ClientConfig {
    if (basicOnly)
      throw new OAuthError(401, 'invalid_client', 'Client credentials must be sent in the request body.');
    const client = typeof clientId === 'string' ? this.#clients.get(clientId) : undefined;
    if (!client || typeof clientSecret !== 'string' || clientSecret !== client.clientSecret) {
      throw new OAuthError(
        401,
        'invalid_client',
        'The requested OAuth 2.0 Client does not exist or the secret is wrong.',
      );
    }
    return client;
  }

  issueCode(code: Omit<AuthCode, 'expiresAt' | 'grantId'>, now: number): string {
    const value = opaque('ory_ac_');
    this.#codes.set(value, { ...code, expiresAt: now + this.#codeTtlMs });
    return value;
  }

  exchangeCode(
    client: ClientConfig,
    params: { code?: unknown; redirect_uri?: unknown; code_verifier?: unknown },
    now: number,
  ): TokenResponse {
    if (typeof params.code !== 'string' || params.code === '') {
      throw new OAuthError(400, 'invalid_request', 'The "code" parameter is missing.');
    }
    const code = this.#codes.get(params.code);
    if (!code) throw new OAuthError(400, 'invalid_grant', 'The authorization code is unknown.');
    if (code.grantId) {
      // RFC 6749 4.1.2: a replayed code revokes the tokens it produced
      this.revokeGrant(code.grantId);
      throw new OAuthError(400, 'invalid_grant', 'The authorization code has already been used.');
    }
    if (code.expiresAt <= now)
      throw new OAuthError(400, 'invalid_grant', 'The authorization code has expired.');
    if (code.clientId !== client.clientId) {
      throw new OAuthError(400, 'invalid_grant', 'The authorization code was issued to another client.');
    }
    if (params.redirect_uri !== code.redirectUri) {
      throw new OAuthError(
        400,
        'invalid_grant',
        'The "redirect_uri" does not match the one used to authorize.',
      );
    }
    if (code.codeChallenge !== undefined) {
      if (typeof params.code_verifier !== 'string' || s256(params.code_verifier) !== code.codeChallenge) {
        throw new OAuthError(
          400,
          'invalid_grant',
          'The PKCE code verifier does not match the code challenge.',
        );
      }
    }
    const grant: Grant = {
      id: randomBytes(12).toString('hex'),
      clientId: client.clientId,
      userId: code.userId,
      scopes: code.scopes,
      revoked: false,
    };
    this.#grants.set(grant.id, grant);
    code.grantId = grant.id;
    return this.#issue(grant, now, grant.scopes.includes('offline'));
  }

  refresh(
    client: ClientConfig,
    params: { refresh_token?: unknown; scope?: unknown },
    now: number,
    rules: { revokeGrantOnReuse: boolean; omitRefreshTokenWithoutOffline: boolean },
  ): TokenResponse {
    if (typeof params.refresh_token !== 'string' || params.refresh_token === '') {
      throw new OAuthError(400, 'invalid_request', 'The "refresh_token" parameter is missing.');
    }
    const token = this.#refresh.get(params.refresh_token);
    const grant = token ? this.#grants.get(token.grantId) : undefined;
    if (!token || !grant || token.clientId !== client.clientId) {
      throw new OAuthError(
        400,
        'invalid_grant',
        'The refresh token is unknown or was issued to another client.',
      );
    }
    if (grant.revoked) throw new OAuthError(400, 'invalid_grant', 'The refresh token has been revoked.');
    if (token.spent) {
      if (rules.revokeGrantOnReuse) this.revokeGrant(grant.id);
      throw new OAuthError(400, 'invalid_grant', 'The refresh token has already been used.');
    }
    const requested = typeof params.scope === 'string' ? params.scope.split(/[ +]/).filter(Boolean) : [];
    const unknown = requested.filter((s) => !grant.scopes.includes(s));
    if (unknown.length > 0) {
      throw new OAuthError(400, 'invalid_scope', `The scopes ${unknown.join(' ')} were not granted.`);
    }
    token.spent = true;
    const old = this.#access.get(token.accessToken);
    if (old) old.revoked = true;
    const withRefresh = !rules.omitRefreshTokenWithoutOffline || requested.includes('offline');
    return this.#issue(grant, now, withRefresh);
  }

  #issue(grant: Grant, now: number, withRefresh: boolean): TokenResponse {
    const accessToken = opaque('ory_at_');
    this.#access.set(accessToken, {
      grantId: grant.id,
      clientId: grant.clientId,
      expiresAt: now + this.#accessTtlMs,
      revoked: false,
    });
    let refreshToken: string | undefined;
    if (withRefresh && grant.scopes.includes('offline')) {
      refreshToken = opaque('ory_rt_');
      this.#refresh.set(refreshToken, {
        grantId: grant.id,
        clientId: grant.clientId,
        accessToken,
        spent: false,
      });
    }
    return {
      access_token: accessToken,
      expires_in: Math.round(this.#accessTtlMs / 1000),
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
      scope: grant.scopes.join(' '),
      token_type: 'bearer',
    };
  }

  /** The grant behind a bearer token, or why there is none. */
  authenticate(accessToken: string, now: number): { grant: Grant } | { reason: string } {
    const token = this.#access.get(accessToken);
    if (!token) return { reason: 'unknown token' };
    const grant = this.#grants.get(token.grantId);
    if (token.revoked || !grant || grant.revoked) return { reason: 'token revoked' };
    if (token.expiresAt <= now) return { reason: 'token expired' };
    return { grant };
  }

  /** Who a (possibly invalid) bearer token belongs to, for request counts. */
  clientOfToken(accessToken: string): string | undefined {
    return this.#access.get(accessToken)?.clientId;
  }

  revokeGrant(grantId: string): void {
    const grant = this.#grants.get(grantId);
    if (grant) grant.revoked = true;
  }

  /** Ends every grant (so every token) of this member for this client. */
  revokeMember(clientId: string, userId: number): number {
    let count = 0;
    for (const grant of this.#grants.values()) {
      if (grant.clientId === clientId && grant.userId === userId && !grant.revoked) {
        grant.revoked = true;
        count++;
      }
    }
    return count;
  }

  /** Clients that currently hold a live grant for the member (webhook subscribers). */
  clientsWithAccess(userId: number): ClientConfig[] {
    const ids = new Set<string>();
    for (const grant of this.#grants.values())
      if (grant.userId === userId && !grant.revoked) ids.add(grant.clientId);
    return [...ids].map((id) => this.#clients.get(id)).filter((c) => c !== undefined);
  }

  grants(): Grant[] {
    return [...this.#grants.values()].map((g) => ({ ...g, scopes: [...g.scopes] }));
  }
}
