import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { contextAad, encryptionContext } from './context.ts';
import { TokenVaultError } from './errors.ts';
import type { KeyProvider, SealContext, SealedSecret } from './types.ts';

/** A data key fetched ahead of time: sealing with it needs no network and cannot fail on the key provider. */
export type PreparedSeal = {
  /** Seals once; the data key is wiped afterwards. */
  seal(plaintext: string): SealedSecret;
  /** Wipes the data key when it was not used. */
  discard(): void;
};

export type TokenVault = {
  seal(plaintext: string, ctx: SealContext): Promise<SealedSecret>;
  prepareSeal(ctx: SealContext): Promise<PreparedSeal>;
  open(sealed: SealedSecret, ctx: SealContext): Promise<string>;
  /** True when the row was sealed by another provider or key than the current one. */
  needsReseal(sealed: SealedSecret): boolean;
};

const IV_BYTES = 12;
const TAG_BYTES = 16;

export function createTokenVault(options: {
  keyProvider: KeyProvider;
  /** Providers that may still open older rows (e.g. the keyring while migrating to KMS); never used to seal. */
  fallbackProviders?: KeyProvider[];
}): TokenVault {
  const { keyProvider } = options;
  const providers = [keyProvider, ...(options.fallbackProviders ?? [])];

  function providerFor(sealed: SealedSecret): KeyProvider {
    const named = providers.filter((p) => p.name === sealed.keyProvider);
    const found = named.find((p) => p.current().keyId === sealed.keyId) ?? named[0];
    if (!found) {
      throw new TokenVaultError(
        'no_provider',
        `token was sealed by the '${sealed.keyProvider}' key provider, which is not configured`,
      );
    }
    return found;
  }

  async function prepareSeal(ctx: SealContext): Promise<PreparedSeal> {
    const context = encryptionContext(ctx);
    const dataKey = await keyProvider.generateDataKey(context);
    let used = false;
    return {
      seal(plaintext) {
        if (typeof plaintext !== 'string')
          throw new TokenVaultError('invalid_input', 'seal expects a string');
        if (used) throw new TokenVaultError('invalid_input', 'a prepared seal is used once');
        used = true;
        try {
          const iv = randomBytes(IV_BYTES);
          const cipher = createCipheriv('aes-256-gcm', dataKey.plaintextKey, iv, {
            authTagLength: TAG_BYTES,
          });
          cipher.setAAD(contextAad(context));
          const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
          return {
            ciphertext,
            iv,
            authTag: cipher.getAuthTag(),
            wrappedKey: dataKey.wrappedKey,
            keyProvider: keyProvider.name,
            keyId: dataKey.keyId,
            keyVersion: dataKey.keyVersion,
          };
        } finally {
          dataKey.plaintextKey.fill(0);
        }
      },
      discard() {
        used = true;
        dataKey.plaintextKey.fill(0);
      },
    };
  }

  return {
    async seal(plaintext, ctx) {
      if (typeof plaintext !== 'string') throw new TokenVaultError('invalid_input', 'seal expects a string');
      return (await prepareSeal(ctx)).seal(plaintext);
    },

    prepareSeal,

    async open(sealed, ctx) {
      const context = encryptionContext(ctx);
      if (
        !sealed ||
        !Buffer.isBuffer(sealed.ciphertext) ||
        !Buffer.isBuffer(sealed.wrappedKey) ||
        !Buffer.isBuffer(sealed.iv) ||
        sealed.iv.length !== IV_BYTES ||
        !Buffer.isBuffer(sealed.authTag) ||
        sealed.authTag.length !== TAG_BYTES
      ) {
        throw new TokenVaultError('invalid_input', 'sealed token is malformed (iv must be 12 bytes, tag 16)');
      }
      const provider = providerFor(sealed);
      const key = await provider.unwrapDataKey(
        { wrappedKey: sealed.wrappedKey, keyId: sealed.keyId, keyVersion: sealed.keyVersion },
        context,
      );
      let clear: Buffer | undefined;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(contextAad(context));
        decipher.setAuthTag(sealed.authTag);
        clear = decipher.update(sealed.ciphertext);
        decipher.final();
        return clear.toString('utf8');
      } catch {
        throw new TokenVaultError(
          'open_failed',
          'token did not authenticate (wrong context, key or tampered row)',
        );
      } finally {
        key.fill(0);
        clear?.fill(0);
      }
    },

    needsReseal(sealed) {
      const { keyId, keyVersion } = keyProvider.current();
      if (sealed.keyProvider !== keyProvider.name || sealed.keyId !== keyId) return true;
      // An empty current version means KMS has not named its key yet: the key id alone decides.
      return keyVersion !== '' && sealed.keyVersion !== keyVersion;
    },
  };
}
