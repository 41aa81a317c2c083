/** What the `integration_token` row stores; never the plaintext. */
export type SealedSecret = {
  ciphertext: Buffer;
  iv: Buffer;
  authTag: Buffer;
  wrappedKey: Buffer;
  keyProvider: 'kms' | 'keyring';
  keyId: string;
  keyVersion: string;
};

/** The purpose a ciphertext is bound to: opening it under any other context fails. */
export type SealContext = {
  connectionId: string;
  kind: 'access' | 'refresh' | string;
};

export type DataKey = {
  plaintextKey: Buffer;
  wrappedKey: Buffer;
  keyId: string;
  keyVersion: string;
};

export type KeyProvider = {
  name: 'kms' | 'keyring';
  /** The key new seals use. A KMS provider reports keyVersion '' until the service has named its key ARN. */
  current(): { keyId: string; keyVersion: string };
  generateDataKey(context: Record<string, string>): Promise<DataKey>;
  unwrapDataKey(
    input: { wrappedKey: Buffer; keyId: string; keyVersion: string },
    context: Record<string, string>,
  ): Promise<Buffer>;
};
