import { once } from 'node:events';
import { createServer } from 'node:net';

// Below Linux's ephemeral range (32768-60999 by default): a port the OS picked for us (listen on 0)
// is also what it hands the next outgoing connection of any process, which is how another test took
// the demo-mode app's port between this check and its listen. Random ports here are never handed out
// by the OS, and two tests pick the same one only by a 1-in-12,000 chance.
const LOW = 20_000;
const HIGH = 32_000;

async function available(port: number): Promise<boolean> {
  const server = createServer();
  try {
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago, outside the range the OS hands out itself. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (await available(port)) return port;
  }
  throw new Error(`no free port between ${LOW} and ${HIGH}`);
}
