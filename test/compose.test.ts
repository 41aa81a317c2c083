// compose.yaml, checked without a docker engine (none on the test machine): the stack it describes
// (PostgreSQL 17, migrations once, web and worker), each service's health check, the start order, no
// secret in the file, and an environment that the app's production config accepts.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { loadConfig } from '../src/config.ts';

interface Service {
  image?: string;
  build?: { context?: string } | string;
  command?: string[];
  environment?: Record<string, string>;
  env_file?: Array<{ path: string; required?: boolean }>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
  ports?: string[];
  expose?: string[];
  restart?: string;
}

const text = readFileSync(new URL('../compose.yaml', import.meta.url), 'utf8');
const compose = parse(text, { merge: true }) as { services: Record<string, Service> };
const { services } = compose;
const scripts = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    scripts: Record<string, string>;
  }
).scripts;

/** Compose's ${NAME}, ${NAME:-default} and ${NAME:?error} substitution from the project's .env. */
function interpolate(value: string, variables: Record<string, string>): string {
  return value.replace(
    /\$\{([A-Z0-9_]+)(?::([?-])([^}]*))?\}/g,
    (_, name: string, kind?: string, rest?: string) => {
      const found = variables[name];
      if (found !== undefined && found !== '') return found;
      if (kind === '?') throw new Error(`required variable ${name} is missing: ${rest}`);
      return kind === '-' ? (rest ?? '') : '';
    },
  );
}

/** A .env file as compose and Node's --env-file read the simple lines .env.example has. */
function readDotenv(content: string): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const line of content.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) variables[match[1] as string] = match[2] as string;
  }
  return variables;
}

/** What a container of `name` sees: the env_file, then `environment` over it, both interpolated. */
function containerEnvironment(name: string, dotenv: Record<string, string>): Record<string, string> {
  const service = services[name] as Service;
  const fromFile = service.env_file?.some((file) => file.path === '.env') ? dotenv : {};
  const environment = Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([key, value]) => [
      key,
      interpolate(String(value), dotenv),
    ]),
  );
  return { ...fromFile, ...environment };
}

const APP_SERVICES = ['migrate', 'web', 'worker'] as const;

t.test('PostgreSQL 17, migrations, web and worker, each from the one image', async (t) => {
  t.same(Object.keys(services).sort(), ['migrate', 'postgres', 'web', 'worker']);
  t.match(services.postgres?.image, /^postgres:17(\.|-|$)/, 'PostgreSQL 17');
  for (const name of APP_SERVICES) {
    const service = services[name] as Service;
    t.match(service.build, { context: '.' }, `${name} builds the Dockerfile`);
    t.match(
      service.build,
      { args: { BUILD_COMMIT: /^\$\{BUILD_COMMIT:-\}$/ } },
      'with the commit from .env or the shell',
    );
    t.equal(service.image, services.web?.image, `${name} runs the same image`);
  }
  // The image's entrypoint is node: the same modes the npm scripts start.
  t.same(services.web?.command, ['src/main.ts', scripts['start:web']?.split(' ').at(-1)], 'web as start:web');
  t.same(
    services.worker?.command,
    ['src/main.ts', scripts['start:worker']?.split(' ').at(-1)],
    'worker as start:worker',
  );
  t.same(
    services.migrate?.command,
    ['src/main.ts', scripts.migrate?.split(' ').at(-1)],
    'migrate as npm run migrate',
  );
  t.equal(services.migrate?.restart, 'no', 'migrate runs once');
  for (const name of ['postgres', 'web', 'worker']) t.equal(services[name]?.restart, 'unless-stopped');
});

t.test('a health check for each long-running service, on what each serves', async (t) => {
  t.match(services.postgres?.healthcheck?.test, ['CMD', 'pg_isready'], 'postgres: pg_isready');
  const web = services.web as Service;
  const worker = services.worker as Service;
  t.match(
    web.healthcheck?.test?.join(' '),
    `http://127.0.0.1:${web.environment?.PORT}/healthz`,
    'web: /healthz on its PORT, as the Dockerfile checks it',
  );
  t.match(
    worker.healthcheck?.test?.join(' '),
    `http://127.0.0.1:${worker.environment?.WORKER_METRICS_PORT}/healthz`,
    'worker: /healthz on WORKER_METRICS_PORT (served by src/worker-metrics-server.ts)',
  );
  for (const service of [web, worker]) t.match(service.healthcheck?.test?.join(' '), /r\.ok\?0:1/);
  t.equal(services.migrate?.healthcheck?.disable, true, 'migrate exits: no health check');
});

