// Everything the simulator knows, and every operation the control API and the programmatic API
// share. HTTP routes are thin adapters over this object.
import type { ServerResponse } from 'node:http';
import { SimClock } from './clock.ts';
import { type FaultSwitches, Faults } from './faults.ts';
import type { MemberHistory } from './generator.ts';
import { type ClientConfig, OAuthState } from './oauth-state.ts';
import { RateLimiter, type RateLimitOptions } from './rate-limit.ts';
import { RequestCounter, type RequestCounts } from './request-counts.ts';
import {
  type CreateMemberOptions,
  type DataEvent,
  type MemberSummary,
  type ResourceKind,
  SimError,
  SimStore,
} from './store.ts';
import { type WebhookDelivery, WebhookDispatcher, type WebhookOptions } from './webhooks.ts';

export interface ConsentSettings {
  /** the member preselected on the consent page (default: the most recently created) */
  defaultUserId: number | null;
  /** skip the consent page: answer every valid authorize request at once */
  autoApprove: 'grant' | 'deny' | null;
}

export interface CoreOptions {
  clients: ClientConfig[];
  accessTokenTtlSeconds?: number | undefined;
  codeTtlSeconds?: number | undefined;
  rateLimit?: RateLimitOptions | undefined;
  seed?: number | undefined;
  now?: (() => number) | undefined;
  webhooks?: WebhookOptions | undefined;
}

export class SimCore {
  readonly clock: SimClock;
  readonly store: SimStore;
  readonly oauth: OAuthState;
  readonly faults: Faults;
  readonly rateLimiter: RateLimiter;
  readonly counts = new RequestCounter();
  readonly webhooks: WebhookDispatcher;
  readonly hung = new Set<ServerResponse>();
  readonly consent: ConsentSettings = { defaultUserId: null, autoApprove: null };
  readonly #memberOrder: number[] = [];

  constructor(options: CoreOptions) {
    const seed = options.seed ?? 1;
    this.clock = new SimClock(options.now);
    this.store = new SimStore(seed);
    this.oauth = new OAuthState({
      accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 3600,
      codeTtlSeconds: options.codeTtlSeconds ?? 600,
    });
    for (const client of options.clients) this.oauth.addClient(client);
    this.faults = new Faults(seed);
    this.rateLimiter = new RateLimiter(options.rateLimit);
    this.webhooks = new WebhookDispatcher({
      ...options.webhooks,
      faults: this.faults,
      subscribers: (userId) => this.oauth.clientsWithAccess(userId),
    });
  }

  now(): number {
    return this.clock.now();
  }

  /** Brings every member's data up to the current time and announces what changed. */
  sync(): DataEvent[] {
    const events = this.store.tick(this.now());
    this.webhooks.dispatch(events);
    return events;
  }

  #changed(events: DataEvent[]): DataEvent[] {
    this.webhooks.dispatch(events);
    return events;
  }

  createMember(options: CreateMemberOptions = {}): MemberSummary {
    this.sync();
    const member = this.store.createMember(options, this.now());
    this.#memberOrder.push(member.userId);
    return member;
  }

  members(): MemberSummary[] {
    return this.#memberOrder.map((id) => this.store.summary(id));
  }

  /** The member the consent page signs in by default. */
  defaultMember(): number | undefined {
    const preferred = this.consent.defaultUserId;
    if (preferred !== null && this.store.hasMember(preferred)) return preferred;
    return this.#memberOrder.at(-1);
  }

  advanceTime(ms: number): { now: number; events: DataEvent[] } {
    this.sync();
    this.clock.advance(ms);
    return { now: this.now(), events: this.sync() };
  }

  groundTruth(userId: number): MemberHistory {
    this.sync();
    return this.store.truth(userId);
  }

  rescore(userId: number, kind: ResourceKind, id: string): DataEvent[] {
    this.sync();
    return this.#changed(this.store.rescore(userId, kind, id, this.now()));
  }

  grow(userId: number, kind: ResourceKind, id: string, ms: number): DataEvent[] {
    this.sync();
    return this.#changed(this.store.grow(userId, kind, id, ms, this.now()));
  }

  /** Serves a record broken as `patch` says, unchecked: what a client must survive. */
  corruptRecord(userId: number, kind: ResourceKind, id: string, patch: Record<string, unknown>): DataEvent[] {
    this.sync();
    return this.#changed(this.store.edit(userId, kind, id, patch, this.now(), { hostile: true }));
  }

  editRecord(userId: number, kind: ResourceKind, id: string, patch: Record<string, unknown>): DataEvent[] {
    this.sync();
    return this.#changed(this.store.edit(userId, kind, id, patch, this.now()));
  }

  deleteRecord(userId: number, kind: ResourceKind, id: string): DataEvent[] {
    this.sync();
    return this.#changed(this.store.remove(userId, kind, id));
  }

  /** The member revokes the app from WHOOP's side (or every app when clientId is omitted). */
  revokeAccess(userId: number, clientId?: string): number {
    if (!this.store.hasMember(userId)) throw new SimError(404, `no member ${userId}`);
    const clients = clientId ? [clientId] : this.oauth.clients().map((c) => c.clientId);
    return clients.reduce((sum, id) => sum + this.oauth.revokeMember(id, userId), 0);
  }

  setFaults(patch: Partial<FaultSwitches>): FaultSwitches {
    return this.faults.set(patch);
  }

  setConsent(patch: Partial<ConsentSettings>): ConsentSettings {
    if (patch.defaultUserId !== undefined) {
      if (patch.defaultUserId !== null && !this.store.hasMember(patch.defaultUserId)) {
        throw new SimError(404, `no member ${patch.defaultUserId}`);
      }
      this.consent.defaultUserId = patch.defaultUserId;
    }
    if (patch.autoApprove !== undefined) this.consent.autoApprove = patch.autoApprove;
    return { ...this.consent };
  }

  requestCounts(): RequestCounts {
    return this.counts.snapshot();
  }

  webhookDeliveries(): WebhookDelivery[] {
    return this.webhooks.deliveries();
  }

  close(): void {
    this.webhooks.close();
    // hung requests never answer; closing drops their connections
    for (const response of this.hung) response.destroy();
    this.hung.clear();
  }
}
