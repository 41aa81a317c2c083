import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { contextAad } from './context.ts';
import { TokenVaultError } from './errors.ts';
import type { KeyProvider } from './types.ts';

export type KeyringKey = { version: string; key: Buffer };

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION_RE = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Parses `TOKEN_ENCRYPTION_KEYS`: `version:base64key[,version:base64key...]`, the first is current.
 * Errors name the entry and version only, never the key text.
 */
export function parseKeyring(spec: string): KeyringKey[] {
  if (typeof spec !== 'string' || spec.trim() === '') {
    throw new TokenVaultError('invalid_keyring', 'TOKEN_ENCRYPTION_KEYS is empty');
  }
  const keys: KeyringKey[] = [];
  for (const [i, raw] of spec.split(',').entries()) {
    const where = `TOKEN_ENCRYPTION_KEYS entry ${i + 1}`;
    const entry = raw.trim();
    const colon = entry.indexOf(':');
    if (colon < 0) throw new TokenVaultError('invalid_keyring', `${where} is not version:base64key`);
    const version = entry.slice(0, colon);
    const encoded = entry.slice(colon + 1);
    if (!VERSION_RE.test(version)) {
      throw new TokenVaultError('invalid_keyring', `${where}: version must match ${VERSION_RE.source}`);
    }
    if (keys.some((k) => k.version === version)) {
      throw new TokenVaultError('invalid_keyring', `${where}: duplicate version '${version}'`);
    }
    if (!BASE64_RE.test(encoded)) {
      throw new TokenVaultError(
        'invalid_keyring',
        `${where} (version '${version}'): key is not valid base64`,
      );
    }
    const key = Buffer.from(encoded, 'base64');
    if (key.length !== KEY_BYTES) {
      throw new TokenVaultError(
        'invalid_keyring',
        `${where} (version '${version}'): key is ${key.length} bytes, expected ${KEY_BYTES}`,
      );
    }
    keys.push({ version, key });
  }
  return keys;
}

/** A fresh `version:base64key` entry; the version defaults to a UTC timestamp so entries sort by age. */
export function generateKeyringKey(version?: string): string {
  const v =
    version ??
    new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
  if (!VERSION_RE.test(v)) {
    throw new TokenVaultError('invalid_keyring', `keyring version must match ${VERSION_RE.source}`);
  }
  return `${v}:${randomBytes(KEY_BYTES).toString('base64')}`;
}

export function createKeyringKeyProvider(options: { keys: KeyringKey[]; keyId?: string }): KeyProvider {
  const keyId = options.keyId ?? 'local';
  const current = options.keys[0];
  if (!current) throw new TokenVaultError('invalid_keyring', 'keyring has no keys');
  // Own copies: the caller's buffers may be zeroed or reused.
  const byVersion = new Map<string, Buffer>();
  for (const { version, key } of options.keys) {
    if (key.length !== KEY_BYTES) {
      throw new TokenVaultError('invalid_keyring', `keyring version '${version}' is not ${KEY_BYTES} bytes`);
    }
    if (byVersion.has(version)) {
      throw new TokenVaultError('invalid_keyring', `keyring version '${version}' appears twice`);
    }
    byVersion.set(version, Buffer.from(key));
  }

  return {
    name: 'keyring',
    current: () => ({ keyId, keyVersion: current.version }),

    async generateDataKey(context) {
      const kek = byVersion.get(current.version) as Buffer;
      const plaintextKey = randomBytes(KEY_BYTES);
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', kek, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(contextAad(context));
      const encrypted = Buffer.concat([cipher.update(plaintextKey), cipher.final()]);
      const wrappedKey = Buffer.concat([iv, cipher.getAuthTag(), encrypted]);
      return { plaintextKey, wrappedKey, keyId, keyVersion: current.version };
    },

    async unwrapDataKey(input, context) {
      if (input.keyId !== keyId) {
        throw new TokenVaultError(
          'unknown_key',
          `keyring '${keyId}' cannot open keys of keyring '${input.keyId}'`,
        );
      }
      const kek = byVersion.get(input.keyVersion);
      if (!kek) {
        throw new TokenVaultError(
          'unknown_key',
          `keyring version '${input.keyVersion}' is not in TOKEN_ENCRYPTION_KEYS (was it removed before rotation?)`,
        );
      }
      const { wrappedKey } = input;
      if (wrappedKey.length !== IV_BYTES + TAG_BYTES + KEY_BYTES) {
        throw new TokenVaultError('open_failed', 'wrapped data key has the wrong length');
      }
      const decipher = createDecipheriv('aes-256-gcm', kek, wrappedKey.subarray(0, IV_BYTES), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(contextAad(context));
      decipher.setAuthTag(wrappedKey.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      // GCM releases every byte from update(); final() only checks the tag.
      const dataKey = decipher.update(wrappedKey.subarray(IV_BYTES + TAG_BYTES));
      try {
        decipher.final();
        return dataKey;
      } catch {
        dataKey.fill(0);
        throw new TokenVaultError(
          'open_failed',
          'data key did not authenticate (wrong context, key or tampered row)',
        );
      }
    },
  };
}
