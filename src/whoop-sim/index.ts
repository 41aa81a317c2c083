// A local WHOOP for development, QA and tests: OAuth, Data API v2, rate limits, webhooks and fault
// switches, plus a control API under /_sim. Never part of production.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { ConsentSettings } from './core.ts';
import { SimCore } from './core.ts';
import type { FaultSwitches } from './faults.ts';
import type { MemberHistory } from './generator.ts';
import type { ClientConfig, Grant } from './oauth-state.ts';
import type { RateLimitOptions } from './rate-limit.ts';
import type { RequestCounts } from './request-counts.ts';
import { buildServer, CONTROL_PREFIX } from './server.ts';
import type { CreateMemberOptions, DataEvent, MemberSummary, ResourceKind } from './store.ts';
import type { WebhookDelivery, WebhookOptions } from './webhooks.ts';

export type { ConsentSettings } from './core.ts';
export { DEFAULT_FAULTS, type FaultSwitches } from './faults.ts';
export { generateHistory, type MemberHistory, type NewMemberInput } from './generator.ts';
export type { ClientConfig, Grant } from './oauth-state.ts';
export type { RateLimitOptions } from './rate-limit.ts';
export type { RequestCounts } from './request-counts.ts';
export type { CreateMemberOptions, DataEvent, MemberSummary, ResourceKind } from './store.ts';
export {
  signWebhook,
  verifyWebhookSignature,
  type WebhookDelivery,
  type WebhookOptions,
} from './webhooks.ts';

export interface WhoopSimulatorOptions {
  /** default 127.0.0.1 */
  host?: string;
  /** default 0: a free port */
  port?: number;
  clients: ClientConfig[];
  /** default 3600, as documented */
  accessTokenTtlSeconds?: number;
  /** default 600 */
  codeTtlSeconds?: number;
  rateLimit?: RateLimitOptions;
  /** seeds the generated data and the seeded fault switches (default 1) */
  seed?: number;
  /** base clock (default Date.now); advanceTime adds to it */
  now?: () => number;
  webhooks?: WebhookOptions;
  /** moves data forward with the clock every N ms even without requests (default off) */
  tickIntervalMs?: number;
  /** false (default), true, Fastify logger options, or a pino instance */
  logger?: boolean | object;
  /** pass process.env.NODE_ENV: the simulator refuses to start in production */
  nodeEnv?: string | undefined;
}

export interface WhoopSimulator {
  url: string;
  /** `${url}/oauth/oauth2`: authorize at `/auth`, tokens at `/token` */
  oauthBaseUrl: string;
  /** `${url}/developer`: the Data API base, as `https://api.prod.whoop.com/developer` */
  apiBaseUrl: string;
  /** `${url}/_sim` */
  controlUrl: string;
  port: number;
  server: FastifyInstance;
  close(): Promise<void>;
  now(): number;
  createMember(options?: CreateMemberOptions): MemberSummary;
  members(): MemberSummary[];
  advanceTime(ms: number): { now: number; events: DataEvent[] };
  groundTruth(userId: number): MemberHistory;
  rescore(userId: number, kind: ResourceKind, id: string): DataEvent[];
  grow(userId: number, kind: ResourceKind, id: string, ms: number): DataEvent[];
  editRecord(userId: number, kind: ResourceKind, id: string, patch: Record<string, unknown>): DataEvent[];
  /** Serves the record broken as `patch` says (no validation): hostile-input tests. */
  corruptRecord(userId: number, kind: ResourceKind, id: string, patch: Record<string, unknown>): DataEvent[];
  deleteRecord(userId: number, kind: ResourceKind, id: string): DataEvent[];
  revokeAccess(userId: number, clientId?: string): number;
  faults(): FaultSwitches;
  setFaults(patch: Partial<FaultSwitches>): FaultSwitches;
  resetFaults(): FaultSwitches;
  setConsent(patch: Partial<ConsentSettings>): ConsentSettings;
  addClient(client: ClientConfig): void;
  updateClient(clientId: string, patch: Partial<Omit<ClientConfig, 'clientId'>>): ClientConfig | undefined;
  grants(): Grant[];
  requestCounts(): RequestCounts;
  resetRequestCounts(): void;
  resetRateLimits(): void;
  webhookDeliveries(): WebhookDelivery[];
  /** resolves once every queued webhook delivery and retry has finished */
  webhooksIdle(): Promise<void>;
}

export async function startWhoopSimulator(options: WhoopSimulatorOptions): Promise<WhoopSimulator> {
  if (options.nodeEnv === 'production') {
    throw new Error('The WHOOP simulator is a development tool and does not start when NODE_ENV=production.');
  }
  const core = new SimCore(options);
  const server = await buildServer(core, options.logger ?? false);
  const host = options.host ?? '127.0.0.1';
  await server.listen({ host, port: options.port ?? 0 });
  const { port } = server.server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const timer =
    options.tickIntervalMs && options.tickIntervalMs > 0
      ? setInterval(() => core.sync(), options.tickIntervalMs).unref()
      : undefined;
  let closing: Promise<void> | undefined;
  return {
    url,
    oauthBaseUrl: `${url}/oauth/oauth2`,
    apiBaseUrl: `${url}/developer`,
    controlUrl: `${url}${CONTROL_PREFIX}`,
    port,
    server,
    close() {
      if (timer) clearInterval(timer);
      closing ??= server.close();
      return closing;
    },
    now: () => core.now(),
    createMember: (o) => core.createMember(o),
    members: () => core.members(),
    advanceTime: (ms) => core.advanceTime(ms),
    groundTruth: (userId) => core.groundTruth(userId),
    rescore: (userId, kind, id) => core.rescore(userId, kind, id),
    grow: (userId, kind, id, ms) => core.grow(userId, kind, id, ms),
    editRecord: (userId, kind, id, patch) => core.editRecord(userId, kind, id, patch),
    corruptRecord: (userId, kind, id, patch) => core.corruptRecord(userId, kind, id, patch),
    deleteRecord: (userId, kind, id) => core.deleteRecord(userId, kind, id),
    revokeAccess: (userId, clientId) => core.revokeAccess(userId, clientId),
    faults: () => core.faults.get(),
    setFaults: (patch) => core.setFaults(patch),
    resetFaults: () => core.faults.reset(),
    setConsent: (patch) => core.setConsent(patch),
    addClient: (client) => core.oauth.addClient(client),
    updateClient: (clientId, patch) => core.oauth.updateClient(clientId, patch),
    grants: () => core.oauth.grants(),
    requestCounts: () => core.requestCounts(),
    resetRequestCounts: () => core.counts.reset(),
    resetRateLimits: () => core.rateLimiter.reset(),
    webhookDeliveries: () => core.webhookDeliveries(),
    webhooksIdle: () => core.webhooks.idle(),
  };
}
