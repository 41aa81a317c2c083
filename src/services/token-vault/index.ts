export { TokenVaultError, type TokenVaultErrorCode } from './errors.ts';
export {
  createKeyringKeyProvider,
  generateKeyringKey,
  type KeyringKey,
  parseKeyring,
} from './keyring-key-provider.ts';
export { createKmsKeyProvider, type KmsKeyProvider, type KmsKeyProviderOptions } from './kms-key-provider.ts';
export type { DataKey, KeyProvider, SealContext, SealedSecret } from './types.ts';
export { createTokenVault, type PreparedSeal, type TokenVault } from './vault.ts';
