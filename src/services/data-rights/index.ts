// Data rights: take everything out (export.ts) or remove it (erase.ts). Framework-free, wired once in
// src/services/index.ts as `dataRights`.
import type { AuthThrottle } from '../auth-throttle.ts';
import type { DatabasePool } from '../db/pool.ts';
import type { LogSink as Logger } from '../logger.ts';
import type { UserService } from '../users.ts';
import { createDataErasure, type ErasureDeps, type PasswordCheck } from './erase.ts';
import { createDataExport } from './export.ts';

export interface DataRightsDeps {
  pool: DatabasePool;
  logger: Logger;
  now: () => Date;
  users: Pick<UserService, 'findById' | 'authenticate'>;
  throttle: Pick<AuthThrottle, 'accountBlocked' | 'accountFailed' | 'accountSucceeded'>;
  whoop: { disconnect: ErasureDeps['disconnect'] };
  /** rows per export query; default in export.ts */
  exportPageSize?: number | undefined;
}

export function createDataRights(deps: DataRightsDeps) {
  const { users, throttle } = deps;

  /** The login's check and lockout: a stolen session cannot guess its way to deleting the account. */
  async function verifyPassword(input: { userId: number; password: string }): Promise<PasswordCheck> {
    const user = await users.findById(input.userId);
    if (!user) return { outcome: 'refused' };
    const block = await throttle.accountBlocked(user.email);
    if (!block.allowed) return { outcome: 'throttled', retryAfterSeconds: block.retryAfterSeconds };
    if (!input.password || !(await users.authenticate(user.email, input.password))) {
      await throttle.accountFailed(user.email);
      return { outcome: 'refused' };
    }
    await throttle.accountSucceeded(user.email);
    return { outcome: 'accepted' };
  }

  const exporter = createDataExport({ pool: deps.pool, now: deps.now, pageSize: deps.exportPageSize });
  const erasure = createDataErasure({
    pool: deps.pool,
    logger: deps.logger,
    disconnect: (input) => deps.whoop.disconnect(input),
    verifyPassword,
  });
  return {
    exportFileName: exporter.fileNameFor,
    streamExport: exporter.open,
    eraseWhoopData: erasure.eraseWhoopData,
    hasWhoopData: erasure.hasWhoopData,
    deleteAccount: erasure.deleteAccount,
  };
}

export type DataRights = ReturnType<typeof createDataRights>;
