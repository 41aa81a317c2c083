// A worker process on its own, configured from the environment like `npm run start:worker`: the
// crash test SIGKILLs it mid-sync.
import { loadConfig } from '../../../src/config.ts';
import { createDbPool } from '../../../src/services/db/pool.ts';
import { createServices } from '../../../src/services/index.ts';
import { createLogger } from '../../../src/services/logger.ts';
import { startWorker } from '../../../src/worker.ts';

const config = loadConfig(process.env);
const databaseUrl = config.database.url;
if (!databaseUrl) throw new Error('DATABASE_URL is required');
const logger = createLogger({ level: config.logLevel, pretty: false });
const pool = await createDbPool(databaseUrl);
const services = createServices({ config, pool, logger });
await startWorker({ databaseUrl, services, logger, concurrency: 1 });
process.stdout.write('worker ready\n');
