import { ListMultipartUploadsCommand, ListObjectsV2Command, type MultipartUpload, type S3Client } from '@aws-sdk/client-s3';
import { inRange, pastEnd, s3StartAfter, type KeyRange } from '../backfill/key-range.js';
import type { ListedSinkObject, SinkLister, UploadsInProgress } from '../backfill/ports.js';
import { paginate, type Page } from '../backfill/paginate.js';
import { compareUtf8 } from '../backfill/utf8-order.js';
import { classifyS3Error } from './s3-errors.js';

export interface S3ListerOptions {
  client: S3Client;
  bucket: string;
  /** Keys per ListObjectsV2 call; S3's maximum is 1,000 (also its default). */
  pageSize?: number;
}

/**
 * S3 adapter for SinkLister: ListObjectsV2 page by page, in the order S3
 * returns (UTF-8 byte order of the key). Keys travel URL-encoded
 * (`EncodingType=url`): XML 1.0 cannot carry some characters object names
 * may hold, such as control characters.
 */
export class S3Lister implements SinkLister {
  readonly #options: S3ListerOptions;

  constructor(options: S3ListerOptions) {
    this.#options = options;
  }

  list(prefix: string, signal: AbortSignal, range: KeyRange = {}): AsyncIterable<ListedSinkObject> {
    const { client, bucket, pageSize = 1000 } = this.#options;
    // StartAfter is exclusive: start after the greatest key below the range's start.
    const startAfter = range.start === undefined ? undefined : s3StartAfter(range.start);
    const fetchPage = async (token: string | undefined): Promise<Page<ListedSinkObject>> => {
      try {
        const out = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: pageSize, ContinuationToken: token, StartAfter: startAfter, EncodingType: 'url' }),
          { abortSignal: signal },
        );
        const encoded = out.EncodingType === 'url';
        const items = (out.Contents ?? []).map((o) => ({
          key: encoded ? decodeUrlKey(o.Key ?? '') : (o.Key ?? ''),
          size: o.Size ?? 0,
          etag: o.ETag ?? '',
          lastModified: o.LastModified ?? new Date(0),
        }));
        // S3 has no end parameter: a page reaching the range's end is the last one asked for.
        const last = items.at(-1);
        const done = last !== undefined && pastEnd(last.key, range);
        return { items: items.filter((o) => inRange(o.key, range)), next: out.IsTruncated && !done ? out.NextContinuationToken : undefined };
      } catch (err) {
        throw classifyS3Error(err, `S3 ListObjectsV2 s3://${bucket}/${prefix}*`);
      }
    };
    return paginate(fetchPage, signal);
  }

  /**
   * Lists the bucket's uploads without a Prefix and keeps those under
   * `prefix`: MinIO answers a Prefix only when it is one exact key (measured,
   * and minio/minio#20989), while AWS lists in key order, so the listing stops
   * at the first key past the prefix.
   */
  async uploadsInProgress(prefix: string, signal: AbortSignal): Promise<UploadsInProgress> {
    const { client, bucket } = this.#options;
    let count = 0;
    let oldest: Date | undefined;
    try {
      for await (const upload of multipartUploads(client, bucket, { encodeKeys: true }, signal)) {
        if (!upload.key.startsWith(prefix)) {
          // S3 lists keys in UTF-8 byte order, which JavaScript's < does not follow past U+FFFF.
          if (compareUtf8(upload.key, prefix) > 0) break;
          continue;
        }
        count++;
        if (upload.initiated !== undefined && (oldest === undefined || upload.initiated < oldest)) oldest = upload.initiated;
      }
    } catch (err) {
      throw classifyS3Error(err, `S3 ListMultipartUploads s3://${bucket}/${prefix}*`);
    }
    return oldest === undefined ? { count } : { count, oldestInitiated: oldest.toISOString() };
  }
}

/** An upload in progress as ListMultipartUploads lists it, its key decoded. */
export interface ListedMultipartUpload {
  key: string;
  uploadId?: string;
  initiated?: Date;
}

/**
 * Every upload ListMultipartUploads returns, in its order (keys in UTF-8 byte
 * order), page after page; the caller stops early by leaving its loop.
 * `encodeKeys` asks S3 for URL-encoded keys (which survive any character) and
 * decodes them.
 */
export async function* multipartUploads(
  client: S3Client,
  bucket: string,
  options: { prefix?: string; encodeKeys?: boolean },
  signal: AbortSignal,
): AsyncGenerator<ListedMultipartUpload> {
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const page = await client.send(
      new ListMultipartUploadsCommand({
        Bucket: bucket,
        Prefix: options.prefix,
        KeyMarker: keyMarker,
        UploadIdMarker: uploadIdMarker,
        ...(options.encodeKeys === true ? { EncodingType: 'url' } : {}),
      }),
      { abortSignal: signal },
    );
    const decode = page.EncodingType === 'url' ? decodeUrlKey : (k: string) => k;
    const uploads: MultipartUpload[] = page.Uploads ?? [];
    for (const upload of uploads) yield { key: decode(upload.Key ?? ''), uploadId: upload.UploadId, initiated: upload.Initiated };
    if (page.IsTruncated !== true) return;
    keyMarker = page.NextKeyMarker === undefined ? undefined : decode(page.NextKeyMarker);
    uploadIdMarker = page.NextUploadIdMarker;
  }
}

/**
 * S3 encodes listed keys like an HTML form: `%XX` escapes, and a space as
 * `+` (a literal `+` comes as `%2B`); botocore decodes with `unquote_plus`.
 */
export function decodeUrlKey(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, ' '));
}
