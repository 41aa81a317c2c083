// Builds the token vault from the configuration: AWS KMS when KMS_KEY_ID is set (with the keyring,
// if also set, kept as a fallback that can still open older rows), else the local keyring.
import type { Config } from '../config.ts';
import {
  createKeyringKeyProvider,
  createKmsKeyProvider,
  createTokenVault,
  type KeyProvider,
  type KmsKeyProvider,
  parseKeyring,
  type TokenVault,
  TokenVaultError,
} from './token-vault/index.ts';

/** The id recorded for keyring-sealed rows; the dev key uses it too, so it can later join TOKEN_ENCRYPTION_KEYS. */
export const KEYRING_KEY_ID = 'local';

export interface TokenKeys {
  readonly vault: TokenVault;
  /** The provider new seals use; undefined when none is configured (every seal/open then fails). */
  readonly current: KeyProvider | undefined;
  /** Asks KMS which key ARN the configured id names now (no-op for the keyring). */
  resolveCurrent(): Promise<{ provider: 'kms' | 'keyring'; keyId: string; keyVersion: string }>;
  close(): void;
}

function isKms(provider: KeyProvider): provider is KmsKeyProvider {
  return provider.name === 'kms' && 'resolveCurrent' in provider;
}

export function createTokenKeys(options: {
  keyProvider?: KeyProvider;
  fallbackProviders?: KeyProvider[];
}): TokenKeys {
  const current = options.keyProvider;
  const unavailable = () => {
    throw new TokenVaultError(
      'no_provider',
      'no token key provider is configured (set KMS_KEY_ID or TOKEN_ENCRYPTION_KEYS)',
    );
  };
  const vault: TokenVault = current
    ? createTokenVault({ keyProvider: current, fallbackProviders: options.fallbackProviders ?? [] })
    : {
        seal: async () => unavailable(),
        prepareSeal: async () => unavailable(),
        open: async () => unavailable(),
        needsReseal: () => unavailable(),
      };
  return {
    vault,
    current,
    async resolveCurrent() {
      if (!current) return unavailable();
      const resolved = isKms(current) ? await current.resolveCurrent() : current.current();
      return { provider: current.name, ...resolved };
    },
    close() {
      for (const provider of [current, ...(options.fallbackProviders ?? [])]) {
        if (provider && isKms(provider)) provider.destroy();
      }
    },
  };
}

/** What the web side may know of the token keys: never seal or open, only whether new tokens can be sealed. */
export interface TokenCryptoStatus {
  /** what seals new tokens; undefined: no provider is configured, and linking WHOOP would fail */
  readonly provider: 'kms' | 'keyring' | undefined;
  readonly ready: boolean;
}

export function tokenCryptoStatus(keys: TokenKeys): TokenCryptoStatus {
  return Object.freeze({ provider: keys.current?.name, ready: keys.current !== undefined });
}

/**
 * From the config; `devKeyringSpec` is the key main generates under the data dir outside production
 * when neither provider is configured.
 */
export function createTokenKeysFromConfig(
  encryption: Config['tokenEncryption'],
  options: { devKeyringSpec?: string | undefined } = {},
): TokenKeys {
  const keyringSpec = encryption.keyringSpec ?? options.devKeyringSpec;
  const keyring = keyringSpec
    ? createKeyringKeyProvider({ keys: parseKeyring(keyringSpec), keyId: KEYRING_KEY_ID })
    : undefined;
  if (encryption.kmsKeyId) {
    const kms = createKmsKeyProvider({
      keyId: encryption.kmsKeyId,
      region: encryption.awsRegion,
      endpoint: encryption.kmsEndpoint,
    });
    return createTokenKeys({ keyProvider: kms, fallbackProviders: keyring ? [keyring] : [] });
  }
  return createTokenKeys({ keyProvider: keyring });
}
