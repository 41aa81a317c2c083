import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';

// The only module that reads process.env: everything else receives the frozen Config.

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
  .transform((value) => ['true', '1', 'yes', 'on'].includes(value));

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

const httpUrl = z
  .string()
  .url()
  .refine((value) => /^https?:\/\//.test(value), 'must start with http:// or https://')
  .transform((value) => value.replace(/\/+$/, ''));

const optionalHttpUrl = optionalText.pipe(httpUrl.optional());

/** Where WHOOP sends the browser back; WHOOP_REDIRECT_URI must be this path on PUBLIC_BASE_URL. */
export const WHOOP_CALLBACK_PATH = '/integrations/whoop/callback';

// As Fastify's trustProxy takes it, minus `true`, which would believe any client's X-Forwarded-For:
// a number of proxy hops in front of the app, or the proxies' addresses / CIDR ranges.
const trustProxySetting = optionalText.pipe(
  z
    .string()
    .transform((value, context): false | number | string[] => {
      const text = value.toLowerCase();
      if (['false', '0', 'no', 'off'].includes(text)) return false;
      if (['true', 'yes', 'on'].includes(text)) {
        context.addIssue({
          code: 'custom',
          message:
            '"true" would trust any client\'s X-Forwarded-For; give the number of proxies in front of the app (e.g. 1) or their addresses (e.g. 10.0.0.5,10.0.1.0/24)',
        });
        return z.NEVER;
      }
      if (/^\d+$/.test(text)) return Number(text);
      const addresses = value.split(',').map((part) => part.trim());
      if (
        addresses.every(
          (part) =>
            /^[0-9a-f.:]+(\/\d{1,3})?$/i.test(part) ||
            part === 'loopback' ||
            part === 'linklocal' ||
            part === 'uniquelocal',
        )
      ) {
        return addresses;
      }
      context.addIssue({
        code: 'custom',
        message: 'must be a number of hops or a comma-separated list of addresses',
      });
      return z.NEVER;
    })
    .optional(),
);

function isCronExpression(value: string): boolean {
  try {
    CronExpressionParser.parse(value, { tz: 'UTC' });
    return true;
  } catch {
    return false;
  }
}

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  PUBLIC_BASE_URL: optionalHttpUrl,
  DATABASE_URL: optionalText.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
      .optional(),
  ),
  DATA_DIR: z.string().min(1).default('.data'),
  EMBEDDED_POSTGRES_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
  SESSION_SECRET: optionalText.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  INTERNAL_API_TOKEN: optionalText.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  LOG_LEVEL: z.enum(logLevels).default('info'),
  TRUST_PROXY: trustProxySetting,
  INSECURE_ALLOW_PLAIN_HTTP: optionalText.pipe(booleanFlag.optional()),
  METRICS_TOKEN: optionalText.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  FEATURE_WHOOP_INTEGRATION: optionalText.pipe(booleanFlag.optional()),
  WHOOP_CLIENT_ID: optionalText,
  WHOOP_CLIENT_SECRET: optionalText,
  WHOOP_REDIRECT_URI: optionalHttpUrl,
  WHOOP_OAUTH_BASE_URL: httpUrl.default('https://api.prod.whoop.com/oauth/oauth2'),
  WHOOP_API_BASE_URL: httpUrl.default('https://api.prod.whoop.com/developer'),
  WHOOP_SIMULATOR_PORT: z.coerce.number().int().min(0).max(65535).default(3900),
  WHOOP_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(100),
  WHOOP_RATE_LIMIT_PER_DAY: z.coerce.number().int().min(1).default(10_000),
  WHOOP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(15_000),
  WHOOP_BACKFILL_DAYS: z.coerce.number().int().min(1).max(3650).default(365),
  SYNC_LOOKBACK_DAYS: z.coerce.number().int().min(0).max(60).default(3),
  WHOOP_WEBHOOK_SILENCE_HOURS: z.coerce
    .number()
    .min(1)
    .max(24 * 14)
    .default(24),
  SYNC_NOW_COOLDOWN_SECONDS: z.coerce.number().int().min(0).max(86_400).default(120),
  SYNC_SCHEDULE: z
    .string()
    .trim()
    .min(1)
    .default('0 6,18 * * *')
    .refine(isCronExpression, 'must be a cron expression'),
  SYNC_TIMEZONE: z.string().trim().min(1).default('UTC').refine(isTimeZone, 'must be an IANA time zone'),
  TOKEN_ENCRYPTION_KEYS: optionalText,
  KMS_KEY_ID: optionalText,
  KMS_ENDPOINT: optionalHttpUrl,
  AWS_REGION: optionalText,
  BUILD_COMMIT: optionalText,
});

type Env = z.infer<typeof envSchema>;

