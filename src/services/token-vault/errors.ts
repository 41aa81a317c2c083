export type TokenVaultErrorCode =
  | 'invalid_input'
  | 'invalid_keyring'
  | 'unknown_key'
  | 'no_provider'
  | 'open_failed'
  | 'key_provider_failed';

/**
 * Messages are written by this module only and never carry plaintext or key bytes,
 * so callers may log them as they are.
 */
export class TokenVaultError extends Error {
  override name = 'TokenVaultError';
  readonly code: TokenVaultErrorCode;

  constructor(code: TokenVaultErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
