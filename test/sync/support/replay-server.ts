// A real HTTP server between the app and the WHOOP simulator. Every request is passed through to the
// simulator (OAuth, consent, Data API) unless a recorded fixture is armed for its method and path:
// then the fixture's bytes are the answer, verbatim. The simulator cannot serve a whole fixture as
// recorded (its pages carry its own next_token, explicit nulls are dropped, body measurements and
// token responses are its own), and the app's real client must parse exactly what WHOOP sent.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';

export const FIXTURE_DIR = new URL('../../fixtures/whoop/', import.meta.url);

/** A fixture file's bytes, exactly as recorded. */
export function fixtureText(file: string): string {
  return readFileSync(new URL(file, FIXTURE_DIR), 'utf8');
}

interface Armed {
  status: number;
  body: string;
}

export interface SeenRequest {
  method: string;
  path: string;
  query: string;
  authorization: string | undefined;
}

export interface ReplayServer {
  url: string;
  /** what the app's config points at instead of the simulator */
  env: { WHOOP_OAUTH_BASE_URL: string; WHOOP_API_BASE_URL: string };
  /** where unarmed requests go (the simulator's root URL) */
  passTo(upstream: string): void;
  /**
   * Answers `METHOD /path` with `body` until disarmed. The query is ignored but for a listing's
   * `nextToken`: armed with one, the route answers only the request that carries it.
   */
  arm(route: string, body: string, options?: { status?: number; nextToken?: string }): void;
  disarm(): void;
  /** the requests answered from fixtures since the last disarm */
  seen(): SeenRequest[];
}

async function readBody(incoming: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startReplayServer(t: { teardown(fn: () => unknown): void }): Promise<ReplayServer> {
  const armed = new Map<string, Armed>();
  let seen: SeenRequest[] = [];
  let upstream: string | undefined;
  const server = createServer((incoming, outgoing) => {
    void (async () => {
      const url = new URL(incoming.url ?? '/', 'http://replay.invalid');
      const method = incoming.method ?? 'GET';
      const body = await readBody(incoming);
      const answer = armed.get(`${method} ${url.pathname}#${url.searchParams.get('nextToken') ?? ''}`);
      if (answer) {
        seen.push({
          method,
          path: url.pathname,
          query: url.search,
          authorization: incoming.headers.authorization,
        });
        outgoing.writeHead(answer.status, { 'content-type': 'application/json' });
        outgoing.end(answer.body);
        return;
      }
      if (!upstream) throw new Error('the replay server has no upstream');
      const headers = Object.fromEntries(
        Object.entries(incoming.headers).filter(([name]) => !['host', 'connection'].includes(name)),
      ) as Record<string, string>;
      const response = await request(`${upstream}${incoming.url ?? '/'}`, {
        method: method as 'GET',
        headers,
        body: body.length > 0 ? body : undefined,
      });
      const passed: Record<string, string> = {};
      for (const [name, value] of Object.entries(response.headers)) {
        if (typeof value === 'string' && !['connection', 'transfer-encoding'].includes(name))
          passed[name] = value;
      }
      outgoing.writeHead(response.statusCode, passed);
      outgoing.end(Buffer.from(await response.body.arrayBuffer()));
    })().catch((error: unknown) => {
      outgoing.writeHead(502, { 'content-type': 'text/plain' });
      outgoing.end(`replay server: ${error instanceof Error ? error.message : String(error)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    env: { WHOOP_OAUTH_BASE_URL: `${url}/oauth/oauth2`, WHOOP_API_BASE_URL: `${url}/developer` },
    passTo(root) {
      upstream = root;
    },
    arm(route, body, options = {}) {
      armed.set(`${route}#${options.nextToken ?? ''}`, { status: options.status ?? 200, body });
    },
    disarm() {
      armed.clear();
      seen = [];
    },
    seen: () => [...seen],
  };
}
