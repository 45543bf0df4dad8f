import { describe, expect, it } from 'vitest';
import { PermanentError, TransientError } from '../../../src/errors.js';
import type { Outcome } from '../../../src/model.js';
import { dispositionOf } from '../../../src/pipeline/event-pipeline.js';
import { statusFor } from '../../../src/server/respond.js';

describe('statusFor(dispositionOf(outcome))', () => {
  const key = 'k';
  it.each<[string, Outcome, number]>([
    ['copied', { status: 'copied', key, generation: '1', bytes: 3 }, 204],
    ['updated', { status: 'updated', key, generation: '1' }, 204],
    ['deleted', { status: 'deleted', key, generation: '1' }, 204],
    ['skipped (already current)', { status: 'skipped', key, reason: 'already-current' }, 204],
    ['skipped (source missing)', { status: 'skipped', key, reason: 'source-missing' }, 204],
    ['a permanent failure (acked, logged at ERROR)', { status: 'failed', key, retryable: false, error: new PermanentError('too big') }, 204],
    ['a transient failure (Pub/Sub retries)', { status: 'failed', key, retryable: true, error: new TransientError('down') }, 503],
  ])('%s', (_label, outcome, status) => {
    expect(statusFor(dispositionOf(outcome))).toBe(status);
  });
});
