// Fault switches: each reproduces something WHOOP (or the network in front of it) was seen or
// inferred to do. All default to "off" except the observed refresh quirk.
import { z } from 'zod';
import { hashSeed, Prng } from './prng.ts';
import { RESOURCE_KINDS } from './store.ts';

export const faultSwitchesSchema = z.strictObject({
  /** fraction (0..1) of data and token requests answered with an error status, seeded */
  errorRate: z.number().min(0).max(1),
  /** the next N data/token requests fail: deterministic */
  failNext: z.number().int().min(0),
  /** statuses used in turn for injected errors */
  errorStatuses: z.array(z.number().int().min(400).max(599)).min(1),
  /** which endpoints the two switches above apply to */
  errorOn: z.array(z.enum(['data', 'token'])),
  /** added delay before answering data and token requests */
  latencyMs: z.number().int().min(0).max(600_000),
  /** data and token requests never get an answer (until the switch is off or the simulator closes) */
  hang: z.boolean(),
  /** only the next N data/token requests hang */
  hangNext: z.number().int().min(0),
  /** one record per collection page is malformed (true: every collection, or one resource) */
  malformedRecord: z.union([z.boolean(), z.enum(RESOURCE_KINDS)]),
  /** a page asked for with nextToken answers with that same next_token */
  repeatNextToken: z.boolean(),
  /** reusing a spent refresh token revokes the whole grant (inferred from fosite) */
  revokeGrantOnRefreshReuse: z.boolean(),
  /** observed: a refresh without scope=offline returns no new refresh token */
  refreshWithoutOfflineOmitsRefreshToken: z.boolean(),
  /** undocumented: 401 or 403 when the token lacks the endpoint's scope */
  missingScopeStatus: z.union([z.literal(401), z.literal(403)]),
  /** fraction (0..1) of webhook events never sent, seeded */
  webhookDropRate: z.number().min(0).max(1),
  /** the next N webhook events are never sent */
  webhookDropNext: z.number().int().min(0),
  /** every webhook event is delivered twice (same trace_id) */
  webhookDuplicate: z.boolean(),
  /** the events of one change are delivered in reverse order */
  webhookOutOfOrder: z.boolean(),
});
export type FaultSwitches = z.infer<typeof faultSwitchesSchema>;
export const faultPatchSchema = faultSwitchesSchema.partial();
export type FaultPatch = z.infer<typeof faultPatchSchema>;

export const DEFAULT_FAULTS: Readonly<FaultSwitches> = Object.freeze({
  errorRate: 0,
  failNext: 0,
  errorStatuses: [500, 502, 503],
  errorOn: ['data', 'token'],
  latencyMs: 0,
  hang: false,
  hangNext: 0,
  malformedRecord: false,
  repeatNextToken: false,
  revokeGrantOnRefreshReuse: false,
  refreshWithoutOfflineOmitsRefreshToken: true,
  missingScopeStatus: 403,
  webhookDropRate: 0,
  webhookDropNext: 0,
  webhookDuplicate: false,
  webhookOutOfOrder: false,
} satisfies FaultSwitches);

export class Faults {
  #switches: FaultSwitches = { ...DEFAULT_FAULTS };
  readonly #prng: Prng;
  #errorTurn = 0;

  constructor(seed: number) {
    this.#prng = new Prng(hashSeed(seed, 'faults'));
  }

  get(): FaultSwitches {
    return structuredClone(this.#switches);
  }

  /** Merges a validated patch; throws a ZodError on unknown or invalid switches. */
  set(patch: unknown): FaultSwitches {
    this.#switches = { ...this.#switches, ...faultPatchSchema.parse(patch) };
    return this.get();
  }

  reset(): FaultSwitches {
    this.#switches = { ...DEFAULT_FAULTS };
    return this.get();
  }

  /** The status to fail this request with, if a switch says so. */
  injectedError(target: 'data' | 'token'): number | undefined {
    const s = this.#switches;
    if (!s.errorOn.includes(target)) return undefined;
    let fail = false;
    if (s.failNext > 0) {
      s.failNext--;
      fail = true;
    } else if (s.errorRate > 0) {
      fail = this.#prng.next() < s.errorRate;
    }
    if (!fail) return undefined;
    const status = s.errorStatuses[this.#errorTurn % s.errorStatuses.length];
    this.#errorTurn++;
    return status;
  }

  shouldHang(): boolean {
    const s = this.#switches;
    if (s.hangNext > 0) {
      s.hangNext--;
      return true;
    }
    return s.hang;
  }

  dropWebhook(): boolean {
    const s = this.#switches;
    if (s.webhookDropNext > 0) {
      s.webhookDropNext--;
      return true;
    }
    return s.webhookDropRate > 0 && this.#prng.next() < s.webhookDropRate;
  }
}
