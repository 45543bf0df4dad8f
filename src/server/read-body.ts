import type { IncomingMessage } from 'node:http';

/** The request body is over the limit (declared or as received): 413. */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
  constructor(readonly limitBytes: number) {
    super(`request body is over ${limitBytes} bytes`);
  }
}

/**
 * Reads a whole request body of at most `maxBytes`. A declared
 * Content-Length over the limit is refused before a byte is read; a chunked
 * body is counted as it arrives and refused the moment it passes the limit,
 * so no request ever holds more than `maxBytes` in memory. Rejects when
 * `signal` fires or the client goes away mid-body.
 */
export async function readBody(req: IncomingMessage, maxBytes: number, signal: AbortSignal): Promise<Buffer> {
  if (declaredLength(req) > maxBytes) throw new BodyTooLargeError(maxBytes);
  signal.throwIfAborted();
  const chunks: Buffer[] = [];
  let total = 0;
  return new Promise<Buffer>((resolve, reject) => {
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
      signal.removeEventListener('abort', onAbort);
    };
    const fail = (err: Error): void => {
      cleanup();
      // Stop reading; the caller answers (or the socket is already gone).
      req.pause();
      reject(err);
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > maxBytes) fail(new BodyTooLargeError(maxBytes));
      else chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
    };
    const onError = (err: Error): void => fail(err);
    const onAborted = (): void => fail(new Error('client went away before the request body was complete'));
    const onAbort = (): void => fail(signal.reason instanceof Error ? signal.reason : new Error('aborted while reading the request body'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Content-Length as a number; 0 when absent (chunked) or unparsable (Node already refuses those). */
export function declaredLength(req: IncomingMessage): number {
  const raw = req.headers['content-length'];
  if (raw === undefined) return 0;
  const n = Number(raw);
  return Number.isFinite(n) ? n : 0;
}
