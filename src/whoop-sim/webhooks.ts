// v2 webhooks: signed POSTs to each subscribed client's URL, retried with a short backoff, with
// switches for the duplicates, losses and reordering that receivers must survive.
import { randomUUID } from 'node:crypto';
import { signWebhook } from '../services/whoop/webhook-signature.ts';
import type { Faults } from './faults.ts';
import type { ClientConfig } from './oauth-state.ts';
import type { DataEvent } from './store.ts';

export { signWebhook, verifyWebhookSignature } from '../services/whoop/webhook-signature.ts';

export interface WebhookOptions {
  /** waits before each retry; its length is the number of retries (default 5, compressed from WHOOP's hour) */
  retryDelaysMs?: number[] | undefined;
  /** a slower answer counts as a failure (default 5000) */
  timeoutMs?: number | undefined;
  /** clock for X-WHOOP-Signature-Timestamp (default: wall clock, so receivers can check staleness) */
  timestamp?: (() => number) | undefined;
}

export interface WebhookDelivery {
  traceId: string;
  clientId: string;
  userId: number;
  type: string;
  id: string;
  attempt: number;
  duplicate: boolean;
  outcome: 'delivered' | 'retrying' | 'gave_up' | 'dropped';
  status: number | null;
  error?: string | undefined;
  at: string;
}

interface Job {
  client: ClientConfig;
  event: DataEvent;
  traceId: string;
  body: string;
  attempt: number;
  duplicate: boolean;
}

export class WebhookDispatcher {
  readonly #faults: Faults;
  readonly #subscribers: (userId: number) => ClientConfig[];
  readonly #retryDelays: number[];
  readonly #timeoutMs: number;
  readonly #timestamp: () => number;
  readonly #queues = new Map<string, Job[]>();
  readonly #running = new Set<string>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #closing = new AbortController();
  readonly #log: WebhookDelivery[] = [];
  #idleWaiters: Array<() => void> = [];

  constructor(options: WebhookOptions & { faults: Faults; subscribers: (userId: number) => ClientConfig[] }) {
    this.#faults = options.faults;
    this.#subscribers = options.subscribers;
    this.#retryDelays = options.retryDelaysMs ?? [50, 100, 200, 400, 800];
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#timestamp = options.timestamp ?? Date.now;
  }

  dispatch(events: DataEvent[]): void {
    if (this.#closing.signal.aborted || events.length === 0) return;
    const { webhookOutOfOrder, webhookDuplicate } = this.#faults.get();
    const ordered = webhookOutOfOrder ? [...events].reverse() : events;
    for (const event of ordered) {
      for (const client of this.#subscribers(event.userId)) {
        if (!client.webhookUrl) continue;
        const traceId = randomUUID();
        const body = JSON.stringify({
          user_id: event.userId,
          id: event.id,
          type: event.type,
          trace_id: traceId,
        });
        const job: Job = { client, event, traceId, body, attempt: 1, duplicate: false };
        if (this.#faults.dropWebhook()) {
          this.#record(job, 'dropped', null);
          continue;
        }
        this.#enqueue(job);
        if (webhookDuplicate) this.#enqueue({ ...job, duplicate: true });
      }
    }
  }

  deliveries(): WebhookDelivery[] {
    return this.#log.map((d) => ({ ...d }));
  }

  pending(): number {
    let queued = 0;
    for (const q of this.#queues.values()) queued += q.length;
    return queued + this.#running.size + this.#timers.size;
  }

  /** Resolves once every queued delivery and retry has finished. */
  idle(): Promise<void> {
    if (this.pending() === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  close(): void {
    this.#closing.abort();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#queues.clear();
    this.#notifyIdle();
  }

  #enqueue(job: Job): void {
    const key = job.client.clientId;
    const queue = this.#queues.get(key) ?? [];
    queue.push(job);
    this.#queues.set(key, queue);
    if (!this.#running.has(key)) void this.#drain(key);
  }

  // one delivery at a time per client keeps the order observable (and the out-of-order switch meaningful)
  async #drain(key: string): Promise<void> {
    this.#running.add(key);
    try {
      for (let job = this.#queues.get(key)?.shift(); job; job = this.#queues.get(key)?.shift()) {
        await this.#attempt(job);
      }
    } finally {
      this.#running.delete(key);
      this.#notifyIdle();
    }
  }

  async #attempt(job: Job): Promise<void> {
    const url = job.client.webhookUrl;
    if (!url || this.#closing.signal.aborted) return;
    const timestamp = String(this.#timestamp());
    let status: number | null = null;
    let error: string | undefined;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'whoop-sim-webhooks',
          'x-whoop-signature-timestamp': timestamp,
          'x-whoop-signature': signWebhook(job.client.clientSecret, timestamp, job.body),
        },
        body: job.body,
        signal: AbortSignal.any([AbortSignal.timeout(this.#timeoutMs), this.#closing.signal]),
      });
      status = response.status;
      await response.arrayBuffer().catch(() => undefined);
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    if (status !== null && status >= 200 && status < 300) {
      this.#record(job, 'delivered', status);
      return;
    }
    const delay = this.#retryDelays[job.attempt - 1];
    if (delay === undefined || this.#closing.signal.aborted) {
      this.#record(job, 'gave_up', status, error);
      return;
    }
    this.#record(job, 'retrying', status, error);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#enqueue({ ...job, attempt: job.attempt + 1 });
    }, delay);
    this.#timers.add(timer);
  }

  #record(job: Job, outcome: WebhookDelivery['outcome'], status: number | null, error?: string): void {
    this.#log.push({
      traceId: job.traceId,
      clientId: job.client.clientId,
      userId: job.event.userId,
      type: job.event.type,
      id: job.event.id,
      attempt: job.attempt,
      duplicate: job.duplicate,
      outcome,
      status,
      error,
      at: new Date().toISOString(),
    });
  }

  #notifyIdle(): void {
    if (this.pending() > 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
