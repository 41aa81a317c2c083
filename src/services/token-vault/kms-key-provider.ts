import {
  DecryptCommand,
  DescribeKeyCommand,
  GenerateDataKeyCommand,
  type GenerateDataKeyCommandOutput,
  KMSClient,
  type KMSClientConfig,
} from '@aws-sdk/client-kms';
import { TokenVaultError } from './errors.ts';
import type { KeyProvider } from './types.ts';

export type KmsKeyProviderOptions = {
  /** Key id, ARN or alias from `KMS_KEY_ID`; recorded as the row's key_id. */
  keyId: string;
  region?: string;
  endpoint?: string;
  /** Omit to use the SDK's default chain (instance role, profile). */
  credentials?: KMSClientConfig['credentials'];
  /** A caller-owned client; `destroy()` leaves it open. */
  client?: KMSClient;
};

export type KmsKeyProvider = KeyProvider & {
  /** Asks KMS which key ARN the configured id names now, so needsReseal can see a re-pointed alias. */
  resolveCurrent(): Promise<{ keyId: string; keyVersion: string }>;
  destroy(): void;
};

/** Only the SDK error's name and message: its request/response objects may hold key blobs. */
function providerError(action: string, err: unknown): TokenVaultError {
  const name = err instanceof Error ? err.name : 'Error';
  const message = err instanceof Error ? err.message : String(err);
  if (name === 'InvalidCiphertextException' || name === 'IncorrectKeyException') {
    return new TokenVaultError(
      'open_failed',
      `KMS refused to decrypt the data key (${name}): wrong context, key or tampered row`,
    );
  }
  if (name === 'NotFoundException')
    return new TokenVaultError('unknown_key', `KMS ${action}: ${name}: ${message}`);
  return new TokenVaultError('key_provider_failed', `KMS ${action} failed: ${name}: ${message}`);
}

function toBuffer(bytes: Uint8Array): Buffer {
  // A view, not a copy, so zeroing the returned key zeroes the SDK's bytes too.
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function createKmsKeyProvider(options: KmsKeyProviderOptions): KmsKeyProvider {
  const { keyId } = options;
  if (typeof keyId !== 'string' || keyId === '') {
    throw new TokenVaultError('invalid_input', 'KMS key provider needs a key id (KMS_KEY_ID)');
  }
  const client =
    options.client ??
    new KMSClient({
      ...(options.region ? { region: options.region } : {}),
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
    });
  // The ARN KMS last answered with: an alias re-pointed to a new key changes it, which is what rotation looks for.
  let lastArn = '';

  return {
    name: 'kms',
    current: () => ({ keyId, keyVersion: lastArn }),

    async generateDataKey(context) {
      let out: GenerateDataKeyCommandOutput;
      try {
        out = await client.send(
          new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context }),
        );
      } catch (err) {
        throw providerError('GenerateDataKey', err);
      }
      if (out.Plaintext?.length !== 32 || !out.CiphertextBlob || !out.KeyId) {
        out.Plaintext?.fill(0);
        throw new TokenVaultError('key_provider_failed', 'KMS GenerateDataKey returned an incomplete answer');
      }
      lastArn = out.KeyId;
      return {
        plaintextKey: toBuffer(out.Plaintext),
        wrappedKey: Buffer.from(out.CiphertextBlob),
        keyId,
        keyVersion: out.KeyId,
      };
    },

    async unwrapDataKey(input, context) {
      let plaintext: Uint8Array | undefined;
      try {
        // The recorded ARN pins the exact key; KMS refuses a blob made under any other.
        const out = await client.send(
          new DecryptCommand({
            KeyId: input.keyVersion || input.keyId,
            CiphertextBlob: input.wrappedKey,
            EncryptionContext: context,
          }),
        );
        plaintext = out.Plaintext;
      } catch (err) {
        throw providerError('Decrypt', err);
      }
      if (plaintext?.length !== 32) {
        plaintext?.fill(0);
        throw new TokenVaultError('key_provider_failed', 'KMS Decrypt returned no 32-byte data key');
      }
      return toBuffer(plaintext);
    },

    async resolveCurrent() {
      let arn: string | undefined;
      try {
        arn = (await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.Arn;
      } catch (err) {
        throw providerError('DescribeKey', err);
      }
      if (!arn) throw new TokenVaultError('key_provider_failed', 'KMS DescribeKey returned no key ARN');
      lastArn = arn;
      return { keyId, keyVersion: arn };
    },

    destroy() {
      if (!options.client) client.destroy();
    },
  };
}
