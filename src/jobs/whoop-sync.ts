import type { Task } from 'graphile-worker';
import { z } from 'zod';
import type { WhoopSync } from '../services/whoop/sync/index.ts';
import { WHOOP_SYNC_TASK } from '../services/whoop/sync/requests.ts';

export { WHOOP_SYNC_TASK };

// Written by requestSync (src/services/whoop/sync/requests.ts): ids only, never a token. `requestId`:
// the HTTP request that asked for the sync (Sync now, the internal API, a new link), for the logs.
const payloadSchema = z.object({
  connectionId: z.number().int().positive(),
  runId: z.number().int().positive(),
  requestId: z.string().min(1).max(128).optional(),
});

// Idempotent: a run that already ended is skipped, a run left half done resumes where it stopped.
export function whoopSyncTask(deps: { whoopSync: Pick<WhoopSync, 'execute'> }): Task {
  return async (payload, helpers) => {
    const { runId, requestId } = payloadSchema.parse(payload);
    const outcome = await deps.whoopSync.execute(runId, {
      jobId: helpers.job.id,
      workerId: helpers.job.locked_by ?? undefined,
      requestId,
      signal: helpers.abortSignal,
    });
    helpers.logger.debug(`whoop sync run ${runId}: ${outcome}`);
  };
}
