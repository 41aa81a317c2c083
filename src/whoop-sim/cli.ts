// Standalone WHOOP simulator for development: `npm run whoop-sim -- --port 4010 --days 90`.
// A dev tool, so (unlike the app) it reads its own environment variables.
import { parseArgs } from 'node:util';
import pino from 'pino';
import { startWhoopSimulator } from './index.ts';

const HELP = `Usage: node src/whoop-sim/cli.ts [options]

  --port <n>              port on 127.0.0.1 (WHOOP_SIM_PORT, default 4010; 0 = any free port)
  --client-id <id>        OAuth client id (WHOOP_SIM_CLIENT_ID, default whoop-sim-client)
  --client-secret <s>     OAuth client secret (WHOOP_SIM_CLIENT_SECRET, default sim_client_secret_123)
  --redirect-uri <url>    registered redirect URI, comma separated for several
                          (WHOOP_SIM_REDIRECT_URI, default http://localhost:3000/integrations/whoop/callback)
  --webhook-url <url>     where webhooks are POSTed (WHOOP_SIM_WEBHOOK_URL, default none)
  --days <n>              days of history of the demo member (WHOOP_SIM_DAYS, default 90)
  --timezone-offset <o>   demo member's offset, e.g. -05:00, +05:30, Z (WHOOP_SIM_TIMEZONE_OFFSET, default -05:00)
  --email <email>         demo member's email (WHOOP_SIM_MEMBER_EMAIL, default demo@example.test)
  --seed <n>              data seed (WHOOP_SIM_SEED, default 1)
  --auto-approve          skip the consent page and grant at once (WHOOP_SIM_AUTO_APPROVE=1)
  --verbose               log every request
  --help
`;

const env = process.env;
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: env.WHOOP_SIM_PORT ?? '4010' },
    'client-id': { type: 'string', default: env.WHOOP_SIM_CLIENT_ID ?? 'whoop-sim-client' },
    'client-secret': { type: 'string', default: env.WHOOP_SIM_CLIENT_SECRET ?? 'sim_client_secret_123' },
    'redirect-uri': {
      type: 'string',
      default: env.WHOOP_SIM_REDIRECT_URI ?? 'http://localhost:3000/integrations/whoop/callback',
    },
    'webhook-url': { type: 'string', default: env.WHOOP_SIM_WEBHOOK_URL },
    days: { type: 'string', default: env.WHOOP_SIM_DAYS ?? '90' },
    'timezone-offset': { type: 'string', default: env.WHOOP_SIM_TIMEZONE_OFFSET ?? '-05:00' },
    email: { type: 'string', default: env.WHOOP_SIM_MEMBER_EMAIL ?? 'demo@example.test' },
    seed: { type: 'string', default: env.WHOOP_SIM_SEED ?? '1' },
    'auto-approve': { type: 'boolean', default: env.WHOOP_SIM_AUTO_APPROVE === '1' },
    verbose: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const log = pino({ name: 'whoop-sim' });

function integer(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n)) {
    log.error(`--${name} must be an integer, got ${value}`);
    process.exit(2);
  }
  return n;
}

try {
  const sim = await startWhoopSimulator({
    port: integer('port', values.port),
    seed: integer('seed', values.seed),
    clients: [
      {
        clientId: values['client-id'],
        clientSecret: values['client-secret'],
        redirectUris: values['redirect-uri'].split(',').map((u) => u.trim()),
        webhookUrl: values['webhook-url'],
        name: 'Health Tracker (dev)',
      },
    ],
    // real time: the current cycle's strain rises and new nights arrive while it runs
    tickIntervalMs: 60_000,
    logger: values.verbose ? log : false,
    nodeEnv: env.NODE_ENV,
  });
  const member = sim.createMember({
    email: values.email,
    days: integer('days', values.days),
    timezoneOffset: values['timezone-offset'],
    inProgress: true,
  });
  if (values['auto-approve']) sim.setConsent({ autoApprove: 'grant' });
  log.info(
    {
      url: sim.url,
      oauthBaseUrl: sim.oauthBaseUrl,
      apiBaseUrl: sim.apiBaseUrl,
      controlUrl: sim.controlUrl,
      clientId: values['client-id'],
      redirectUris: values['redirect-uri'],
      member: { userId: member.userId, email: member.email, ...member.counts },
    },
    `WHOOP simulator listening on ${sim.url} (authorize: ${sim.oauthBaseUrl}/auth, API: ${sim.apiBaseUrl}, control: ${sim.controlUrl})`,
  );
  const stop = async (signal: string) => {
    log.info(`${signal}: stopping the WHOOP simulator`);
    await sim.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
} catch (err) {
  log.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
}
