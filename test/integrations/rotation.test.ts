import { spawn } from 'node:child_process';
import t, { type Test } from 'tap';
import { z } from 'zod';
import { loadConfig } from '../../src/config.ts';
import type { DatabasePool } from '../../src/services/db/pool.ts';
import { sql } from '../../src/services/db/sql.ts';
import { createServices } from '../../src/services/index.ts';
import { createTokenKeys, createTokenKeysFromConfig } from '../../src/services/token-keys.ts';
import {
  createKeyringKeyProvider,
  createKmsKeyProvider,
  createTokenVault,
  generateKeyringKey,
  parseKeyring,
} from '../../src/services/token-vault/index.ts';
import { build } from '../helper.ts';
import { BrowserSession, signUp } from '../support/browser-session.ts';
import { startLocalKms } from '../support/kms-server.ts';
import {
  CLIENT_ID,
  disconnect,
  keyringVault,
  linkWhoop,
  openStoredTokens,
  startSim,
  whoopEnv,
} from './support.ts';

process.env.AWS_ACCESS_KEY_ID = 'AKIDLOCALTEST';
process.env.AWS_SECRET_ACCESS_KEY = 'local-secret';

const V1 = generateKeyringKey('v1');
const V2 = generateKeyringKey('v2');

const keyRow = z.object({
  kind: z.string(),
  key_provider: z.string(),
  key_id: z.string(),
  key_version: z.string(),
});

/** Three people with a WHOOP link each (six sealed tokens), under `TOKEN_ENCRYPTION_KEYS=keyring`. */
async function threeLinks(t: Test, keyring: string) {
  const sim = await startSim(t);
  const members = ['Ana', 'Ben', 'Cy'].map((firstName) =>
    sim.createMember({ firstName, lastName: 'Rot', days: 2 }),
  );
  const app = await build(t, { env: whoopEnv(sim, { TOKEN_ENCRYPTION_KEYS: keyring }) });
  for (const [i, member] of members.entries()) {
    const browser = new BrowserSession(app.app);
    await signUp(browser, { email: `rot${i}@example.com` });
    await linkWhoop(browser, { whoopUserId: member.userId });
  }
  const original = await openStoredTokens(app, keyringVault(keyring));
  return { app, sim, original };
}

async function keysOf(app: { pool: DatabasePool }) {
  return app.pool.any(sql.type(keyRow)`
    SELECT kind, key_provider, key_id, key_version FROM integration_token ORDER BY connection_id, kind
  `);
}

function rotationServices(app: Awaited<ReturnType<typeof threeLinks>>['app'], keyringSpec: string) {
  const services = createServices({
    config: app.config,
    pool: app.pool,
    logger: app.logs.logger,
    tokenKeys: createTokenKeysFromConfig({ ...app.config.tokenEncryption, keyringSpec }),
  });
  return services.tokenRotation;
}

function runCli(
  databaseUrl: string,
  keyring: string,
  args: string[],
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['src/cli/rotate-tokens.ts', ...args], {
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'test',
        DATABASE_URL: databaseUrl,
        TOKEN_ENCRYPTION_KEYS: keyring,
        LOG_LEVEL: 'info',
      },
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.on('exit', (code) => resolve({ code, output }));
  });
}

t.test(
  'keyring rotation: interrupted after one batch, re-run completes; every token opens under the new key',
  async (t) => {
    const { app, sim, original } = await threeLinks(t, V1);
    t.equal(original.length, 6);
    t.ok(original.every((row) => row.keyVersion === 'v1'));

    // New key first, old key kept: new seals use v2, old rows still open.
    const newKeyring = `${V2},${V1}`;
    const rotation = rotationServices(app, newKeyring);
    t.equal(await rotation.pending(), 6, 'six tokens under an older key');
    const first = await rotation.rotate({ batchSize: 2, maxBatches: 1 });
    t.match(first, {
      resealed: 2,
      batches: 1,
      remaining: 4,
      current: { provider: 'keyring', keyId: 'local', keyVersion: 'v2' },
    });
    const midway = await keysOf(app);
    t.equal(midway.filter((row) => row.key_version === 'v2').length, 2, 'interrupted: two rows moved');
    t.same(
      (await openStoredTokens(app, keyringVault(newKeyring))).map((row) => row.token),
      original.map((row) => row.token),
      'halfway, every token still opens',
    );

    // The command, as an operator runs it: stopped after one batch, then run again.
    const stopped = await runCli(app.databaseUrl, newKeyring, ['--batch-size', '2', '--max-batches', '1']);
    t.equal(stopped.code, 3, 'exits 3 while tokens remain');
    t.match(stopped.output, /still under an older key: run `npm run tokens:rotate` again/);
    t.equal((await keysOf(app)).filter((row) => row.key_version === 'v2').length, 4);
    const done = await runCli(app.databaseUrl, newKeyring, ['--batch-size', '2']);
    t.equal(done.code, 0, done.output);
    t.match(done.output, /every token is sealed under the current key/);

    t.ok(
      (await keysOf(app)).every((row) => row.key_version === 'v2'),
      'every row records v2',
    );
    t.same(
      (await openStoredTokens(app, keyringVault(V2))).map((row) => row.token),
      original.map((row) => row.token),
      'every token opens with v2 alone: v1 can be retired',
    );
    const again = await runCli(app.databaseUrl, newKeyring, []);
    t.equal(again.code, 0, 're-running when done changes nothing');
    t.notMatch(done.output + stopped.output, /ory_(at|rt)_/, 'no token in the output');

    // The app with v2 alone still works with the rotated tokens: disconnect opens one and revokes at WHOOP.
    const rotated = await build(t, {
      databaseUrl: app.databaseUrl,
      env: whoopEnv(sim, { TOKEN_ENCRYPTION_KEYS: V2 }),
    });
    const browser = new BrowserSession(rotated.app);
    await browser.submit('/login', '/login', {
      email: 'rot0@example.com',
      password: 'correct horse battery',
    });
    await disconnect(browser);
    t.equal(
      sim.requestCounts()['DELETE /developer/v2/user/access']?.[CLIENT_ID],
      1,
      'revoked with a rotated token',
    );
  },
);

