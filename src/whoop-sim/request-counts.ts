/** Requests received per endpoint pattern ("GET /developer/v2/cycle/:cycleId") and client id. */
export type RequestCounts = Record<string, Record<string, number>>;

export const UNKNOWN_CLIENT = '-';

export class RequestCounter {
  #counts = new Map<string, Map<string, number>>();

  count(endpoint: string, clientId: string | undefined): void {
    const byClient = this.#counts.get(endpoint) ?? new Map<string, number>();
    const key = clientId ?? UNKNOWN_CLIENT;
    byClient.set(key, (byClient.get(key) ?? 0) + 1);
    this.#counts.set(endpoint, byClient);
  }

  snapshot(): RequestCounts {
    const out: RequestCounts = {};
    for (const [endpoint, byClient] of this.#counts) out[endpoint] = Object.fromEntries(byClient);
    return out;
  }

  reset(): void {
    this.#counts = new Map();
  }
}
