import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import t from 'tap';

const CLI = new URL('../../src/whoop-sim/cli.ts', import.meta.url).pathname;

function run(args: string[], env: Record<string, string> = {}): ChildProcess {
  const { NODE_ENV: _ignored, ...inherited } = process.env;
  return spawn(process.execPath, [CLI, ...args], {
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function firstLogLine(child: ChildProcess): Promise<Record<string, unknown>> {
  if (!child.stdout) throw new Error('no stdout');
  for await (const line of createInterface({ input: child.stdout })) {
    return JSON.parse(line) as Record<string, unknown>;
  }
  throw new Error('the CLI printed nothing');
}

t.test('the CLI starts a simulator with a demo member and logs its URLs', async (t) => {
  const child = run(['--port', '0', '--days', '14', '--client-id', 'cli-app', '--timezone-offset', '+05:30']);
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const log = await firstLogLine(child);
  t.match(log.msg, /^WHOOP simulator listening on http:\/\/127\.0\.0\.1:\d+/);
  const url = String(log.url);
  t.equal(log.apiBaseUrl, `${url}/developer`);
  t.equal(log.oauthBaseUrl, `${url}/oauth/oauth2`);
  const members = (await (await fetch(`${url}/_sim/members`)).json()) as Array<{
    timezoneOffset: string;
    counts: { cycles: number };
  }>;
  t.match(members, [{ timezoneOffset: '+05:30', counts: { cycles: 14 } }]);
  const clients = (await (await fetch(`${url}/_sim/clients`)).json()) as Array<{ clientId: string }>;
  t.same(
    clients.map((c) => c.clientId),
    ['cli-app'],
  );
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  t.equal(code, 0, 'stops cleanly on SIGTERM');
});

t.test('the CLI refuses to run with NODE_ENV=production', async (t) => {
  const child = run(['--port', '0'], { NODE_ENV: 'production' });
  const log = await firstLogLine(child);
  t.match(log.msg, /does not start when NODE_ENV=production/);
  const [code] = child.exitCode === null ? await once(child, 'exit') : [child.exitCode];
  t.equal(code, 1);
});
