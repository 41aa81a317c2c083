import oauth2, { type OAuth2Namespace } from '@fastify/oauth2';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { WHOOP_CALLBACK_PATH } from '../config.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Starts a WHOOP authorization for the signed-in user: the URL to send the browser to. */
    whoopAuthorizationUrl: (request: FastifyRequest, reply: FastifyReply) => Promise<string>;
  }
}

export const STATE_COOKIE = 'whoop-oauth-state';
export const CALLBACK_PATH = WHOOP_CALLBACK_PATH;

// @fastify/oauth2 builds the authorize URL (response_type, client_id, redirect_uri, scope, state).
// It keeps state and PKCE verifier in cookies by design; here the state comes from the database
// (stored hashed, one-time, bound to user and session, with the PKCE verifier sealed by the vault),
// so the plugin's generateStateFunction hands it our state, and its cookie-based exchange is not used:
// the code exchange is a framework-free service call (WHOOP wants client credentials in the form body).
async function whoopOAuthPlugin(app: FastifyInstance) {
  const endpoint = app.whoopClient.authorizeEndpoint;
  if (!endpoint) {
    app.decorate('whoopAuthorizationUrl', async () => {
      throw new Error('WHOOP is not configured');
    });
    return;
  }
  // The state this request just stored, handed to the plugin's generateStateFunction.
  const pending = new WeakMap<FastifyRequest, { state: string; codeChallenge: string }>();
  const base = new URL(endpoint.oauthBaseUrl);
  await app.register(oauth2, {
    name: 'whoopOAuth2',
    scope: [...endpoint.scopes],
    credentials: {
      // The secret stays with the WHOOP client service: this instance only builds authorize URLs.
      client: { id: endpoint.clientId, secret: '' },
      auth: {
        authorizeHost: base.origin,
        authorizePath: `${base.pathname}/auth`,
        tokenHost: base.origin,
        tokenPath: `${base.pathname}/token`,
      },
      options: { authorizationMethod: 'body' },
    },
    callbackUri: endpoint.redirectUri,
    generateStateFunction: (request: FastifyRequest) => {
      const started = pending.get(request);
      if (!started) throw new Error('no WHOOP authorization was started for this request');
      return started.state;
    },
    // Never reached: the callback consumes the state atomically in the database (WhoopConnections).
    checkStateFunction: () => false,
    redirectStateCookieName: STATE_COOKIE,
    cookie: {
      path: CALLBACK_PATH,
      httpOnly: true,
      sameSite: 'lax',
      secure: app.config.cookieSecure,
      maxAge: 600,
    },
  });
  const namespace = (app as unknown as { whoopOAuth2: OAuth2Namespace }).whoopOAuth2;

  app.decorate('whoopAuthorizationUrl', async (request: FastifyRequest, reply: FastifyReply) => {
    const user = request.user;
    if (!user) throw new Error('whoopAuthorizationUrl needs a signed-in user');
    const started = await app.services.whoop.beginAuthorization({
      userId: user.id,
      sessionId: request.session.sessionId,
      log: request.log,
    });
    pending.set(request, started);
    const url = new URL(await namespace.generateAuthorizationUri(request, reply));
    // PKCE S256 with a verifier that lives (sealed) in the database, not in the plugin's cookie.
    url.searchParams.set('code_challenge', started.codeChallenge);
    url.searchParams.set('code_challenge_method', 'S256');
    return url.toString();
  });
}

export default fp(whoopOAuthPlugin, {
  name: 'whoop-oauth',
  fastify: '5.x',
  // The state's PKCE verifier is sealed by the token vault; the endpoint is the WHOOP client's.
  dependencies: ['services', 'session', 'auth', 'whoop-feature', 'token-crypto', 'whoop-client'],
});
