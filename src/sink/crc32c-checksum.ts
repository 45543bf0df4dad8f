import { crc32c } from '@node-rs/crc32';
import type { Checksum } from '@smithy/types';

/**
 * Hardware CRC32C for the S3 client's part checksums (`checksumAlgorithms.CRC32C`).
 * The SDK's default is pure JavaScript, several times slower, and every byte
 * copied passes through it once.
 */
export class NativeCrc32c implements Checksum {
  #value = 0;

  update(chunk: Uint8Array): void {
    this.#value = crc32c(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength), this.#value);
  }

  async digest(): Promise<Uint8Array> {
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, this.#value >>> 0, false);
    return out;
  }

  reset(): void {
    this.#value = 0;
  }
}
