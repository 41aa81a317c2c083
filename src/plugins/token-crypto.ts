import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { TokenCryptoStatus } from '../services/token-keys.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Whether WHOOP tokens can be sealed, and by which provider: never seal or open (WHOOP-07). */
    tokenCrypto: TokenCryptoStatus;
  }
}

// Envelope encryption of WHOOP tokens, as the web side sees it: the status, never the vault. Only
// src/services/whoop/** opens a token, so nothing here or in a route can hand one out. The keys are
// not closed with the app: in `npm start` the worker shares them and still runs jobs after the web
// side stopped; whoever built the services closes them last (src/main.ts, test/helper.ts).
async function tokenCryptoPlugin(app: FastifyInstance) {
  app.decorate('tokenCrypto', app.services.tokenCrypto);
}

export default fp(tokenCryptoPlugin, { name: 'token-crypto', fastify: '5.x', dependencies: ['services'] });
