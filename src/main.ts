import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Runner } from 'graphile-worker';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import { WHOOP_WEBHOOK_PATH } from './routes/webhooks.ts';
import { openDatabase, openLogger, openTokenKeys, readConfig } from './runtime.ts';
import { runMigrations } from './services/db/migrate.ts';
import { createDbPool } from './services/db/pool.ts';
import { loadOrCreateDevSecrets } from './services/dev-secrets.ts';
import { createServices } from './services/index.ts';
import type { Logger } from './services/logger.ts';
import type { WhoopSettings } from './services/whoop/settings.ts';
import { startWorker } from './worker.ts';
import { startWorkerMetricsServer } from './worker-metrics-server.ts';

type Mode = 'all' | 'web' | 'worker' | 'migrate';
const modes: readonly Mode[] = ['all', 'web', 'worker', 'migrate'];

// Demo mode only: fixed credentials of the local simulator's client, shared by web and worker processes.
const DEMO_CLIENT_ID = 'health-tracker-demo';
const DEMO_CLIENT_SECRET = 'whoop-simulator-demo-secret';

interface WhoopRuntime {
  /** undefined: the services take the WHOOP settings from the config (live mode, or off) */
  settings: WhoopSettings | undefined;
  close: () => Promise<void>;
}

/**
 * Demo mode: outside production and without WHOOP credentials, the built-in simulator runs in this
 * process on WHOOP_SIMULATOR_PORT with a demo member, and the effective WHOOP settings point at it.
 * The config stays as loaded; the simulator module is imported only here (it is not in the production image).
 */
async function startWhoop(config: Config, logger: Logger, mode: Mode): Promise<WhoopRuntime> {
  if (config.whoop.mode !== 'simulator') return { settings: undefined, close: async () => {} };
  if (config.isProduction) throw new Error('the WHOOP simulator never runs in production');
  const local = `http://127.0.0.1:${config.whoop.simulatorPort}`;
  const settings: WhoopSettings = {
    clientId: DEMO_CLIENT_ID,
    clientSecret: DEMO_CLIENT_SECRET,
    redirectUri: config.whoop.redirectUri,
    oauthBaseUrl: `${local}/oauth/oauth2`,
    apiBaseUrl: `${local}/developer`,
  };
  // A worker started on its own talks to the simulator of the web process.
  if (mode === 'worker') return { settings, close: async () => {} };
  const { startWhoopSimulator } = await import('./whoop-sim/index.ts');
  const simulator = await startWhoopSimulator({
    host: '127.0.0.1',
    port: config.whoop.simulatorPort,
    nodeEnv: config.env,
    clients: [
      {
        clientId: DEMO_CLIENT_ID,
        clientSecret: DEMO_CLIENT_SECRET,
        redirectUris: [config.whoop.redirectUri],
        name: 'Health Tracker (demo)',
        // As registered in WHOOP's developer dashboard: changes reach the app within seconds.
        webhookUrl: new URL(WHOOP_WEBHOOK_PATH, config.publicBaseUrl).toString(),
      },
    ],
  });
  const member = simulator.createMember({ firstName: 'Demo', lastName: 'Member', days: 90 });
  logger.info(
    { whoopSimulatorUrl: simulator.url, demoMemberId: member.userId },
    'WHOOP simulator in use at %s (no WHOOP credentials configured): demo member "%s %s" with 90 days of history',
    simulator.url,
    member.firstName,
    member.lastName,
  );
  return {
    settings: { ...settings, oauthBaseUrl: simulator.oauthBaseUrl, apiBaseUrl: simulator.apiBaseUrl },
    close: () => simulator.close(),
  };
}

async function main(mode: Mode): Promise<void> {
  const config = readConfig();
  const logger = openLogger(config);
  const devSecrets = config.isProduction ? undefined : loadOrCreateDevSecrets(config.dataDir);
  const sessionSecret = config.sessionSecret ?? devSecrets?.sessionSecret;
  if (!sessionSecret) throw new Error('SESSION_SECRET is required');
  const internalApiToken = config.internalApiToken ?? devSecrets?.internalApiToken;

  const database = await openDatabase(config, logger);
  const applied = await runMigrations(database.url);
  if (applied.length > 0) logger.info({ migrations: applied }, 'applied database migrations');
  if (mode === 'migrate') {
    await database.stop();
    return;
  }

  const whoop = await startWhoop(config, logger, mode);
  const tokenKeys = config.whoop.enabled ? openTokenKeys(config, logger) : undefined;
  const pool = await createDbPool(database.url);
  const services = createServices({ config, pool, logger, whoop: whoop.settings, tokenKeys });
  let app: FastifyInstance | undefined;
  let worker: Runner | undefined;
  let workerMetrics: Server | undefined;

  if (mode === 'all' || mode === 'worker') {
    worker = await startWorker({ databaseUrl: database.url, services, logger });
    logger.info('worker started');
  }
  if (mode === 'worker') {
    workerMetrics = await startWorkerMetricsServer({
      metrics: services.metrics,
      host: config.host,
      port: config.workerMetricsPort,
      token: config.metricsToken,
    });
    logger.info({ port: config.workerMetricsPort }, 'worker metrics on /metrics');
  }
  if (mode === 'all' || mode === 'web') {
    app = await buildApp({ config, services, logger, sessionSecret, internalApiToken });
    await app.listen({ host: config.host, port: config.port });
    // The listening address above may be another name for this server (127.0.0.1): people must use this one.
    logger.info(
      { publicBaseUrl: config.publicBaseUrl },
      'Open %s in your browser (PUBLIC_BASE_URL; pages asked for on another address redirect there)',
      config.publicBaseUrl,
    );
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // Stop taking work first, then let in-flight requests and jobs finish, then close the database.
    await app?.close();
    workerMetrics?.close();
    await worker?.stop();
    await whoop.close();
    services.close();
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
