import type { S3Client, ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/client-s3';
import type { FinalizeRequestMiddleware } from '@smithy/types';

const CHECKSUM_HEADER = 'x-amz-checksum-crc32c';
const PAYLOAD_HASH_HEADER = 'x-amz-content-sha256';
const CHECKSUMMED_UPLOADS = new Set(['UploadPartCommand', 'PutObjectCommand']);

interface HeaderRequest {
  protocol?: string;
  hostname?: string;
  headers?: Record<string, string>;
}

/**
 * Sign object bodies as `UNSIGNED-PAYLOAD` when they carry a CRC32C header.
 *
 * By default SigV4 puts a SHA-256 of the whole body into the signature, a
 * second pass over every byte (a tenth of a copy's CPU, measured). The body's
 * integrity is already covered: the CRC32C header is signed and S3 rejects a
 * body that does not match it, and the connection is TLS. So this applies only
 * to requests that carry the checksum, over https (or to a loopback emulator),
 * which is what the AWS SDKs for Go and Java do for checksummed uploads.
 */
export function addUnsignedChecksummedPayload(client: S3Client): void {
  const middleware: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next, context) => async (args) => {
    const request = args.request as HeaderRequest;
    const headers = request.headers;
    if (headers !== undefined && CHECKSUMMED_UPLOADS.has(context.commandName ?? '') && CHECKSUM_HEADER in headers && secureOrLocal(request)) {
      headers[PAYLOAD_HASH_HEADER] = 'UNSIGNED-PAYLOAD';
    }
    return next(args);
  };
  client.middlewareStack.addRelativeTo(middleware, { relation: 'before', toMiddleware: 'httpSigningMiddleware', name: 'gcs2s3UnsignedChecksummedPayload', override: true });
}

function secureOrLocal(request: HeaderRequest): boolean {
  if (request.protocol === 'https:') return true;
  const host = request.hostname ?? '';
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