export type WhoopMode = 'off' | 'live' | 'simulator';

export interface Config {
  readonly env: 'development' | 'test' | 'production';
  readonly isProduction: boolean;
  readonly host: string;
  readonly port: number;
  readonly publicBaseUrl: string;
  readonly logLevel: (typeof logLevels)[number];
  readonly dataDir: string;
  readonly database: { readonly url: string | undefined; readonly embeddedPort: number };
  readonly sessionSecret: string | undefined;
  readonly internalApiToken: string | undefined;
  readonly cookieSecure: boolean;
  /** Fastify's trustProxy: false, a hop count, or the proxies' addresses */
  readonly trustProxy: false | number | readonly string[];
  readonly metricsToken: string | undefined;
  readonly workerMetricsPort: number;
  readonly whoop: {
    readonly enabled: boolean;
    readonly mode: WhoopMode;
    readonly clientId: string | undefined;
    readonly clientSecret: string | undefined;
    readonly redirectUri: string;
    readonly oauthBaseUrl: string;
    readonly apiBaseUrl: string;
    readonly simulatorPort: number;
  };
  readonly sync: {
    /** cron expression (SYNC_SCHEDULE) evaluated in `timeZone` (SYNC_TIMEZONE) */
    readonly schedule: string;
    readonly timeZone: string;
    /** how far back the first sync of a connection reaches */
    readonly backfillDays: number;
    /** later syncs start this far before each domain's watermark (rescored and growing records) */
    readonly lookbackDays: number;
    /** app-wide WHOOP request budget shared by every process */
    readonly rateLimitPerMinute: number;
    readonly rateLimitPerDay: number;
    readonly requestTimeoutMs: number;
    /** Sync now starts a new run at most once per connection per this period (pressing again joins) */
    readonly manualCooldownMs: number;
    /** no webhook for this long: scheduled syncs read every collection again (WHOOP_WEBHOOK_SILENCE_HOURS) */
    readonly webhookSilenceMs: number;
  };
  /** the commit the running build was made from (BUILD_COMMIT, set by the image build), for build_info */
  readonly buildCommit: string | undefined;
  readonly tokenEncryption: {
    readonly keyringSpec: string | undefined;
    readonly kmsKeyId: string | undefined;
    readonly kmsEndpoint: string | undefined;
    readonly awsRegion: string | undefined;
  };
}

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const hints: Record<string, string> = {
  DATABASE_URL: 'PostgreSQL connection string, e.g. postgres://user:pass@db:5432/health',
  SESSION_SECRET: 'random string of at least 32 characters: openssl rand -base64 48',
  INTERNAL_API_TOKEN: 'random string of at least 32 characters: openssl rand -base64 48',
  PUBLIC_BASE_URL: 'the URL people use to reach the app, e.g. https://health.example.com',
  WHOOP_CLIENT_ID: 'from the WHOOP developer dashboard (or set FEATURE_WHOOP_INTEGRATION=false)',
  WHOOP_CLIENT_SECRET: 'from the WHOOP developer dashboard (or set FEATURE_WHOOP_INTEGRATION=false)',
  WHOOP_REDIRECT_URI: 'registered redirect, e.g. https://health.example.com/integrations/whoop/callback',
  TOKEN_ENCRYPTION_KEYS: 'set KMS_KEY_ID (AWS KMS) or TOKEN_ENCRYPTION_KEYS=v1:<32 random bytes, base64>',
  METRICS_TOKEN: 'random string of at least 16 characters, sent by Prometheus as a bearer token',
  TRUST_PROXY: 'behind one reverse proxy: TRUST_PROXY=1',
  INSECURE_ALLOW_PLAIN_HTTP: 'only for a private network without TLS',
};

function describe(name: string, problem: string): string {
  const hint = hints[name];
  return hint ? `${name}: ${problem} (${hint})` : `${name}: ${problem}`;
}

