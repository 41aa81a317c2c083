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
