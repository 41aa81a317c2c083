// The connect flow with AWS KMS as the key provider: the real @aws-sdk/client-kms against a local
// server that speaks the KMS JSON protocol (test/support/kms-server.ts).
import t from 'tap';
import { z } from 'zod';
import { sql } from '../../src/services/db/sql.ts';
import { BrowserSession, signUp } from '../support/browser-session.ts';
import { startLocalKms } from '../support/kms-server.ts';
import {
  CLIENT_ID,
  connections,
  disconnect,
  integrationsCard,
  linkWhoop,
  pressConnect,
  setUp,
  tokenRows,
} from './support.ts';

// The SDK reads its credentials from the environment; the local server only checks a SigV4 header is there.
process.env.AWS_ACCESS_KEY_ID = 'AKIDLOCALTEST';
process.env.AWS_SECRET_ACCESS_KEY = 'local-secret';

t.test('connect and disconnect with KMS envelope encryption', async (t) => {
  const kms = await startLocalKms({ keys: ['whoop-tokens'] });
  t.teardown(() => kms.close());
  const app = await setUp(t, {
    env: { KMS_KEY_ID: 'whoop-tokens', KMS_ENDPOINT: kms.endpoint, AWS_REGION: 'us-east-1' },
  });
  const browser = new BrowserSession(app.app);
  await signUp(browser, { email: 'kms@example.com' });
  await linkWhoop(browser, { whoopUserId: app.memberId });
  t.equal((await integrationsCard(browser)).status, 'connected');

  const [connection] = await connections(app);
  const rows = await tokenRows(app);
  t.same(
    rows.map((row) => [row.kind, row.key_provider, row.key_id, row.key_version]),
    [
      ['access', 'kms', 'whoop-tokens', kms.arnOf('whoop-tokens')],
      ['refresh', 'kms', 'whoop-tokens', kms.arnOf('whoop-tokens')],
    ],
    'each row records the KMS key that sealed it',
  );
  const generated = kms.calls.filter((call) => call.target === 'GenerateDataKey');
  const contexts = generated.map((call) => call.encryptionContext);
  for (const kind of ['access', 'refresh']) {
    t.ok(
      contexts.some(
        (c) =>
          c.connection_id === String(connection?.id) && c.kind === kind && c.purpose === 'integration-token',
      ),
      `a data key of its own for the ${kind} token, bound to the connection`,
    );
  }
  t.ok(
    contexts.some((c) => c.kind === 'pkce_verifier' && c.connection_id?.startsWith('oauth_state:')),
    'the PKCE verifier is sealed too, bound to its state',
  );
  t.ok(
    kms.calls.some((call) => call.target === 'Decrypt' && call.encryptionContext.kind === 'pkce_verifier'),
    'the verifier was opened at the callback',
  );

  const before = kms.calls.length;
  await disconnect(browser);
  const decrypts = kms.calls.slice(before).filter((call) => call.target === 'Decrypt');
  t.same(
    decrypts.map((call) => [call.keyId, call.encryptionContext.kind]),
    [[kms.arnOf('whoop-tokens'), 'access']],
    'the access token was opened through KMS to revoke it',
  );
  t.equal(
    app.sim.requestCounts()['DELETE /developer/v2/user/access']?.[CLIENT_ID],
    1,
    'and WHOOP accepted it',
  );
  t.same(await tokenRows(app), []);
});

t.test('KMS unavailable: Connect explains it and nothing is stored', async (t) => {
  const kms = await startLocalKms({ keys: ['whoop-tokens'] });
  const app = await setUp(t, {
    env: { KMS_KEY_ID: 'whoop-tokens', KMS_ENDPOINT: kms.endpoint, AWS_REGION: 'us-east-1' },
  });
  await kms.close();
  const browser = new BrowserSession(app.app);
  await signUp(browser, { email: 'kms-down@example.com' });
  const response = await pressConnect(browser);
  t.equal(response.statusCode, 303);
  t.equal(response.headers.location, '/integrations', 'stays here rather than going to WHOOP');
  t.match((await integrationsCard(browser)).flash, /cannot protect the tokens/);
  const states = await app.pool.anyFirst(sql.type(z.object({ id: z.number() }))`SELECT id FROM oauth_state`);
  t.same(states, []);
});
