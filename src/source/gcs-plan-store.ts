import type { Storage } from '@google-cloud/storage';
import type { PlanStore } from '../backfill/ports.js';
import { withDeadline } from '../errors.js';
import { classifyGcsError, statusOf } from './gcs-source.js';

export interface GcsPlanStoreOptions {
  bucket: string;
  /** `CLOUD_RUN_JOB/CLOUD_RUN_EXECUTION/plan.json`. */
  object: string;
  /** Each call gives up after this long (STALL_TIMEOUT_SECONDS): the object is a few KiB. */
  deadlineMs: number;
}

/**
 * GCS adapter for PlanStore: one small JSON object, created with
 * `ifGenerationMatch=0` (GCS's create-only precondition: 412 when the
 * object exists), so of tasks racing to create it exactly one wins.
 */
export class GcsPlanStore implements PlanStore {
  readonly location: string;
  readonly #storage: Storage;
  readonly #options: GcsPlanStoreOptions;

  constructor(storage: Storage, options: GcsPlanStoreOptions) {
    this.#storage = storage;
    this.#options = options;
    this.location = `gs://${options.bucket}/${options.object}`;
  }

  async read(signal: AbortSignal): Promise<{ text: string; generation: string } | undefined> {
    signal.throwIfAborted();
    const file = this.#storage.bucket(this.#options.bucket).file(this.#options.object);
    try {
      // Metadata first, then the bytes of that generation: both calls see the same object.
      const [metadata] = await withDeadline(file.getMetadata(), this.#options.deadlineMs, `GCS get ${this.location}`);
      const generation = String(metadata.generation);
      const [bytes] = await withDeadline(
        this.#storage.bucket(this.#options.bucket).file(this.#options.object, { generation }).download({ validation: 'crc32c' }),
        this.#options.deadlineMs,
        `GCS read ${this.location}`,
      );
      return { text: bytes.toString('utf8'), generation };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw classifyGcsError(err, `GCS read ${this.location}`);
    }
  }

  async create(text: string, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    const file = this.#storage.bucket(this.#options.bucket).file(this.#options.object);
    try {
      await withDeadline(
        file.save(text, { resumable: false, contentType: 'application/json', preconditionOpts: { ifGenerationMatch: 0 } }),
        this.#options.deadlineMs,
        `GCS create ${this.location}`,
      );
      return true;
    } catch (err) {
      // 412: the object exists (another task created it first, or a retry of our own create after it landed).
      if (statusOf(err) === 412) return false;
      throw classifyGcsError(err, `GCS create ${this.location}`);
    }
  }
}
