// WHOOP's OAuth endpoints: authorize (consent page), consent form, token.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { WHOOP_SCOPES } from '../services/whoop/schemas.ts';
import { consentPage, errorPage } from './consent-page.ts';
import type { SimCore } from './core.ts';
import { endpointKey, gate } from './gate.ts';
import { type ClientConfig, OAuthError } from './oauth-state.ts';

type Params = Record<string, unknown>;

interface ValidAuthorize {
  client: ClientConfig;
  redirectUri: string;
  scopes: string[];
  state: string;
  codeChallenge: string | undefined;
}

type AuthorizeCheck =
  | { kind: 'ok'; value: ValidAuthorize }
  // shown on WHOOP's page, never sent back to the app
  | { kind: 'page'; status: number; title: string; message: string }
  | { kind: 'redirect'; redirectUri: string; error: OAuthError; state: string | undefined };

const single = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

function checkAuthorize(core: SimCore, params: Params): AuthorizeCheck {
  const clientId = single(params.client_id);
  const client = clientId ? core.oauth.client(clientId) : undefined;
  if (!client) {
    return {
      kind: 'page',
      status: 400,
      title: 'Unknown application',
      message: 'The client_id is not a registered app.',
    };
  }
  const redirectUri = single(params.redirect_uri);
  if (!redirectUri || !client.redirectUris.includes(redirectUri)) {
    return {
      kind: 'page',
      status: 400,
      title: 'Redirect URI mismatch',
      message: `The redirect_uri "${redirectUri ?? ''}" does not exactly match a redirect URI registered for this app.`,
    };
  }
  const state = single(params.state);
  const fail = (error: string, hint: string): AuthorizeCheck => ({
    kind: 'redirect',
    redirectUri,
    error: new OAuthError(400, error, hint),
    state,
  });
  if (single(params.response_type) !== 'code')
    return fail('unsupported_response_type', 'Only response_type=code is supported.');
  const scopes = (single(params.scope) ?? '').split(' ').filter(Boolean);
  const unknown = scopes.filter((s) => !(WHOOP_SCOPES as readonly string[]).includes(s));
  if (scopes.length === 0 || unknown.length > 0) {
    return fail(
      'invalid_scope',
      unknown.length ? `Unknown scopes: ${unknown.join(' ')}.` : 'No scope was requested.',
    );
  }
  if (!state || state.length < 8)
    return fail('invalid_state', 'The state must be at least 8 characters long.');
  const codeChallenge = single(params.code_challenge);
  if (codeChallenge !== undefined) {
    if (single(params.code_challenge_method) !== 'S256') {
      return fail('invalid_request', 'Only the S256 code_challenge_method is supported.');
    }
    if (!/^[A-Za-z0-9_-]{43}$/.test(codeChallenge))
      return fail('invalid_request', 'The code_challenge is malformed.');
  }
  return { kind: 'ok', value: { client, redirectUri, scopes, state, codeChallenge } };
}

function redirectWith(
  reply: FastifyReply,
  status: number,
  redirectUri: string,
  params: Record<string, string | undefined>,
) {
  const url = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return reply.code(status).header('location', url.toString()).send();
}

function redirectError(
  reply: FastifyReply,
  status: number,
  check: Extract<AuthorizeCheck, { kind: 'redirect' }>,
) {
  return redirectWith(reply, status, check.redirectUri, {
    error: check.error.error,
    error_description: check.error.description,
    error_hint: check.error.hint,
    state: check.state,
  });
}

function grantRedirect(
  core: SimCore,
  reply: FastifyReply,
  status: number,
  auth: ValidAuthorize,
  userId: number,
) {
  const code = core.oauth.issueCode(
    {
      clientId: auth.client.clientId,
      userId,
      redirectUri: auth.redirectUri,
      scopes: auth.scopes,
      codeChallenge: auth.codeChallenge,
    },
    core.now(),
  );
  return redirectWith(reply, status, auth.redirectUri, {
    code,
    scope: auth.scopes.join(' '),
    state: auth.state,
  });
}

function denyRedirect(reply: FastifyReply, status: number, auth: ValidAuthorize) {
  const error = new OAuthError(403, 'access_denied', 'The resource owner denied the request.');
  return redirectError(reply, status, {
    kind: 'redirect',
    redirectUri: auth.redirectUri,
    error,
    state: auth.state,
  });
}

