// Issue 3 item 10: `npm start` with no WHOOP configuration runs the simulator in-process, with a demo
// member, and the app's Connect goes to it.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import t from 'tap';
import { createTestDatabase } from '../helper.ts';
import { Jar } from '../support/fetch-jar.ts';
import { freePort } from '../support/free-port.ts';

t.test('npm start without WHOOP credentials uses the built-in simulator with a demo member', async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'health-demo-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  chmodSync(dataDir, 0o755);
  const database = await createTestDatabase(t);
  const port = await freePort();
  const simulatorPort = await freePort();
  const child = spawn(process.execPath, ['src/main.ts', 'all'], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'development',
      DATA_DIR: dataDir,
      DATABASE_URL: database.url,
      PORT: String(port),
      WHOOP_SIMULATOR_PORT: String(simulatorPort),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => child.exitCode === null && child.kill('SIGKILL'));
  const lines = createInterface({ input: child.stdout });
  const messages: string[] = [];
  for await (const line of lines) {
    messages.push(String((JSON.parse(line) as { msg?: string }).msg));
    if (messages.at(-1)?.startsWith('Server listening')) break;
  }
  const simulatorLines = messages.filter((message) => /WHOOP simulator in use/.test(message));
  t.equal(simulatorLines.length, 1, 'one line says the simulator is in use');
  t.match(simulatorLines[0], `http://127.0.0.1:${simulatorPort}`, 'with its URL');
  t.ok(
    messages.some((m) => /development key kept in/.test(m)),
    'and warns about the development token key',
  );

  const members = (await (await fetch(`http://127.0.0.1:${simulatorPort}/_sim/members`)).json()) as Array<{
    counts: { cycles: number };
  }>;
  t.equal(members.length, 1, 'a demo member exists');
  t.ok((members[0]?.counts.cycles ?? 0) >= 89, 'with about 90 days of history');

  // PUBLIC_BASE_URL's default: the app redirects pages asked for on 127.0.0.1 there (test/first-run.test.ts).
  const base = `http://localhost:${port}`;
  const jar = new Jar();
  await jar.post(`${base}/signup`, {
    _csrf: await jar.csrf(`${base}/signup`),
    email: 'demo@example.com',
    password: 'correct horse battery',
    displayName: 'Demo',
    timeZone: 'UTC',
  });
  const connect = await jar.post(`${base}/integrations/whoop/connect`, {
    _csrf: await jar.csrf(`${base}/integrations`),
  });
  t.equal(connect.status, 303);
  const location = new URL(String(connect.headers.get('location')));
  t.equal(
    `${location.origin}${location.pathname}`,
    `http://127.0.0.1:${simulatorPort}/oauth/oauth2/auth`,
    'Connect goes to the simulator',
  );
  const csp = String((await jar.fetch(`${base}/integrations`)).headers.get('content-security-policy'));
  t.match(
    csp,
    `form-action 'self' http://127.0.0.1:${simulatorPort}`,
    'and the CSP lets the browser go there',
  );
  const consent = await fetch(location);
  t.equal(consent.status, 200);
  t.match(await consent.text(), /Demo Member/);

  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  t.equal(code, 0, 'stops cleanly, simulator included');
});
