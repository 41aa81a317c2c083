import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local AWS KMS (GenerateDataKey, Encrypt, Decrypt, DescribeKey) speaking the JSON 1.1 protocol
 * well enough for the real @aws-sdk/client-kms.
 * Ciphertext blobs are `0x01 | len(keyId) | keyId | iv | tag | sealed`, with the encryption
 * context as AAD, so Decrypt finds the key from the blob and a different context fails.
 */
export type KmsCall = {
  target: string;
  keyId: string | undefined;
  encryptionContext: Record<string, string>;
};

export type LocalKms = {
  endpoint: string;
  calls: KmsCall[];
  arnOf(keyId: string): string;
  /** The next `count` calls of `target` (e.g. GenerateDataKey) fail as an unavailable KMS key would. */
  failNext(target: string, count: number): void;
  close(): Promise<void>;
};

const ARN_PREFIX = 'arn:aws:kms:us-east-1:000000000000:key/';
const JSON_TYPE = 'application/x-amz-json-1.1';

class KmsFault extends Error {
  readonly type: string;
  constructor(type: string, message: string) {
    super(message);
    this.type = type;
  }
}

function aad(context: Record<string, string>): Buffer {
  return Buffer.from(
    JSON.stringify(
      Object.keys(context)
        .sort()
        .map((k) => [k, context[k]]),
    ),
  );
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': JSON_TYPE, 'x-amzn-requestid': randomBytes(8).toString('hex') });
  res.end(JSON.stringify(body));
}