t.test(
  'rotation is online: rows locked by a refresh in flight are skipped, then done on the next run',
  async (t) => {
    const { app, original } = await threeLinks(t, V1);
    const rotation = rotationServices(app, `${V2},${V1}`);
    const firstConnection = original[0]?.connectionId ?? 0;
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked: () => void = () => {};
    const isLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const holder = app.pool.transaction(async (tx) => {
      await tx.query(sql.typeAlias('void')`
      SELECT FROM integration_token WHERE connection_id = ${firstConnection} FOR UPDATE
    `);
      locked();
      await held;
    });
    await isLocked;
    const during = await rotation.rotate({ batchSize: 10 });
    t.match(during, { resealed: 4, remaining: 2 }, 'the locked pair is left for later, nothing waits');
    release();
    await holder;
    const after = await rotation.rotate({ batchSize: 10 });
    t.match(after, { resealed: 2, remaining: 0 });
    t.same(
      (await openStoredTokens(app, keyringVault(V2))).map((row) => row.token),
      original.map((row) => row.token),
    );
  },
);

t.test('moving from the keyring to KMS, then to another KMS key', async (t) => {
  const kms = await startLocalKms({ keys: ['key-a', 'key-b'] });
  t.teardown(() => kms.close());
  const { app, original } = await threeLinks(t, V1);
  const kmsProvider = (keyId: string) => {
    const provider = createKmsKeyProvider({ keyId, region: 'us-east-1', endpoint: kms.endpoint });
    t.teardown(() => provider.destroy());
    return provider;
  };
  const keyringProvider = createKeyringKeyProvider({ keys: parseKeyring(V1), keyId: 'local' });

  // KMS_KEY_ID=key-a with the old keyring kept as a fallback that can still open.
  const toKms = createServices({
    config: app.config,
    pool: app.pool,
    logger: app.logs.logger,
    tokenKeys: createTokenKeys({ keyProvider: kmsProvider('key-a'), fallbackProviders: [keyringProvider] }),
  });
  t.match(await toKms.tokenRotation.rotate(), { resealed: 6, remaining: 0 });
  t.ok(
    (await keysOf(app)).every((row) => row.key_provider === 'kms' && row.key_version === kms.arnOf('key-a')),
  );
  const kmsOnly = createTokenVault({ keyProvider: kmsProvider('key-a') });
  t.same(
    (await openStoredTokens(app, kmsOnly)).map((row) => row.token),
    original.map((row) => row.token),
  );

  // KMS_KEY_ID=key-b: rows sealed under key-a are opened with the ARN they record, re-sealed under key-b.
  const toKeyB = createServices({
    config: app.config,
    pool: app.pool,
    logger: app.logs.logger,
    tokenKeys: createTokenKeys({ keyProvider: kmsProvider('key-b') }),
  });
  t.equal(await toKeyB.tokenRotation.pending(), 6);
  t.match(await toKeyB.tokenRotation.rotate({ batchSize: 4 }), { resealed: 6, batches: 2, remaining: 0 });
  t.ok((await keysOf(app)).every((row) => row.key_version === kms.arnOf('key-b')));
  t.same(
    (await openStoredTokens(app, createTokenVault({ keyProvider: kmsProvider('key-b') }))).map(
      (row) => row.token,
    ),
    original.map((row) => row.token),
  );
});

t.test('a config that lists the same key twice is refused before anything is touched', async (t) => {
  t.throws(
    () =>
      createTokenKeysFromConfig(
        loadConfig({ NODE_ENV: 'test', TOKEN_ENCRYPTION_KEYS: `${V1},${V1}` }).tokenEncryption,
      ),
    /duplicate version/,
  );
});
