import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Runner } from 'graphile-worker';
import { buildApp } from './app.ts';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { startEmbeddedPostgres } from './services/db/embedded.ts';
import { runMigrations } from './services/db/migrate.ts';
import { createDbPool } from './services/db/pool.ts';
import { loadOrCreateDevSecrets } from './services/dev-secrets.ts';
import { createServices } from './services/index.ts';
import { createLogger, type Logger } from './services/logger.ts';
import { startWorker } from './worker.ts';

type Mode = 'all' | 'web' | 'worker' | 'migrate';
const modes: readonly Mode[] = ['all', 'web', 'worker', 'migrate'];

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // Printed plainly (not as JSON) so a person starting the process sees every problem at once.
    process.stderr.write(`${error.message}\n\nSee README.md "Configuration" for every variable.\n`);
    process.exit(1);
  }
}

async function openDatabase(
  config: Config,
  logger: Logger,
): Promise<{ url: string; stop: () => Promise<void> }> {
  if (config.database.url) return { url: config.database.url, stop: async () => {} };
  const embedded = await startEmbeddedPostgres({
    dataDir: path.join(config.dataDir, 'postgres'),
    port: config.database.embeddedPort,
    log: (message) => logger.info(message),
  });
  logger.info(
    { port: config.database.embeddedPort },
    'using the embedded PostgreSQL under %s',
    config.dataDir,
  );
  return embedded;
}

async function main(mode: Mode): Promise<void> {
  const config = readConfig();
  const logger = createLogger({
    level: config.logLevel,
    pretty: !config.isProduction && process.stdout.isTTY,
  });
  const devSecrets = config.isProduction ? undefined : loadOrCreateDevSecrets(config.dataDir);
  const sessionSecret = config.sessionSecret ?? devSecrets?.sessionSecret;
  if (!sessionSecret) throw new Error('SESSION_SECRET is required');

  const database = await openDatabase(config, logger);
  const applied = await runMigrations(database.url);
  if (applied.length > 0) logger.info({ migrations: applied }, 'applied database migrations');
  if (mode === 'migrate') {
    await database.stop();
    return;
  }

  const pool = await createDbPool(database.url);
  const services = createServices({ config, pool, logger });
  let app: FastifyInstance | undefined;
  let worker: Runner | undefined;

  if (mode === 'all' || mode === 'worker') {
    worker = await startWorker({ databaseUrl: database.url, services, logger });
    logger.info('worker started');
  }
  if (mode === 'all' || mode === 'web') {
    app = await buildApp({ config, services, logger, sessionSecret });
    await app.listen({ host: config.host, port: config.port });
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // Stop taking work first, then let in-flight requests and jobs finish, then close the database.
    await app?.close();
    await worker?.stop();
    await pool.end();
    await database.stop();
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

const requested = (process.argv[2] ?? 'all') as Mode;
if (!modes.includes(requested)) {
  process.stderr.write(`Unknown mode "${requested}". Use one of: ${modes.join(', ')}\n`);
  process.exit(2);
}
main(requested).catch((error: unknown) => {
  process.stderr.write(`Fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
