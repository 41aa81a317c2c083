import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const devSecretsFile = z.object({ sessionSecret: z.string().min(32), internalApiToken: z.string().min(32) });
export type DevSecrets = z.infer<typeof devSecretsFile>;

// Outside production, missing secrets are generated once and kept under the data dir so sessions survive restarts.
export function loadOrCreateDevSecrets(dataDir: string): DevSecrets {
  const file = path.join(dataDir, 'dev-secrets.json');
  if (existsSync(file)) {
    const parsed = devSecretsFile.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (parsed.success) return parsed.data;
  }
  const secrets = {
    sessionSecret: randomBytes(48).toString('base64url'),
    internalApiToken: randomBytes(48).toString('base64url'),
  };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

/**
 * Outside production, without TOKEN_ENCRYPTION_KEYS or KMS_KEY_ID: a keyring key generated once and
 * kept under the data dir (mode 0600), so tokens sealed in one run open in the next. The entry can be
 * moved into TOKEN_ENCRYPTION_KEYS later (as an older version) and rotated away with `npm run tokens:rotate`.
 */
export function loadOrCreateDevKeyring(
  dataDir: string,
  generate: () => string,
): { spec: string; file: string; created: boolean } {
  const file = path.join(dataDir, 'dev-token-keys');
  if (existsSync(file)) {
    const spec = readFileSync(file, 'utf8').trim();
    if (spec) return { spec, file, created: false };
  }
  const spec = generate();
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${spec}\n`, { mode: 0o600 });
  return { spec, file, created: true };
}
