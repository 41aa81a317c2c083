// The production image as the Dockerfile and .dockerignore build it (no docker engine needed): the WHOOP
// simulator is in no layer, and the files the image holds start the web process and the worker in
// production, on a real PostgreSQL.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import t, { type Test } from 'tap';
import { generateKeyringKey } from '../src/services/token-vault/keyring-key-provider.ts';
import { createTestDatabase } from './helper.ts';
import { filesCopiedFromContext, layOutRuntimeStage, parseDockerfile } from './support/docker-build.ts';
import { freePort } from './support/free-port.ts';

const root = path.resolve(import.meta.dirname, '..');
const SIMULATOR = 'src/whoop-sim/';

t.test('no layer of any stage copies the WHOOP simulator', async (t) => {
  const copies = filesCopiedFromContext(root);
  const fromSource = copies.find(({ copy }) => copy.sources.includes('src'));
  t.ok(fromSource, 'the image copies src from the build context');
  t.ok(
    fromSource?.files.some((file) => file === 'src/main.ts'),
    'src/main.ts is in the image',
  );
  for (const { copy, files } of copies) {
    t.same(
      files.filter((file) => file.startsWith(SIMULATOR)),
      [],
      `COPY ${copy.sources.join(' ')} ${copy.destination} (stage ${copy.stage}) brings no simulator file`,
    );
  }
  // Deleting after a COPY would leave the files in the COPY's layer: the build must not rely on it.
  const dockerfile = parseDockerfile(readFileSync(path.join(root, 'Dockerfile'), 'utf8'));
  t.notOk(
    dockerfile.instructions.some((line) => /^RUN\b.*whoop-sim/i.test(line)),
    'no RUN step deletes the simulator after the fact',
  );
});

interface Started {
  lines: string[];
  stop: () => Promise<number | null>;
}

/** Starts `node src/main.ts <mode>` from the image's /app and waits for `ready` in its log. */
async function startFromImage(
  t: Test,
  app: string,
  mode: string,
  env: Record<string, string>,
  ready: string,
): Promise<Started> {
  const child = spawn(process.execPath, ['src/main.ts', mode], {
    cwd: app,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => child.exitCode === null && child.kill('SIGKILL'));
  const lines: string[] = [];
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => {
    errors += chunk.toString();
  });
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      if (line.includes(ready)) resolve();
    });
    child.once('close', (code) => reject(new Error(`${mode} exited ${code} before "${ready}":\n${errors}`)));
  });
  return {
    lines,
    stop: async () => {
      const closed = once(child, 'close');
      child.kill('SIGTERM');
      const [code] = (await closed) as [number | null];
      return code;
    },
  };
}

t.test('the image starts web and worker in production without the simulator', async (t) => {
  const app = mkdtempSync(path.join(os.tmpdir(), 'health-image-'));
  t.teardown(() => rmSync(app, { recursive: true, force: true }));
  layOutRuntimeStage(root, app);
  // The deps stage's production node_modules: the repository's are a superset.
  symlinkSync(path.join(root, 'node_modules'), path.join(app, 'node_modules'));
  t.notOk(readFileSync(path.join(app, 'src/main.ts'), 'utf8').length === 0, 'the image holds src/main.ts');
  t.throws(() => readFileSync(path.join(app, 'src/whoop-sim/index.ts')), 'and not the simulator');

  const database = await createTestDatabase(t);
  const publicBaseUrl = 'https://health.example.test';
  const env = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    DATABASE_URL: database.url,
    PUBLIC_BASE_URL: publicBaseUrl,
    SESSION_SECRET: 'image-test-session-secret-0123456789abcdef',
    INTERNAL_API_TOKEN: 'image-test-internal-token-0123456789abcdef',
    METRICS_TOKEN: 'image-test-metrics-token',
    FEATURE_WHOOP_INTEGRATION: 'true',
    WHOOP_CLIENT_ID: 'image-test-client',
    WHOOP_CLIENT_SECRET: 'image-test-client-secret',
    WHOOP_REDIRECT_URI: `${publicBaseUrl}/integrations/whoop/callback`,
    TOKEN_ENCRYPTION_KEYS: generateKeyringKey('v1'),
    BUILD_COMMIT: 'image-test-commit',
  };

  const webPort = await freePort();
  const web = await startFromImage(t, app, 'web', { ...env, PORT: String(webPort) }, 'Server listening');
  // As the compose and Dockerfile health checks ask: on the container's loopback, redirects not followed.
  const health = await fetch(`http://127.0.0.1:${webPort}/healthz`, { redirect: 'manual' });
  t.equal(health.status, 200, 'web /healthz answers 200 on 127.0.0.1');
  const ready = await fetch(`http://127.0.0.1:${webPort}/readyz`, { redirect: 'manual' });
  t.equal(ready.status, 200, 'web /readyz: the database is reachable');
  const metrics = await fetch(`http://127.0.0.1:${webPort}/metrics`, {
    headers: { authorization: `Bearer ${env.METRICS_TOKEN}` },
    redirect: 'manual',
  });
  t.match(
    await metrics.text(),
    /build_info\{version="[^"]+",node_version="v24[^"]*",commit="image-test-commit"\} 1/,
  );

  const workerPort = await freePort();
  const worker = await startFromImage(
    t,
    app,
    'worker',
    { ...env, WORKER_METRICS_PORT: String(workerPort) },
    'worker metrics on /metrics',
  );
  const workerHealth = await fetch(`http://127.0.0.1:${workerPort}/healthz`);
  t.equal(workerHealth.status, 200, 'worker /healthz answers 200 on WORKER_METRICS_PORT');

  t.notOk(
    [...web.lines, ...worker.lines].some((line) => /simulator/i.test(line)),
    'nothing mentions the simulator',
  );
  t.equal(await worker.stop(), 0, 'the worker stops cleanly on SIGTERM');
  t.equal(await web.stop(), 0, 'the web process stops cleanly on SIGTERM');
});
