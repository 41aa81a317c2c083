import { spawnSync } from 'node:child_process';
import t from 'tap';
import { ConfigError, loadConfig } from '../src/config.ts';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

t.test('production with no configuration exits non-zero and lists every missing variable', async (t) => {
  const result = spawnSync(process.execPath, ['src/main.ts', 'web'], {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  t.equal(result.status, 1);
  for (const name of ['DATABASE_URL', 'SESSION_SECRET', 'INTERNAL_API_TOKEN', 'PUBLIC_BASE_URL']) {
    t.match(result.stderr, new RegExp(`- ${name}: required in production`), `${name} is listed`);
  }
  t.notMatch(result.stderr, /Server listening/, 'no port was opened');
});

t.test(
  'with the WHOOP feature on in production, its variables and a key provider are required too',
  async (t) => {
    const problems = problemsOf({ NODE_ENV: 'production', FEATURE_WHOOP_INTEGRATION: 'true' }).join('\n');
    for (const name of [
      'WHOOP_CLIENT_ID',
      'WHOOP_CLIENT_SECRET',
      'WHOOP_REDIRECT_URI',
      'TOKEN_ENCRYPTION_KEYS',
    ]) {
      t.match(problems, name);
    }
  },
);

t.test('invalid values are each reported with a hint', async (t) => {
  const problems = problemsOf({
    PORT: 'eighty',
    LOG_LEVEL: 'loud',
    DATABASE_URL: 'mysql://nope',
    FEATURE_WHOOP_INTEGRATION: 'maybe',
    SESSION_SECRET: 'short',
  });
  t.equal(problems.length, 5, problems.join('\n'));
  t.match(problems.join('\n'), /SESSION_SECRET: .*at least 32 characters/);
});

t.test('the WHOOP feature defaults on outside production and off in production', async (t) => {
  t.equal(loadConfig({ NODE_ENV: 'development' }).whoop.enabled, true);
  t.equal(loadConfig({ NODE_ENV: 'test' }).whoop.enabled, true);
  const production = loadConfig({
    NODE_ENV: 'production',
    DATABASE_URL: 'postgres://db/health',
    SESSION_SECRET: 'x'.repeat(32),
    INTERNAL_API_TOKEN: 'y'.repeat(32),
    PUBLIC_BASE_URL: 'https://health.example.com',
    METRICS_TOKEN: 'm'.repeat(32),
  });
  t.equal(production.whoop.enabled, false);
  t.equal(production.whoop.mode, 'off');
  t.ok(Object.isFrozen(production), 'config is frozen');
});

t.test('outside production, missing WHOOP credentials mean the simulator', async (t) => {
  t.equal(loadConfig({ NODE_ENV: 'development' }).whoop.mode, 'simulator');
  const live = loadConfig({ NODE_ENV: 'development', WHOOP_CLIENT_ID: 'id', WHOOP_CLIENT_SECRET: 'secret' });
  t.equal(live.whoop.mode, 'live');
  t.equal(live.whoop.oauthBaseUrl, 'https://api.prod.whoop.com/oauth/oauth2');
  t.equal(live.whoop.apiBaseUrl, 'https://api.prod.whoop.com/developer');
  t.equal(live.whoop.redirectUri, 'http://localhost:3000/integrations/whoop/callback');
  t.match(problemsOf({ NODE_ENV: 'development', WHOOP_CLIENT_ID: 'id' }).join(), /WHOOP_CLIENT_SECRET/);
});

const safeProduction = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://db/health',
  SESSION_SECRET: 'x'.repeat(32),
  INTERNAL_API_TOKEN: 'y'.repeat(32),
  PUBLIC_BASE_URL: 'https://health.example.com',
  METRICS_TOKEN: 'm'.repeat(32),
  FEATURE_WHOOP_INTEGRATION: 'true',
  WHOOP_CLIENT_ID: 'client',
  WHOOP_CLIENT_SECRET: 'secret',
  WHOOP_REDIRECT_URI: 'https://health.example.com/integrations/whoop/callback',
  TOKEN_ENCRYPTION_KEYS: 'v1:'.padEnd(47, 'A'),
};

t.test('production refuses unsafe settings with the same clear config error (defect 10.11)', async (t) => {
  t.same(problemsOf(safeProduction), [], 'a safe production configuration loads');
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ METRICS_TOKEN: '' }, /METRICS_TOKEN: required in production: \/metrics would be public/],
    [
      {
        PUBLIC_BASE_URL: 'http://health.example.com',
        WHOOP_REDIRECT_URI: 'http://health.example.com/integrations/whoop/callback',
      },
      /PUBLIC_BASE_URL: must be an https:\/\/ URL/,
    ],
    [
      { WHOOP_OAUTH_BASE_URL: 'http://api.prod.whoop.com/oauth/oauth2' },
      /WHOOP_OAUTH_BASE_URL: must be an https:\/\/ URL/,
    ],
    [
      { WHOOP_API_BASE_URL: 'http://api.prod.whoop.com/developer' },
      /WHOOP_API_BASE_URL: must be an https:\/\/ URL/,
    ],
    [{ KMS_ENDPOINT: 'http://kms.internal' }, /KMS_ENDPOINT: must be an https:\/\/ URL/],
    [
      { WHOOP_REDIRECT_URI: 'https://evil.example/integrations/whoop/callback' },
      /WHOOP_REDIRECT_URI: must be https:\/\/health\.example\.com\/integrations\/whoop\/callback/,
    ],
    [
      { WHOOP_REDIRECT_URI: 'https://health.example.com/callback' },
      /WHOOP_REDIRECT_URI: must be https:\/\/health\.example\.com\/integrations\/whoop\/callback/,
    ],
    [{ TRUST_PROXY: 'true' }, /TRUST_PROXY: "true" would trust any client/],
  ];
  for (const [patch, expected] of cases) {
    t.match(problemsOf({ ...safeProduction, ...patch }).join('\n'), expected, JSON.stringify(patch));
  }
  const privateNetwork = {
    ...safeProduction,
    INSECURE_ALLOW_PLAIN_HTTP: 'true',
    PUBLIC_BASE_URL: 'http://health.lan',
    WHOOP_REDIRECT_URI: 'http://health.lan/integrations/whoop/callback',
  };
  t.same(
    problemsOf(privateNetwork),
    [],
    'plain HTTP is accepted when explicitly allowed for a private network',
  );
  const result = spawnSync(process.execPath, ['src/main.ts', 'web'], {
    env: {
      PATH: process.env.PATH ?? '',
      ...safeProduction,
      METRICS_TOKEN: '',
      PUBLIC_BASE_URL: 'http://x.example',
    },
    encoding: 'utf8',
    timeout: 30_000,
  });
  t.equal(result.status, 1, 'the process refuses to start');
  t.match(result.stderr, /METRICS_TOKEN: required in production/);
});

t.test("TRUST_PROXY takes a hop count or the proxies' addresses", async (t) => {
  t.equal(loadConfig({ TRUST_PROXY: '1' }).trustProxy, 1);
  t.same(loadConfig({ TRUST_PROXY: '10.0.0.5, 10.0.1.0/24' }).trustProxy, ['10.0.0.5', '10.0.1.0/24']);
  t.equal(loadConfig({ TRUST_PROXY: 'false' }).trustProxy, false);
  t.equal(loadConfig({}).trustProxy, false);
  t.match(problemsOf({ TRUST_PROXY: 'proxy.example.com' }).join(), /TRUST_PROXY: must be a number of hops/);
});
