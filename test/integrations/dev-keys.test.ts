import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { loadConfig } from '../../src/config.ts';
import { openTokenKeys } from '../../src/runtime.ts';
import { captureLogs } from '../helper.ts';

function tempDir(t: { teardown(fn: () => unknown): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'health-dev-keys-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const ctx = { connectionId: '1', kind: 'access' };

t.test(
  'in development without key configuration, a key is generated once under the data dir, with a warning',
  async (t) => {
    const dataDir = tempDir(t);
    const config = loadConfig({ NODE_ENV: 'development', DATA_DIR: dataDir });
    const first = captureLogs('info');
    const keys = openTokenKeys(config, first.logger);
    const warning = first.lines().find((line) => line.level === 40);
    t.match(
      String(warning?.msg),
      /development key kept in .*dev-token-keys \(never use this in production\)/,
    );
    const file = path.join(dataDir, 'dev-token-keys');
    t.equal(statSync(file).mode & 0o777, 0o600, 'readable by its owner only');
    const sealed = await keys.vault.seal('a token', ctx);
    t.match(sealed, { keyProvider: 'keyring', keyId: 'local' });

    const again = openTokenKeys(config, captureLogs('info').logger);
    t.equal(await again.vault.open(sealed, ctx), 'a token', 'the next start opens what the last one sealed');
  },
);

t.test('with TOKEN_ENCRYPTION_KEYS, no development key is made', async (t) => {
  const dataDir = tempDir(t);
  const config = loadConfig({
    NODE_ENV: 'development',
    DATA_DIR: dataDir,
    TOKEN_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
  });
  const logs = captureLogs('info');
  const keys = openTokenKeys(config, logs.logger);
  t.match(await keys.vault.seal('x', ctx), { keyVersion: 'k1' });
  t.same(
    logs.lines().filter((line) => Number(line.level) >= 40),
    [],
  );
  t.throws(() => statSync(path.join(dataDir, 'dev-token-keys')));
});

t.test('production never generates a key', async (t) => {
  const dataDir = tempDir(t);
  const config = loadConfig({
    NODE_ENV: 'production',
    DATA_DIR: dataDir,
    DATABASE_URL: 'postgres://x@localhost/x',
    SESSION_SECRET: 'x'.repeat(32),
    INTERNAL_API_TOKEN: 'y'.repeat(32),
    PUBLIC_BASE_URL: 'https://health.example.com',
    METRICS_TOKEN: 'm'.repeat(32),
    FEATURE_WHOOP_INTEGRATION: 'false',
  });
  const keys = openTokenKeys(config, captureLogs('info').logger);
  await t.rejects(keys.vault.seal('x', ctx), /no token key provider is configured/);
  t.throws(() => statSync(path.join(dataDir, 'dev-token-keys')));
});
