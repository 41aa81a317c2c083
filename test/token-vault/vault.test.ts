import t from 'tap';
import {
  createKeyringKeyProvider,
  createTokenVault,
  generateKeyringKey,
  parseKeyring,
  type SealedSecret,
  TokenVaultError,
} from '../../src/services/token-vault/index.ts';
import { assertNoPlaintext, fakeToken, recordingProvider } from './helpers.ts';

const keyring = () => createKeyringKeyProvider({ keys: parseKeyring(generateKeyringKey('v1')) });
const ctx = { connectionId: '42', kind: 'access' };

function tampered(sealed: SealedSecret, field: 'ciphertext' | 'authTag' | 'iv' | 'wrappedKey'): SealedSecret {
  const copy = Buffer.from(sealed[field]);
  copy[copy.length - 1] = (copy[copy.length - 1] ?? 0) ^ 0x01;
  return { ...sealed, [field]: copy };
}

t.test('seal then open returns the token; the row records provider, key and version', async (t) => {
  const vault = createTokenVault({ keyProvider: keyring() });
  const token = fakeToken();
  const sealed = await vault.seal(token, ctx);
  t.equal(await vault.open(sealed, ctx), token);
  t.match(sealed, { keyProvider: 'keyring', keyId: 'local', keyVersion: 'v1' });
  t.equal(sealed.iv.length, 12);
  t.equal(sealed.authTag.length, 16);
  t.equal(vault.needsReseal(sealed), false);
  assertNoPlaintext(t, sealed, token);
  const unicode = 'tøken ✓ 🎫';
  t.equal(await vault.open(await vault.seal(unicode, ctx), ctx), unicode);
  t.equal(await vault.open(await vault.seal('', ctx), ctx), '');
});

t.test('each seal uses a fresh data key and IV, and data keys are zeroed after use', async (t) => {
  const rec = recordingProvider(keyring());
  const vault = createTokenVault({ keyProvider: rec.provider });
  const token = fakeToken();
  const a = await vault.seal(token, ctx);
  const b = await vault.seal(token, ctx);
  t.equal(rec.issued.length, 2);
  t.notSame(rec.issued[0]?.copy, rec.issued[1]?.copy, 'different data keys');
  t.notSame(a.iv, b.iv, 'different IVs');
  t.notSame(a.wrappedKey, b.wrappedKey);
  t.notSame(a.ciphertext, b.ciphertext);
  for (const { buffer } of rec.issued)
    t.ok(
      buffer.every((byte) => byte === 0),
      'seal zeroed its data key',
    );
  await vault.open(a, ctx);
  t.ok(
    rec.unwrapped[0]?.every((byte) => byte === 0),
    'open zeroed its data key',
  );
  await t.rejects(vault.open(a, { ...ctx, kind: 'refresh' }));
  t.ok(
    rec.unwrapped.every((k) => k.every((byte) => byte === 0)),
    'a failed open zeroes it too',
  );
});

t.test('a ciphertext is bound to its connection and kind', async (t) => {
  const vault = createTokenVault({ keyProvider: keyring() });
  const token = fakeToken();
  const sealed = await vault.seal(token, ctx);
  for (const other of [
    { connectionId: '43', kind: 'access' },
    { connectionId: '42', kind: 'refresh' },
    { connectionId: '4', kind: '2access' },
  ]) {
    const err = await vault.open(sealed, other).catch((e: unknown) => e);
    t.ok(err instanceof TokenVaultError, `refused for ${JSON.stringify(other)}`);
    t.equal((err as TokenVaultError).code, 'open_failed');
    t.notMatch(String((err as Error).stack), token, 'error carries no plaintext');
  }
  // Swapping in another row's data key still fails: the wrapped key is bound too.
  const neighbour = await vault.seal(token, { connectionId: '43', kind: 'access' });
  await t.rejects(vault.open({ ...sealed, wrappedKey: neighbour.wrappedKey }, ctx), { code: 'open_failed' });
});

t.test('tampering with any part of the row fails to open', async (t) => {
  const vault = createTokenVault({ keyProvider: keyring() });
  const sealed = await vault.seal(fakeToken(), ctx);
  for (const field of ['ciphertext', 'authTag', 'iv', 'wrappedKey'] as const) {
    await t.rejects(
      vault.open(tampered(sealed, field), ctx),
      { name: 'TokenVaultError', code: 'open_failed' },
      field,
    );
  }
  await t.rejects(vault.open({ ...sealed, authTag: sealed.authTag.subarray(0, 12) }, ctx), {
    code: 'invalid_input',
  });
  await t.rejects(vault.open({ ...sealed, keyVersion: 'v9' }, ctx), { code: 'unknown_key' });
});

t.test('open picks the provider recorded on the row', async (t) => {
  const oldKeyring = keyring();
  const sealedByOld = await createTokenVault({ keyProvider: oldKeyring }).seal('legacy', ctx);
  const newKeyring = createKeyringKeyProvider({
    keys: parseKeyring(generateKeyringKey('n1')),
    keyId: 'other',
  });
  const stranded = createTokenVault({ keyProvider: newKeyring });
  await t.rejects(stranded.open(sealedByOld, ctx), { code: 'unknown_key' });

  const kmsLike = { ...recordingProvider(newKeyring).provider, name: 'kms' as const };
  const noFallback = createTokenVault({ keyProvider: kmsLike });
  await t.rejects(noFallback.open(sealedByOld, ctx), {
    code: 'no_provider',
    message: /'keyring'.*not configured/,
  });

  const migrating = createTokenVault({ keyProvider: kmsLike, fallbackProviders: [newKeyring, oldKeyring] });
  t.equal(await migrating.open(sealedByOld, ctx), 'legacy', 'the keyring matching the row key id opens it');
  t.equal(migrating.needsReseal(sealedByOld), true);
  const resealed = await migrating.seal('legacy', ctx);
  t.equal(resealed.keyProvider, 'kms', 'fallbacks never seal');
  t.equal(migrating.needsReseal(resealed), false);
});

t.test('bad input is refused with typed errors', async (t) => {
  const vault = createTokenVault({ keyProvider: keyring() });
  await t.rejects(vault.seal('x', { connectionId: '', kind: 'access' }), { code: 'invalid_input' });
  await t.rejects(vault.seal('x', { connectionId: '1', kind: '' }), { code: 'invalid_input' });
  await t.rejects(vault.seal(42 as unknown as string, ctx), { code: 'invalid_input' });
});