export async function startLocalKms(options: { keys?: string[] } = {}): Promise<LocalKms> {
  const keys = new Map<string, Buffer>();
  for (const id of options.keys ?? ['test-key']) keys.set(id, randomBytes(32));
  const calls: KmsCall[] = [];
  const failing = new Map<string, number>();

  function keyFor(keyId: unknown): { id: string; key: Buffer } {
    if (typeof keyId !== 'string' || keyId === '')
      throw new KmsFault('ValidationException', 'KeyId is required');
    const id = keyId.startsWith(ARN_PREFIX) ? keyId.slice(ARN_PREFIX.length) : keyId;
    const key = keys.get(id);
    if (!key) throw new KmsFault('NotFoundException', `Key '${ARN_PREFIX}${id}' does not exist`);
    return { id, key };
  }

  function context(body: Record<string, unknown>): Record<string, string> {
    const ctx = body.EncryptionContext ?? {};
    if (typeof ctx !== 'object' || ctx === null || Object.values(ctx).some((v) => typeof v !== 'string')) {
      throw new KmsFault('ValidationException', 'EncryptionContext must map strings to strings');
    }
    return ctx as Record<string, string>;
  }

  function blob(value: unknown, name: string): Buffer {
    if (typeof value !== 'string') throw new KmsFault('ValidationException', `${name} is required`);
    return Buffer.from(value, 'base64');
  }

  function encrypt(id: string, key: Buffer, plaintext: Buffer, ctx: Record<string, string>): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(aad(ctx));
    const sealed = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const idBytes = Buffer.from(id, 'utf8');
    return Buffer.concat([Buffer.from([1, idBytes.length]), idBytes, iv, cipher.getAuthTag(), sealed]);
  }

  function decrypt(data: Buffer, ctx: Record<string, string>, requestedKeyId: unknown) {
    const idLen = data[1] ?? 0;
    if (data[0] !== 1 || data.length < 2 + idLen + 28) {
      throw new KmsFault('InvalidCiphertextException', 'The ciphertext is not a valid KMS ciphertext blob');
    }
    const embedded = data.subarray(2, 2 + idLen).toString('utf8');
    const { id, key } = keyFor(embedded);
    if (requestedKeyId !== undefined && keyFor(requestedKeyId).id !== id) {
      throw new KmsFault(
        'IncorrectKeyException',
        'The key ID in the request does not identify the key that encrypted it',
      );
    }
    const at = 2 + idLen;
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(at, at + 12));
    decipher.setAAD(aad(ctx));
    decipher.setAuthTag(data.subarray(at + 12, at + 28));
    try {
      return { id, plaintext: Buffer.concat([decipher.update(data.subarray(at + 28)), decipher.final()]) };
    } catch {
      // Real KMS gives no detail either: context mismatch and tampering look the same.
      throw new KmsFault('InvalidCiphertextException', '');
    }
  }

  const operations: Record<string, (body: Record<string, unknown>) => Record<string, unknown>> = {
    GenerateDataKey(body) {
      const { id, key } = keyFor(body.KeyId);
      const size = body.KeySpec === 'AES_128' ? 16 : body.KeySpec === 'AES_256' ? 32 : body.NumberOfBytes;
      if (typeof size !== 'number' || size < 1 || size > 1024) {
        throw new KmsFault('ValidationException', 'KeySpec or NumberOfBytes is required');
      }
      const plaintext = randomBytes(size);
      return {
        KeyId: ARN_PREFIX + id,
        Plaintext: plaintext.toString('base64'),
        CiphertextBlob: encrypt(id, key, plaintext, context(body)).toString('base64'),
      };
    },
    Encrypt(body) {
      const { id, key } = keyFor(body.KeyId);
      const plaintext = blob(body.Plaintext, 'Plaintext');
      return {
        KeyId: ARN_PREFIX + id,
        CiphertextBlob: encrypt(id, key, plaintext, context(body)).toString('base64'),
        EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      };
    },
    DescribeKey(body) {
      const { id } = keyFor(body.KeyId);
      return {
        KeyMetadata: {
          AWSAccountId: '000000000000',
          KeyId: id,
          Arn: ARN_PREFIX + id,
          Enabled: true,
          KeyState: 'Enabled',
          KeyUsage: 'ENCRYPT_DECRYPT',
          KeySpec: 'SYMMETRIC_DEFAULT',
          CreationDate: 1_700_000_000,
        },
      };
    },
    Decrypt(body) {
      const { id, plaintext } = decrypt(
        blob(body.CiphertextBlob, 'CiphertextBlob'),
        context(body),
        body.KeyId,
      );
      return {
        KeyId: ARN_PREFIX + id,
        Plaintext: plaintext.toString('base64'),
        EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      };
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    try {
      if (req.method !== 'POST' || req.url !== '/')
        throw new KmsFault('UnknownOperationException', 'POST / only');
      if (!String(req.headers['content-type']).startsWith(JSON_TYPE)) {
        throw new KmsFault('ValidationException', `content-type must be ${JSON_TYPE}`);
      }
      if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) {
        throw new KmsFault('MissingAuthenticationTokenException', 'Request is missing a SigV4 signature');
      }
      const target = String(req.headers['x-amz-target'] ?? '');
      const name = target.startsWith('TrentService.') ? target.slice('TrentService.'.length) : '';
      const operation = Object.hasOwn(operations, name) ? operations[name] : undefined;
      if (!operation) throw new KmsFault('UnknownOperationException', `Unsupported target '${target}'`);
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw || '{}');
      } catch {
        throw new KmsFault('SerializationException', 'Body is not JSON');
      }
      const keyId = typeof body.KeyId === 'string' ? body.KeyId : undefined;
      calls.push({ target: name, keyId, encryptionContext: { ...(body.EncryptionContext as object) } });
      const failures = failing.get(name) ?? 0;
      if (failures > 0) {
        failing.set(name, failures - 1);
        throw new KmsFault('KMSInvalidStateException', `the key is unavailable (injected ${name} failure)`);
      }
      send(res, 200, operation(body));
    } catch (err) {
      if (!(err instanceof KmsFault)) throw err;
      send(res, 400, { __type: err.type, message: err.message });
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      send(res, 500, { __type: 'KMSInternalException', message: String(err) });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    arnOf: (keyId) => ARN_PREFIX + keyId,
    failNext: (target, count) => failing.set(target, count),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
