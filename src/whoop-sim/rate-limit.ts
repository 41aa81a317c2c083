// WHOOP limits each app (all of its users together) per minute and per day. Windows start at the
// first request after the previous one expired and follow the simulator clock, so a test can
// compress them (minuteWindowMs) or jump past them (advance time).

export interface RateLimitOptions {
  perMinute?: number | undefined;
  perDay?: number | undefined;
  minuteWindowMs?: number | undefined;
  dayWindowMs?: number | undefined;
  /** false: never answer 429 (headers are still sent) */
  enabled?: boolean | undefined;
}

export interface RateLimitResult {
  allowed: boolean;
  headers: Record<string, string>;
}

interface Window {
  limit: number;
  ms: number;
  start: number;
  count: number;
}

export class RateLimiter {
  readonly #options: Required<RateLimitOptions>;
  readonly #clients = new Map<string, { minute: Window; day: Window }>();

  constructor(options: RateLimitOptions = {}) {
    this.#options = {
      perMinute: options.perMinute ?? 100,
      perDay: options.perDay ?? 10_000,
      minuteWindowMs: options.minuteWindowMs ?? 60_000,
      dayWindowMs: options.dayWindowMs ?? 86_400_000,
      enabled: options.enabled ?? true,
    };
  }

  /** Counts one request of `clientId` at `now` unless a window is spent. */
  consume(clientId: string, now: number): RateLimitResult {
    const windows = this.#windows(clientId, now);
    const spent = [windows.minute, windows.day].find((w) => w.count >= w.limit);
    if (spent && this.#options.enabled)
      return { allowed: false, headers: this.#headers(windows, now, spent) };
    windows.minute.count++;
    windows.day.count++;
    return { allowed: true, headers: this.#headers(windows, now) };
  }

  state(
    now: number,
  ): Record<string, { minute: { used: number; limit: number }; day: { used: number; limit: number } }> {
    const out: ReturnType<RateLimiter['state']> = {};
    for (const clientId of this.#clients.keys()) {
      const { minute, day } = this.#windows(clientId, now);
      out[clientId] = {
        minute: { used: minute.count, limit: minute.limit },
        day: { used: day.count, limit: day.limit },
      };
    }
    return out;
  }

  reset(): void {
    this.#clients.clear();
  }

  #windows(clientId: string, now: number) {
    let entry = this.#clients.get(clientId);
    if (!entry) {
      const o = this.#options;
      entry = {
        minute: { limit: o.perMinute, ms: o.minuteWindowMs, start: now, count: 0 },
        day: { limit: o.perDay, ms: o.dayWindowMs, start: now, count: 0 },
      };
      this.#clients.set(clientId, entry);
    }
    for (const w of [entry.minute, entry.day]) {
      if (now >= w.start + w.ms || now < w.start) {
        w.start = now;
        w.count = 0;
      }
    }
    return entry;
  }

  #headers(windows: { minute: Window; day: Window }, now: number, spent?: Window): Record<string, string> {
    const { minute, day } = windows;
    // the first number is the window closest to exhaustion
    const closest = spent ?? (day.limit - day.count < minute.limit - minute.count ? day : minute);
    const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
    return {
      'x-ratelimit-limit': `${closest.limit}, ${minute.limit};window=${seconds(minute.ms)}, ${day.limit};window=${seconds(day.ms)}`,
      'x-ratelimit-remaining': String(Math.max(0, closest.limit - closest.count)),
      'x-ratelimit-reset': String(seconds(closest.start + closest.ms - now)),
    };
  }
}