function sendPage(reply: FastifyReply, status: number, html: string) {
  return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
}

export function oauthRoutes(core: SimCore) {
  return async (app: FastifyInstance) => {
    app.get('/auth', async (request, reply) => {
      const query = request.query as Params;
      const check = checkAuthorize(core, query);
      if (check.kind === 'page') return sendPage(reply, check.status, errorPage(check.title, check.message));
      if (check.kind === 'redirect') return redirectError(reply, 302, check);
      const auth = check.value;
      const members = core.members();
      const hint = single(query.login_hint);
      const hinted = members.find((m) => String(m.userId) === hint || m.email === hint);
      const selected = hinted?.userId ?? core.defaultMember();
      if (members.length === 0 || selected === undefined) {
        const message = 'No WHOOP member exists yet: create one with POST /_sim/members.';
        return sendPage(reply, 409, errorPage('No WHOOP member', message));
      }
      if (core.consent.autoApprove === 'grant') return grantRedirect(core, reply, 302, auth, selected);
      if (core.consent.autoApprove === 'deny') return denyRedirect(reply, 302, auth);
      const hidden: Record<string, string> = {
        client_id: auth.client.clientId,
        redirect_uri: auth.redirectUri,
        response_type: 'code',
        scope: auth.scopes.join(' '),
        state: auth.state,
      };
      if (auth.codeChallenge) {
        hidden.code_challenge = auth.codeChallenge;
        hidden.code_challenge_method = 'S256';
      }
      const html = consentPage({
        clientName: auth.client.name ?? auth.client.clientId,
        scopes: auth.scopes,
        members: members.map((m) => ({
          userId: m.userId,
          name: `${m.firstName} ${m.lastName}`,
          email: m.email,
        })),
        selectedUserId: selected,
        hidden,
      });
      return sendPage(reply, 200, html);
    });

    app.post('/consent', async (request, reply) => {
      const body = (request.body ?? {}) as Params;
      const check = checkAuthorize(core, body);
      if (check.kind === 'page') return sendPage(reply, check.status, errorPage(check.title, check.message));
      if (check.kind === 'redirect') return redirectError(reply, 303, check);
      if (single(body.decision) === 'deny') return denyRedirect(reply, 303, check.value);
      if (single(body.decision) !== 'grant') {
        return sendPage(reply, 400, errorPage('Invalid form', 'Choose Grant or Deny.'));
      }
      const userId = Number(single(body.user_id) ?? core.defaultMember());
      if (!core.store.hasMember(userId)) {
        return sendPage(reply, 400, errorPage('Unknown member', 'Pick an existing WHOOP member.'));
      }
      return grantRedirect(core, reply, 303, check.value, userId);
    });

    app.post('/token', async (request: FastifyRequest, reply) => {
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
      const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Params;
      const claimed = single(body.client_id);
      core.counts.count(endpointKey(request), claimed && core.oauth.client(claimed) ? claimed : undefined);
      try {
        if (!String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
          throw new OAuthError(
            400,
            'invalid_request',
            'The request body must be application/x-www-form-urlencoded.',
          );
        }
        const basicOnly =
          /^basic /i.test(request.headers.authorization ?? '') && body.client_secret === undefined;
        const client = core.oauth.authenticateClient(body.client_id, body.client_secret, basicOnly);
        if (!(await gate(core, reply, 'token', client.clientId))) return reply;
        const grantType = single(body.grant_type);
        if (grantType === 'authorization_code')
          return reply.send(core.oauth.exchangeCode(client, body, core.now()));
        if (grantType === 'refresh_token') {
          const faults = core.faults.get();
          const rules = {
            revokeGrantOnReuse: faults.revokeGrantOnRefreshReuse,
            omitRefreshTokenWithoutOffline: faults.refreshWithoutOfflineOmitsRefreshToken,
          };
          return reply.send(core.oauth.refresh(client, body, core.now(), rules));
        }
        throw new OAuthError(
          400,
          'unsupported_grant_type',
          `The grant_type "${grantType ?? ''}" is not supported.`,
        );
      } catch (err) {
        if (!(err instanceof OAuthError)) throw err;
        return reply.code(err.status).send(err.body());
      }
    });
  };
}
