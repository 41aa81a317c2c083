import { randomBytes } from 'node:crypto';
import t from 'tap';
import {
  createKeyringKeyProvider,
  createTokenVault,
  generateKeyringKey,
  parseKeyring,
  TokenVaultError,
} from '../../src/services/token-vault/index.ts';
import { assertNoPlaintext, fakeToken } from './helpers.ts';

const ctx = { connectionId: '7', kind: 'refresh' };

t.test('parseKeyring reads versioned keys, the first is current', async (t) => {
  const a = generateKeyringKey('2025b');
  const b = generateKeyringKey('2025a');
  const keys = parseKeyring(` ${a} , ${b}`);
  t.same(
    keys.map((k) => k.version),
    ['2025b', '2025a'],
  );
  t.equal(keys[0]?.key.length, 32);
  t.equal(keys[0]?.key.toString('base64'), a.split(':')[1]);
  t.match(generateKeyringKey(), /^\d{8}T\d{6}Z:[A-Za-z0-9+/]{43}=$/, 'default version is a UTC timestamp');
  t.throws(() => generateKeyringKey('bad version'), { code: 'invalid_keyring' });
});

t.test('parseKeyring refuses bad specs with clear errors that never echo key text', async (t) => {
  const good = randomBytes(32).toString('base64');
  const short = randomBytes(16).toString('base64');
  const cases: Array<[string, RegExp]> = [
    ['', /empty/],
    ['   ', /empty/],
    [good, /entry 1 is not version:base64key/],
    [`v1:${good},v1:${randomBytes(32).toString('base64')}`, /entry 2: duplicate version 'v1'/],
    [`v1:${short}`, /entry 1 \(version 'v1'\): key is 16 bytes, expected 32/],
    [`v1:${good}x`, /not valid base64/],
    [`v1:${good.replace(/[+/]/g, '-').slice(0, 40)}!!!!`, /not valid base64/],
    [`v1:${good},`, /entry 2 is not version:base64key/],
    [`:${good}`, /entry 1: version must match/],
    [`v 1:${good}`, /entry 1: version must match/],
  ];
  for (const [spec, message] of cases) {
    const err = t.throws(() => parseKeyring(spec), {
      name: 'TokenVaultError',
      code: 'invalid_keyring',
      message,
    });
    const text = String((err as Error | undefined)?.message);
    t.notOk(text.includes(good) || text.includes(short), `no key text in: ${text}`);
  }
});

t.test('createKeyringKeyProvider checks its keys', async (t) => {
  t.throws(() => createKeyringKeyProvider({ keys: [] }), { code: 'invalid_keyring' });
  t.throws(() => createKeyringKeyProvider({ keys: [{ version: 'v1', key: randomBytes(31) }] }), {
    code: 'invalid_keyring',
  });
  const key = randomBytes(32);
  t.throws(
    () =>
      createKeyringKeyProvider({
        keys: [
          { version: 'v1', key },
          { version: 'v1', key },
        ],
      }),
    { code: 'invalid_keyring' },
  );
});

t.test('rotation: a token sealed under the old version opens and needs a re-seal', async (t) => {
  const v1 = generateKeyringKey('v1');
  const v2 = generateKeyringKey('v2');
  const before = createTokenVault({ keyProvider: createKeyringKeyProvider({ keys: parseKeyring(v1) }) });
  const token = fakeToken('refresh');
  const old = await before.seal(token, ctx);
  t.equal(old.keyVersion, 'v1');
  assertNoPlaintext(t, old, token);

  const after = createTokenVault({
    keyProvider: createKeyringKeyProvider({ keys: parseKeyring(`${v2},${v1}`) }),
  });
  t.equal(after.needsReseal(old), true);
  t.equal(await after.open(old, ctx), token);
  const resealed = await after.seal(await after.open(old, ctx), ctx);
  t.equal(resealed.keyVersion, 'v2');
  t.equal(after.needsReseal(resealed), false);

  const v2Only = createTokenVault({ keyProvider: createKeyringKeyProvider({ keys: parseKeyring(v2) }) });
  t.equal(await v2Only.open(resealed, ctx), token, 'v1 can be dropped once everything is re-sealed');
  const err = await v2Only.open(old, ctx).catch((e: unknown) => e);
  t.ok(err instanceof TokenVaultError);
  t.match(err, { code: 'unknown_key', message: /version 'v1' is not in TOKEN_ENCRYPTION_KEYS/ });
});

t.test('a keyring with another key id does not open foreign rows', async (t) => {
  const spec = generateKeyringKey('v1');
  const a = createTokenVault({
    keyProvider: createKeyringKeyProvider({ keys: parseKeyring(spec), keyId: 'a' }),
  });
  const b = createTokenVault({
    keyProvider: createKeyringKeyProvider({ keys: parseKeyring(spec), keyId: 'b' }),
  });
  const sealed = await a.seal('x', ctx);
  t.equal(b.needsReseal(sealed), true);
  await t.rejects(b.open(sealed, ctx), { code: 'unknown_key' });
});