function productionProblems(env: Env, whoopEnabled: boolean): string[] {
  const problems: string[] = [];
  const required: Array<keyof Env> = [
    'DATABASE_URL',
    'SESSION_SECRET',
    'INTERNAL_API_TOKEN',
    'PUBLIC_BASE_URL',
  ];
  if (whoopEnabled) required.push('WHOOP_CLIENT_ID', 'WHOOP_CLIENT_SECRET', 'WHOOP_REDIRECT_URI');
  for (const name of required) {
    if (env[name] === undefined) problems.push(describe(name, 'required in production'));
  }
  if (whoopEnabled && !env.KMS_KEY_ID && !env.TOKEN_ENCRYPTION_KEYS) {
    problems.push(describe('TOKEN_ENCRYPTION_KEYS', 'a token key provider is required in production'));
  }
  if (env.METRICS_TOKEN === undefined) {
    problems.push(describe('METRICS_TOKEN', 'required in production: /metrics would be public'));
  }
  if (!env.INSECURE_ALLOW_PLAIN_HTTP) {
    const urls: Array<keyof Env> = ['PUBLIC_BASE_URL', 'KMS_ENDPOINT'];
    if (whoopEnabled) urls.push('WHOOP_REDIRECT_URI', 'WHOOP_OAUTH_BASE_URL', 'WHOOP_API_BASE_URL');
    for (const name of urls) {
      const value = env[name];
      if (typeof value === 'string' && !value.startsWith('https://')) {
        problems.push(describe(name, 'must be an https:// URL in production'));
      }
    }
  }
  if (whoopEnabled && env.WHOOP_REDIRECT_URI && env.PUBLIC_BASE_URL) {
    const expected = `${env.PUBLIC_BASE_URL}${WHOOP_CALLBACK_PATH}`;
    if (env.WHOOP_REDIRECT_URI !== expected) {
      problems.push(
        describe('WHOOP_REDIRECT_URI', `must be ${expected} (PUBLIC_BASE_URL and the callback path)`),
      );
    }
  }
  return problems;
}

export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) =>
      describe(String(issue.path[0] ?? '?'), issue.message),
    );
    throw new ConfigError(problems);
  }
  const env = parsed.data;
  const isProduction = env.NODE_ENV === 'production';
  const whoopEnabled = env.FEATURE_WHOOP_INTEGRATION ?? !isProduction;
  const problems = isProduction ? productionProblems(env, whoopEnabled) : [];
  const hasWhoopCredentials = Boolean(env.WHOOP_CLIENT_ID && env.WHOOP_CLIENT_SECRET);
  if (!isProduction && whoopEnabled && Boolean(env.WHOOP_CLIENT_ID) !== Boolean(env.WHOOP_CLIENT_SECRET)) {
    problems.push(
      describe('WHOOP_CLIENT_SECRET', 'set both WHOOP_CLIENT_ID and WHOOP_CLIENT_SECRET, or neither'),
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const publicBaseUrl = env.PUBLIC_BASE_URL ?? `http://localhost:${env.PORT}`;
  const mode: WhoopMode = !whoopEnabled ? 'off' : hasWhoopCredentials ? 'live' : 'simulator';
  return Object.freeze({
    env: env.NODE_ENV,
    isProduction,
    host: env.HOST,
    port: env.PORT,
    publicBaseUrl,
    logLevel: env.LOG_LEVEL,
    dataDir: env.DATA_DIR,
    database: Object.freeze({ url: env.DATABASE_URL, embeddedPort: env.EMBEDDED_POSTGRES_PORT }),
    sessionSecret: env.SESSION_SECRET,
    internalApiToken: env.INTERNAL_API_TOKEN,
    cookieSecure: publicBaseUrl.startsWith('https://'),
    trustProxy: env.TRUST_PROXY ?? false,
    metricsToken: env.METRICS_TOKEN,
    workerMetricsPort: env.WORKER_METRICS_PORT,
    whoop: Object.freeze({
      enabled: whoopEnabled,
      mode,
      clientId: env.WHOOP_CLIENT_ID,
      clientSecret: env.WHOOP_CLIENT_SECRET,
      redirectUri: env.WHOOP_REDIRECT_URI ?? `${publicBaseUrl}${WHOOP_CALLBACK_PATH}`,
      oauthBaseUrl: env.WHOOP_OAUTH_BASE_URL,
      apiBaseUrl: env.WHOOP_API_BASE_URL,
      simulatorPort: env.WHOOP_SIMULATOR_PORT,
    }),
    sync: Object.freeze({
      schedule: env.SYNC_SCHEDULE,
      timeZone: env.SYNC_TIMEZONE,
      backfillDays: env.WHOOP_BACKFILL_DAYS,
      lookbackDays: env.SYNC_LOOKBACK_DAYS,
      rateLimitPerMinute: env.WHOOP_RATE_LIMIT_PER_MINUTE,
      rateLimitPerDay: env.WHOOP_RATE_LIMIT_PER_DAY,
      requestTimeoutMs: env.WHOOP_REQUEST_TIMEOUT_MS,
      manualCooldownMs: env.SYNC_NOW_COOLDOWN_SECONDS * 1000,
      webhookSilenceMs: env.WHOOP_WEBHOOK_SILENCE_HOURS * 3_600_000,
    }),
    buildCommit: env.BUILD_COMMIT,
    tokenEncryption: Object.freeze({
      keyringSpec: env.TOKEN_ENCRYPTION_KEYS,
      kmsKeyId: env.KMS_KEY_ID,
      kmsEndpoint: env.KMS_ENDPOINT,
      awsRegion: env.AWS_REGION,
    }),
  });
}
