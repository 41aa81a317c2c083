// `npm run tokens:rotate [-- --batch-size N] [-- --max-batches N]`
// Re-seals every stored WHOOP token that is not under the current key (TOKEN_ENCRYPTION_KEYS' first
// entry, or KMS_KEY_ID). Runs beside the live app; Ctrl-C stops after the current batch; re-run to resume.
import { parseArgs } from 'node:util';
import { openDatabase, openLogger, openTokenKeys, readConfig } from '../runtime.ts';
import { createDbPool } from '../services/db/pool.ts';
import { createServices } from '../services/index.ts';

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) {
    process.stderr.write(`--${name} must be a positive integer\n`);
    process.exit(2);
  }
  return parsed;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { 'batch-size': { type: 'string' }, 'max-batches': { type: 'string' } },
    strict: true,
  });
  const config = readConfig();
  const logger = openLogger(config);
  const database = await openDatabase(config, logger);
  const pool = await createDbPool(database.url, { maximumPoolSize: 2 });
  const tokenKeys = openTokenKeys(config, logger);
  const services = createServices({ config, pool, logger, tokenKeys });
  const stop = new AbortController();
  const onSignal = (signal: string) => {
    logger.warn({ signal }, 'token rotation: stopping after the current batch');
    stop.abort();
  };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  try {
    const result = await services.tokenRotation.rotate({
      batchSize: positiveInt('batch-size', values['batch-size'], 100),
      maxBatches: positiveInt('max-batches', values['max-batches'], Number.MAX_SAFE_INTEGER),
      signal: stop.signal,
    });
    if (result.remaining > 0) {
      logger.warn(
        { remaining: result.remaining },
        'token rotation: %d token(s) are still under an older key: run `npm run tokens:rotate` again',
        result.remaining,
      );
      return 3;
    }
    logger.info(
      { resealed: result.resealed, key: result.current },
      'token rotation: every token is sealed under the current key; older keys may now be retired',
    );
    return 0;
  } finally {
    services.close();
    await pool.end();
    await database.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    // TokenVaultError messages name rows and keys, never key bytes or tokens.
    process.stderr.write(
      `token rotation failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  },
);
