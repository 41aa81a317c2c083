import { DecryptCommand, EncryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import t from 'tap';
import {
  createKeyringKeyProvider,
  createKmsKeyProvider,
  createTokenVault,
  generateKeyringKey,
  parseKeyring,
  TokenVaultError,
} from '../../src/services/token-vault/index.ts';
import { startLocalKms } from '../support/kms-server.ts';
import { assertNoPlaintext, fakeToken, recordingProvider } from './helpers.ts';

const credentials = { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-secret' };
const ctx = { connectionId: '42', kind: 'access' };

const kms = await startLocalKms({ keys: ['token-key', 'other-key'] });
t.teardown(() => kms.close());

function provider(keyId = 'token-key') {
  const p = createKmsKeyProvider({ keyId, region: 'us-east-1', endpoint: kms.endpoint, credentials });
  t.teardown(() => p.destroy());
  return p;
}

t.test('seal and open through the real SDK: GenerateDataKey then Decrypt, with the context', async (t) => {
  const rec = recordingProvider(provider());
  const vault = createTokenVault({ keyProvider: rec.provider });
  const token = fakeToken('access');
  const from = kms.calls.length;

  t.equal(rec.provider.current().keyVersion, '', 'no ARN known before the first call');
  const sealed = await vault.seal(token, ctx);
  t.match(sealed, { keyProvider: 'kms', keyId: 'token-key', keyVersion: kms.arnOf('token-key') });
  t.equal(rec.provider.current().keyVersion, kms.arnOf('token-key'));
  t.equal(vault.needsReseal(sealed), false);
  assertNoPlaintext(t, sealed, token);
  t.ok(
    rec.issued[0]?.buffer.every((b) => b === 0),
    'data key zeroed after seal',
  );

  t.equal(await vault.open(sealed, ctx), token);
  t.ok(
    rec.unwrapped[0]?.every((b) => b === 0),
    'data key zeroed after open',
  );

  const binding = { purpose: 'integration-token', connection_id: '42', kind: 'access' };
  t.same(kms.calls.slice(from), [
    { target: 'GenerateDataKey', keyId: 'token-key', encryptionContext: binding },
    { target: 'Decrypt', keyId: kms.arnOf('token-key'), encryptionContext: binding },
  ]);
});

t.test('each seal asks KMS for a new data key', async (t) => {
  const vault = createTokenVault({ keyProvider: provider() });
  const a = await vault.seal('same', ctx);
  const b = await vault.seal('same', ctx);
  t.notSame(a.wrappedKey, b.wrappedKey);
  t.notSame(a.iv, b.iv);
});

t.test('KMS refuses to unwrap under another connection or kind', async (t) => {
  const vault = createTokenVault({ keyProvider: provider() });
  const token = fakeToken();
  const sealed = await vault.seal(token, ctx);
  for (const other of [
    { connectionId: '43', kind: 'access' },
    { connectionId: '42', kind: 'refresh' },
  ]) {
    const from = kms.calls.length;
    const err = await vault.open(sealed, other).catch((e: unknown) => e);
    t.ok(err instanceof TokenVaultError);
    t.match(err, { code: 'open_failed', message: /InvalidCiphertextException/ });
    t.notMatch(String((err as Error).stack), token);
    t.same(
      kms.calls
        .slice(from)
        .map((c) => [c.target, c.encryptionContext.connection_id, c.encryptionContext.kind]),
      [['Decrypt', other.connectionId, other.kind]],
      'the refusal came from KMS',
    );
  }
  const tag = Buffer.from(sealed.authTag);
  tag[0] = (tag[0] ?? 0) ^ 1;
  await t.rejects(vault.open({ ...sealed, authTag: tag }, ctx), { code: 'open_failed' }, 'tampered tag');
});

t.test('the local KMS enforces the encryption context for any SDK caller', async (t) => {
  const client = new KMSClient({ region: 'us-east-1', endpoint: kms.endpoint, credentials });
  t.teardown(() => client.destroy());
  const EncryptionContext = { purpose: 'test' };
  const enc = await client.send(
    new EncryptCommand({ KeyId: 'other-key', Plaintext: Buffer.from('hello'), EncryptionContext }),
  );
  t.equal(enc.KeyId, kms.arnOf('other-key'));
  const dec = await client.send(
    new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext }),
  );
  t.equal(Buffer.from(dec.Plaintext ?? []).toString(), 'hello');
  await t.rejects(client.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })), {
    name: 'InvalidCiphertextException',
  });
  await t.rejects(
    client.send(
      new DecryptCommand({ KeyId: 'token-key', CiphertextBlob: enc.CiphertextBlob, EncryptionContext }),
    ),
    { name: 'IncorrectKeyException' },
  );
  await t.rejects(client.send(new GenerateDataKeyCommand({ KeyId: 'missing', KeySpec: 'AES_256' })), {
    name: 'NotFoundException',
  });
});

t.test('an unknown key is a clear unknown_key error', async (t) => {
  const vault = createTokenVault({ keyProvider: provider('no-such-key') });
  await t.rejects(vault.seal('x', ctx), {
    name: 'TokenVaultError',
    code: 'unknown_key',
    message: /NotFoundException/,
  });
});

t.test('migrating from the keyring to KMS: old rows open, need a re-seal, new rows use KMS', async (t) => {
  const keyring = createKeyringKeyProvider({ keys: parseKeyring(generateKeyringKey('v1')) });
  const token = fakeToken();
  const legacy = await createTokenVault({ keyProvider: keyring }).seal(token, ctx);
  const vault = createTokenVault({ keyProvider: provider(), fallbackProviders: [keyring] });
  t.equal(await vault.open(legacy, ctx), token);
  t.equal(vault.needsReseal(legacy), true);
  const resealed = await vault.seal(token, ctx);
  t.equal(resealed.keyProvider, 'kms');
  t.equal(vault.needsReseal(resealed), false);
  t.equal(await vault.open(resealed, ctx), token);
});

t.test('a row sealed under another KMS key still opens and needs a re-seal', async (t) => {
  const token = fakeToken();
  const old = await createTokenVault({ keyProvider: provider('other-key') }).seal(token, ctx);
  const vault = createTokenVault({ keyProvider: provider('token-key') });
  t.equal(vault.needsReseal(old), true);
  t.equal(await vault.open(old, ctx), token, 'Decrypt is pinned to the ARN recorded on the row');
});

t.test('resolveCurrent learns the key ARN up front, so rotation can trust needsReseal', async (t) => {
  const old = await createTokenVault({ keyProvider: provider('other-key') }).seal('x', ctx);
  // The configured id is unchanged but now names another key (as when an alias is re-pointed).
  const repointed = { ...old, keyId: 'token-key' };
  const p = provider('token-key');
  const vault = createTokenVault({ keyProvider: p });
  t.equal(vault.needsReseal(repointed), false, 'without the ARN only the key id can be compared');
  t.same(await p.resolveCurrent(), { keyId: 'token-key', keyVersion: kms.arnOf('token-key') });
  t.equal(vault.needsReseal(repointed), true);
  await t.rejects(provider('missing').resolveCurrent(), { code: 'unknown_key' });
});
