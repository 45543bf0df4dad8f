import type { FileMetadata, Storage } from '@google-cloud/storage';
import type { KeyRange } from '../backfill/key-range.js';
import type { ListedSourceObject, ProbePage, SourceLister, SourceProber } from '../backfill/ports.js';
import { paginate, type Page } from '../backfill/paginate.js';
import { classifyGcsError, toSourceObject } from './gcs-source.js';

export interface GcsListerOptions {
  /** Objects per list call; the JSON API's maximum is 1,000 (also its default). */
  pageSize?: number;
  /**
   * Also list what a copy needs (headers, custom metadata, MD5), so each
   * listed object carries its `resource` and a backfill copy needs no metadata
   * read of its own: one request per object fewer. Verify asks for them
   * too: it compares the headers and custom metadata themselves.
   */
  withResources?: boolean;
}

/**
 * Only what planning needs: a page of 1,000 full object resources (ACLs,
 * links, metadata) is several times larger than these five fields.
 */
const FIELDS = 'nextPageToken,items(name,generation,size,crc32c,timeCreated)';
const FIELDS_WITH_RESOURCES =
  'nextPageToken,items(name,generation,metageneration,size,crc32c,md5Hash,contentType,contentEncoding,contentDisposition,contentLanguage,cacheControl,metadata,timeCreated)';

/** The JSON API's `objects.list` response, as far as we read it. */
interface ListResponse {
  items?: FileMetadata[];
  nextPageToken?: string;
}

/**
 * GCS adapter for SourceLister: `objects.list` page by page (live
 * generations only), in the order GCS returns, which is UTF-8 byte order
 * of the name.
 */
export class GcsLister implements SourceLister, SourceProber {
  readonly #storage: Storage;
  readonly #pageSize: number;
  readonly #withResources: boolean;

  constructor(storage: Storage, options: GcsListerOptions = {}) {
    this.#storage = storage;
    this.#pageSize = options.pageSize ?? 1000;
    this.#withResources = options.withResources ?? false;
  }

  list(bucket: string, prefix: string, signal: AbortSignal, range: KeyRange = {}): AsyncIterable<ListedSourceObject> {
    const handle = this.#storage.bucket(bucket);
    const fetchPage = async (pageToken: string | undefined): Promise<Page<ListedSourceObject>> => {
      let response: ListResponse;
      try {
        // The library has no AbortSignal for list calls; paginate checks the signal between pages.
        const [, , apiResponse] = await handle.getFiles({
          prefix,
          autoPaginate: false,
          maxResults: this.#pageSize,
          fields: this.#withResources ? FIELDS_WITH_RESOURCES : FIELDS,
          // GCS itself keeps to the range (startOffset inclusive, endOffset exclusive): no page outside it is read.
          ...(range.start === undefined ? {} : { startOffset: range.start }),
          ...(range.end === undefined ? {} : { endOffset: range.end }),
          ...(pageToken === undefined ? {} : { pageToken }),
        });
        // With `fields`, the library hands back raw items; read the API response itself.
        response = (apiResponse ?? {}) as ListResponse;
      } catch (err) {
        throw classifyGcsError(err, `GCS list gs://${bucket}/${prefix}*`);
      }
      const listedAtMs = Date.now();
      const items = (response.items ?? []).map((item) => toListed(bucket, item, this.#withResources, listedAtMs));
      return { items, next: response.nextPageToken };
    };
    return paginate(fetchPage, signal);
  }

  async probe(bucket: string, prefix: string, startOffset: string | undefined, signal: AbortSignal): Promise<ProbePage> {
    signal.throwIfAborted();
    try {
      const [, , apiResponse] = await this.#storage.bucket(bucket).getFiles({
        prefix,
        autoPaginate: false,
        maxResults: this.#pageSize,
        fields: 'nextPageToken,items(name)',
        ...(startOffset === undefined ? {} : { startOffset }),
      });
      const response = (apiResponse ?? {}) as ListResponse;
      return { names: (response.items ?? []).map((i) => i.name ?? ''), truncated: (response.nextPageToken ?? '') !== '' };
    } catch (err) {
      throw classifyGcsError(err, `GCS list gs://${bucket}/${prefix}* from "${startOffset ?? ''}"`);
    }
  }
}

function toListed(bucket: string, item: FileMetadata, withResource: boolean, listedAtMs: number): ListedSourceObject {
  const listed: ListedSourceObject = {
    name: item.name ?? '',
    generation: String(item.generation ?? '0'),
    size: Number(item.size ?? 0),
    ...(item.crc32c === undefined ? {} : { crc32c: item.crc32c }),
    ...(item.timeCreated === undefined ? {} : { timeCreated: item.timeCreated }),
  };
  if (withResource) {
    listed.resource = toSourceObject({ bucket, name: listed.name, generation: listed.generation }, item);
    listed.listedAtMs = listedAtMs;
  }
  return listed;
}
