// The baselines of bench/http.ts, in a process of their own like the app: a bare Fastify "hello",
// and per app route a floor, plain Fastify plus `pg` making that route's database round trips (the
// statements and values the app sent for one request, concurrent ones together) and answering a
// fixed string. Usage: node bench/support/floor-server.ts <port> <database url> <round-trips.json>
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import pg from 'pg';

export interface RoundTrip {
  sql: string;
  values: unknown[];
}
/** route name -> round trips in order; the statements of one inner array ran concurrently */
export type RoundTripsByRoute = Record<string, RoundTrip[][]>;

const [port, databaseUrl, file] = process.argv.slice(2);
if (!port || !databaseUrl || !file) {
  process.stderr.write('usage: floor-server.ts <port> <database url> <round-trips.json>\n');
  process.exit(2);
}
const byRoute = JSON.parse(readFileSync(file, 'utf8')) as RoundTripsByRoute;
// The app's pool size (services/db/pool.ts).
const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
const app = Fastify({ logger: false });

app.get('/hello', async () => 'hello world');
app.get<{ Params: { route: string } }>('/floor/:route', async (request, reply) => {
  const groups = byRoute[request.params.route];
  if (!groups) return reply.code(404).send('unknown route');
  for (const group of groups) {
    await Promise.all(group.map((trip) => pool.query(trip.sql, trip.values)));
  }
  return reply.type('text/html').send('<p>floor</p>');
});

await app.listen({ host: '127.0.0.1', port: Number(port) });
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void app.close().then(() => pool.end());
});
