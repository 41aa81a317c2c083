import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { buildApp } from '../src/app.ts';
import { type Config, loadConfig } from '../src/config.ts';
import { createDbPool, type DatabasePool } from '../src/services/db/pool.ts';
import { createServices, type Services } from '../src/services/index.ts';
import { createLogger, type Logger } from '../src/services/logger.ts';
import type { TokenKeys } from '../src/services/token-keys.ts';
import { generateKeyringKey } from '../src/services/token-vault/index.ts';
import { TEMPLATE_DATABASE, withDatabase } from './support/database-urls.ts';

interface Teardown {
  teardown(fn: () => unknown): void;
}

function adminUrl(): string {
  const url = process.env.TEST_ADMIN_DATABASE_URL;
  if (!url) throw new Error('Run tests through `npm test` (it starts PostgreSQL and migrates the template).');
  return url;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh database cloned from the migrated template, dropped when the test ends. */
export async function createTestDatabase(
  t: Teardown,
): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = `test_${randomBytes(6).toString('hex')}`;
  await admin((client) => client.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DATABASE}`));
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    await admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  };
  t.teardown(drop);
  return { url: withDatabase(adminUrl(), name), name, drop };
}

/** Collects every log line written during a test, parsed as JSON. */
export function captureLogs(level = 'debug'): {
  logger: Logger;
  lines: () => Array<Record<string, unknown>>;
  text: () => string;
} {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const logger = createLogger({ level, pretty: false, destination });
  const text = () => chunks.join('');
  const lines = () =>
    text()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, text };
}

export function testConfig(env: Record<string, string | undefined> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    PUBLIC_BASE_URL: 'http://localhost:3000',
    ...env,
  });
}

export interface TestApp {
  app: FastifyInstance;
  pool: DatabasePool;
  services: Services;
  config: Config;
  databaseUrl: string;
  logs: ReturnType<typeof captureLogs>;
}

export interface BuildOptions {
  env?: Record<string, string | undefined>;
  databaseUrl?: string;
  /** Token keys other than the config's (without TOKEN_ENCRYPTION_KEYS/KMS_KEY_ID: a fresh keyring key). */
  tokenKeys?: TokenKeys;
  /** scrypt's N; default: a small one (the production strength is tested in auth-throttle.test.ts) */
  passwordCost?: number;
}

/** Sign-ups in tests hash at this scrypt N: production's strength would make the suites minutes slower. */
export const TEST_PASSWORD_COST = 2 ** 10;

/** An app on its own fresh database, closed when the test ends. */
export async function build(t: Teardown, options: BuildOptions = {}): Promise<TestApp> {
  const databaseUrl = options.databaseUrl ?? (await createTestDatabase(t)).url;
  const config = testConfig({ DATABASE_URL: databaseUrl, ...options.env });
  const logs = captureLogs();
  const pool = await createDbPool(databaseUrl, { maximumPoolSize: 5 });
  t.teardown(() => pool.end());
  const services = createServices({
    config,
    pool,
    logger: logs.logger,
    tokenKeys: options.tokenKeys,
    devKeyringSpec: generateKeyringKey('test'),
    passwordCost: options.passwordCost ?? TEST_PASSWORD_COST,
  });
  t.teardown(() => services.close());
  const app = await buildApp({
    config,
    services,
    logger: logs.logger,
    sessionSecret: randomBytes(32).toString('hex'),
    internalApiToken: config.internalApiToken,
  });
  t.teardown(() => app.close());
  await app.ready();
  return { app, pool, services, config, databaseUrl, logs };
}
