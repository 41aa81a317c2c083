import { TokenVaultError } from './errors.ts';
import type { SealContext } from './types.ts';

/** Shared by the KMS encryption context and the GCM AAD, so both bind the same purpose. */
export function encryptionContext(ctx: SealContext): Record<string, string> {
  if (typeof ctx?.connectionId !== 'string' || ctx.connectionId === '') {
    throw new TokenVaultError('invalid_input', 'seal context needs a non-empty connectionId');
  }
  if (typeof ctx.kind !== 'string' || ctx.kind === '') {
    throw new TokenVaultError('invalid_input', 'seal context needs a non-empty kind');
  }
  return { purpose: 'integration-token', connection_id: ctx.connectionId, kind: ctx.kind };
}

/** Sorted JSON pairs: unambiguous whatever characters the values contain. */
export function contextAad(context: Record<string, string>): Buffer {
  const pairs = Object.keys(context)
    .sort()
    .map((k) => [k, context[k]]);
  return Buffer.from(JSON.stringify(pairs), 'utf8');
}
