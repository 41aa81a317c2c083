// The control API (JSON, under /_sim): what tests and demos use to shape the simulated WHOOP.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { SimCore } from './core.ts';
import { RESOURCE_KINDS, SimError } from './store.ts';

const memberBody = z.strictObject({
  email: z.string().optional(),
  firstName: z.string().optional(),
  lastName: z.string().optional(),
  days: z.number().int().min(1).max(3650).optional(),
  timezoneOffset: z.string().optional(),
  seed: z.number().int().optional(),
  withNaps: z.boolean().optional(),
  withBody: z.boolean().optional(),
  inProgress: z.boolean().optional(),
});

const clientBody = z.strictObject({
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  redirectUris: z.array(z.url()).min(1),
  webhookUrl: z.url().optional(),
  name: z.string().optional(),
});

const clientPatch = clientBody
  .omit({ clientId: true })
  .partial()
  .extend({ webhookUrl: z.url().nullable().optional() });

const consentBody = z.strictObject({
  defaultUserId: z.number().int().nullable().optional(),
  autoApprove: z.enum(['grant', 'deny']).nullable().optional(),
});

const recordParams = z.object({
  userId: z.coerce.number().int(),
  kind: z.enum(RESOURCE_KINDS),
  id: z.string().min(1),
});

const userParams = z.object({ userId: z.coerce.number().int() });

export function controlRoutes(core: SimCore) {
  return async (app: FastifyInstance) => {
    app.setErrorHandler((err, _request, reply) => {
      if (err instanceof SimError) return reply.code(err.statusCode).send({ error: err.message });
      if (err instanceof z.ZodError)
        return reply.code(400).send({ error: 'invalid request', issues: err.issues });
      if (err instanceof RangeError) return reply.code(400).send({ error: err.message });
      const status = (err as { statusCode?: number }).statusCode ?? 500;
      return reply.code(status).send({ error: (err as Error).message });
    });

    app.get('/state', async () => ({
      now: new Date(core.now()).toISOString(),
      members: core.members(),
      clients: core.oauth.clients().map(({ clientSecret: _secret, ...rest }) => rest),
      consent: core.consent,
      faults: core.faults.get(),
      hungRequests: core.hung.size,
      pendingWebhooks: core.webhooks.pending(),
    }));

    app.get('/time', async () => ({ now: new Date(core.now()).toISOString() }));
    app.post('/time/advance', async (request) => {
      const { ms } = z.strictObject({ ms: z.number().min(0) }).parse(request.body);
      const result = core.advanceTime(ms);
      return { now: new Date(result.now).toISOString(), events: result.events };
    });

    app.get('/members', async () => core.members());
    app.post('/members', async (request, reply) => {
      const member = core.createMember(memberBody.parse(request.body ?? {}));
      return reply.code(201).send(member);
    });
    app.get('/members/:userId', async (request) =>
      core.store.summary(userParams.parse(request.params).userId),
    );
    app.get('/members/:userId/truth', async (request) =>
      core.groundTruth(userParams.parse(request.params).userId),
    );
    app.post('/members/:userId/revoke', async (request) => {
      const { userId } = userParams.parse(request.params);
      const { clientId } = z.strictObject({ clientId: z.string().optional() }).parse(request.body ?? {});
      return { revokedGrants: core.revokeAccess(userId, clientId) };
    });

    app.post('/members/:userId/records/:kind/:id/rescore', async (request) => {
      const { userId, kind, id } = recordParams.parse(request.params);
      return { events: core.rescore(userId, kind, id) };
    });
    app.post('/members/:userId/records/:kind/:id/grow', async (request) => {
      const { userId, kind, id } = recordParams.parse(request.params);
      const { ms } = z.strictObject({ ms: z.number().positive() }).parse(request.body ?? {});
      return { events: core.grow(userId, kind, id, ms) };
    });
    app.patch('/members/:userId/records/:kind/:id', async (request) => {
      const { userId, kind, id } = recordParams.parse(request.params);
      const patch = z.record(z.string(), z.unknown()).parse(request.body);
      return { events: core.editRecord(userId, kind, id, patch) };
    });
    app.delete('/members/:userId/records/:kind/:id', async (request) => {
      const { userId, kind, id } = recordParams.parse(request.params);
      return { events: core.deleteRecord(userId, kind, id) };
    });

    app.get('/faults', async () => core.faults.get());
    app.patch('/faults', async (request) => core.setFaults(request.body as never));
    app.delete('/faults', async () => core.faults.reset());

    app.get('/requests', async () => core.requestCounts());
    app.delete('/requests', async (_request, reply) => {
      core.counts.reset();
      return reply.code(204).send();
    });

    app.get('/rate-limit', async () => core.rateLimiter.state(core.now()));
    app.delete('/rate-limit', async (_request, reply) => {
      core.rateLimiter.reset();
      return reply.code(204).send();
    });

    app.get('/clients', async () => core.oauth.clients());
    app.post('/clients', async (request, reply) => {
      const client = clientBody.parse(request.body);
      if (core.oauth.client(client.clientId)) throw new SimError(409, `client ${client.clientId} exists`);
      core.oauth.addClient(client);
      return reply.code(201).send(client);
    });
    app.patch('/clients/:clientId', async (request) => {
      const { clientId } = z.object({ clientId: z.string() }).parse(request.params);
      const { webhookUrl, ...rest } = clientPatch.parse(request.body ?? {});
      // null switches webhooks off for this client
      const hook = webhookUrl === undefined ? {} : { webhookUrl: webhookUrl ?? '' };
      const updated = core.oauth.updateClient(clientId, { ...rest, ...hook });
      if (!updated) throw new SimError(404, `no client ${clientId}`);
      return updated;
    });
    app.get('/grants', async () => core.oauth.grants());

    app.get('/consent', async () => core.consent);
    app.put('/consent', async (request) => core.setConsent(consentBody.parse(request.body ?? {})));

    app.get('/webhooks', async () => ({
      pending: core.webhooks.pending(),
      deliveries: core.webhookDeliveries(),
    }));
    // answers once every queued delivery and retry has finished: a test's synchronisation point
    app.post('/webhooks/wait', async () => {
      await core.webhooks.idle();
      return { pending: core.webhooks.pending(), deliveries: core.webhookDeliveries() };
    });
  };
}