t.test('start order: a healthy database, then migrations, then web and worker', async (t) => {
  for (const name of APP_SERVICES) {
    t.same(
      services[name]?.depends_on?.postgres,
      { condition: 'service_healthy' },
      `${name} waits for postgres`,
    );
  }
  for (const name of ['web', 'worker']) {
    t.same(
      services[name]?.depends_on?.migrate,
      { condition: 'service_completed_successfully' },
      `${name} starts after migrations succeeded`,
    );
  }
});

t.test(
  'ports: web on the host loopback, the database and the worker only on the compose network',
  async (t) => {
    const web = services.web as Service;
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's own substitution
    t.same(web.ports, ['127.0.0.1:${WEB_PORT:-3000}:3000']);
    t.equal(web.environment?.PORT, '3000');
    t.equal(web.environment?.HOST, '0.0.0.0', 'listens beyond the container loopback');
    t.equal(services.worker?.environment?.HOST, '0.0.0.0');
    t.equal(services.postgres?.ports, undefined, 'the database is not published');
    t.equal(services.worker?.ports, undefined);
    t.same(services.worker?.expose, ['9464']);
  },
);

t.test('no secret is written in compose.yaml: they come from .env', async (t) => {
  for (const [name, service] of Object.entries(services)) {
    t.same(service.env_file ?? [{ path: '.env', required: true }], [{ path: '.env', required: true }], name);
    for (const [key, value] of Object.entries(service.environment ?? {})) {
      if (/SECRET|TOKEN|PASSWORD|KEYS?$|DATABASE_URL/.test(key)) {
        t.match(String(value), /\$\{[A-Z_]+:\?[^}]+\}/, `${name}.${key} is required from .env`);
        t.notMatch(
          String(value).replace(/\$\{[^}]+\}/g, ''),
          /:[^/@]+@/,
          `${name}.${key} holds no literal password`,
        );
      }
    }
  }
  t.notMatch(text, /^\s*[A-Z_]*(SECRET|TOKEN|PASSWORD)[A-Z_]*:\s*[^$\s]/m, 'no literal value for a secret');
});

t.test(
  'the containers get a configuration production accepts, from .env.example plus the documented variables',
  async (t) => {
    const dotenv = {
      ...readDotenv(readFileSync(new URL('../.env.example', import.meta.url), 'utf8')),
      POSTGRES_PASSWORD: 'compose-test-password',
      SESSION_SECRET: 'compose-test-session-secret-0123456789abcdef',
      INTERNAL_API_TOKEN: 'compose-test-internal-token-0123456789abcdef',
      METRICS_TOKEN: 'compose-test-metrics-token',
      PUBLIC_BASE_URL: 'https://health.example.test',
      TRUST_PROXY: '1',
      WHOOP_CLIENT_ID: 'compose-test-client',
      WHOOP_CLIENT_SECRET: 'compose-test-client-secret',
      WHOOP_REDIRECT_URI: 'https://health.example.test/integrations/whoop/callback',
      TOKEN_ENCRYPTION_KEYS: `v1:${Buffer.alloc(32, 7).toString('base64')}`,
    };
    for (const name of APP_SERVICES) {
      const config = loadConfig(containerEnvironment(name, dotenv));
      t.equal(config.isProduction, true, `${name}: production`);
      t.equal(config.database.url, 'postgres://health:compose-test-password@postgres:5432/health');
      t.equal(config.whoop.mode, 'live');
    }
    t.equal(loadConfig(containerEnvironment('worker', dotenv)).workerMetricsPort, 9464);
    t.equal(loadConfig(containerEnvironment('web', dotenv)).port, 3000);

    const { SESSION_SECRET: _, ...withoutSecret } = dotenv;
    t.throws(() => containerEnvironment('web', withoutSecret), /SESSION_SECRET/, 'a missing secret is named');
  },
);
