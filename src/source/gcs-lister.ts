import type { Storage } from '@google-cloud/storage';
import type { ListedSourceObject, SourceLister } from '../backfill/ports.js';
import { paginate, type Page } from '../backfill/paginate.js';
import { classifyGcsError } from './gcs-source.js';

export interface GcsListerOptions {
  /** Objects per list call; the JSON API's maximum is 1,000 (also its default). */
  pageSize?: number;
}

/**
 * Only what planning needs: a page of 1,000 full object resources (ACLs,
 * links, metadata) is several times larger than these five fields.
 */
const FIELDS = 'nextPageToken,items(name,generation,size,crc32c,timeCreated)';

/** The JSON API's `objects.list` response, as far as we read it. */
interface ListResponse {
  items?: Array<{ name?: string; generation?: string; size?: string; crc32c?: string; timeCreated?: string }>;
  nextPageToken?: string;
}

/**
 * GCS adapter for SourceLister: `objects.list` page by page (live
 * generations only), in the order GCS returns, which is UTF-8 byte order
 * of the name.
 */
export class GcsLister implements SourceLister {
  readonly #storage: Storage;
  readonly #pageSize: number;

  constructor(storage: Storage, options: GcsListerOptions = {}) {
    this.#storage = storage;
    this.#pageSize = options.pageSize ?? 1000;
  }

  list(bucket: string, prefix: string, signal: AbortSignal): AsyncIterable<ListedSourceObject> {
    const handle = this.#storage.bucket(bucket);
    const fetchPage = async (pageToken: string | undefined): Promise<Page<ListedSourceObject>> => {
      let response: ListResponse;
      try {
        // The library has no AbortSignal for list calls; paginate checks the signal between pages.
        const [, , apiResponse] = await handle.getFiles({
          prefix,
          autoPaginate: false,
          maxResults: this.#pageSize,
          fields: FIELDS,
          ...(pageToken === undefined ? {} : { pageToken }),
        });
        // With `fields`, the library hands back raw items; read the API response itself.
        response = (apiResponse ?? {}) as ListResponse;
      } catch (err) {
        throw classifyGcsError(err, `GCS list gs://${bucket}/${prefix}*`);
      }
      return { items: (response.items ?? []).map(toListed), next: response.nextPageToken };
    };
    return paginate(fetchPage, signal);
  }
}

function toListed(item: NonNullable<ListResponse['items']>[number]): ListedSourceObject {
  return {
    name: item.name ?? '',
    generation: String(item.generation ?? '0'),
    size: Number(item.size ?? 0),
    ...(item.crc32c === undefined ? {} : { crc32c: item.crc32c }),
    ...(item.timeCreated === undefined ? {} : { timeCreated: item.timeCreated }),
  };
}
