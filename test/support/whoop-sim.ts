// The one way tests start the WHOOP simulator: a real HTTP server on 127.0.0.1:0 with the suite's
// client registered, a seed, a clock and rate limits, closed when the test ends. The suites differ
// only in the options they pass (test/integrations/support.ts, test/sync/support/fixture.ts,
// test/whoop-sim/helpers.ts).
import {
  type RateLimitOptions,
  startWhoopSimulator,
  type WhoopSimulator,
  type WhoopSimulatorOptions,
} from '../../src/whoop-sim/index.ts';

export interface Teardown {
  teardown(fn: () => unknown): void;
}

/** The app's registration at the simulator, as a suite names it. */
export interface SimClient {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  name: string;
}

/**
 * The simulator's base clock: 'wall' follows the system clock; 'frozen' stands still where the test
 * started (or at TEST_SIM_NOW, see simulatorInstant); a number stands still at that instant. Only
 * advanceTime moves a stopped clock.
 */
export type SimClock = 'wall' | 'frozen' | number;

/** Never 429, announced as huge: the app's client obeys the limits WHOOP's headers announce. */
export const UNLIMITED_RATE: RateLimitOptions = { enabled: false, perMinute: 1_000_000, perDay: 100_000_000 };

export interface TestSimulatorOptions {
  client: SimClient;
  seed: number;
  /** default 'wall' */
  clock?: SimClock;
  /** default: WHOOP's documented limits (100 a minute, 10,000 a day), enforced */
  rateLimit?: RateLimitOptions;
  /** anything else of the simulator, applied last: it wins over the settings above */
  simulator?: Partial<WhoopSimulatorOptions>;
}

/**
 * Where a frozen clock stands: now, or TEST_SIM_NOW (a past ISO instant) when the clock matrix
 * (test/support/clock-matrix.ts) replays the suites at awkward hours.
 */
export function simulatorInstant(): number {
  const pinned = process.env.TEST_SIM_NOW;
  if (!pinned) return Date.now();
  const at = Date.parse(pinned);
  if (!Number.isFinite(at) || at > Date.now())
    throw new Error(`TEST_SIM_NOW must be a past ISO instant: ${pinned}`);
  return at;
}

function clockOption(clock: SimClock): Pick<WhoopSimulatorOptions, 'now'> {
  if (clock === 'wall') return {};
  const at = clock === 'frozen' ? simulatorInstant() : clock;
  return { now: () => at };
}

export async function startTestSimulator(
  t: Teardown,
  options: TestSimulatorOptions,
): Promise<WhoopSimulator> {
  const { client } = options;
  const sim = await startWhoopSimulator({
    clients: [
      {
        clientId: client.clientId,
        clientSecret: client.clientSecret,
        redirectUris: [client.redirectUri],
        name: client.name,
      },
    ],
    seed: options.seed,
    nodeEnv: 'test',
    ...clockOption(options.clock ?? 'wall'),
    ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
    ...options.simulator,
  });
  t.teardown(() => sim.close());
  return sim;
}

/** The app's WHOOP settings pointing at the simulator with the suite's client. */
export function simulatorEnv(sim: WhoopSimulator, client: SimClient): Record<string, string> {
  return {
    WHOOP_CLIENT_ID: client.clientId,
    WHOOP_CLIENT_SECRET: client.clientSecret,
    WHOOP_OAUTH_BASE_URL: sim.oauthBaseUrl,
    WHOOP_API_BASE_URL: sim.apiBaseUrl,
  };
}

const decodeEntities = (value: string) =>
  value.replace(/&#(\d+);/g, (_match, code: string) => String.fromCharCode(Number(code)));

/** The hidden fields of the simulator's consent form, as a browser would submit them. */
export function consentFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields[decodeEntities(match[1] ?? '')] = decodeEntities(match[2] ?? '');
  }
  return fields;
}
