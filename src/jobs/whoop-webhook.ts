import type { Task } from 'graphile-worker';
import { z } from 'zod';
import type { WhoopSync } from '../services/whoop/sync/index.ts';
import { WHOOP_WEBHOOK_TASK } from '../services/whoop/sync/webhooks.ts';

export { WHOOP_WEBHOOK_TASK };

// Written by the webhook receiver (src/services/whoop/sync/webhooks.ts): a connection id, never a token.
const payloadSchema = z.object({ connectionId: z.number().int().positive() });

// Idempotent: it processes whatever events of the connection are still pending; none left is a no-op.
export function whoopWebhookTask(deps: { whoopSync: Pick<WhoopSync, 'webhooks'> }): Task {
  return async (payload, helpers) => {
    const { connectionId } = payloadSchema.parse(payload);
    const { processed } = await deps.whoopSync.webhooks.processConnection(connectionId, {
      signal: helpers.abortSignal,
    });
    helpers.logger.debug(`whoop webhooks of connection ${connectionId}: ${processed} processed`);
  };
}
