import { describe, expect, it } from 'vitest';
import { lagFields } from '../../../src/pipeline/log-outcome.js';
import type { ObjectEvent } from '../../../src/model.js';

const ref = { bucket: 'b', name: 'o', generation: '2' };
const times = { timeCreated: '2026-01-01T00:00:00Z', eventTime: '2026-01-01T00:10:00Z' };
const now = Date.parse('2026-01-01T00:10:05Z');

describe('lagFields', () => {
  it.each([
    ['copied', { kind: 'finalize', ref, ...times }, 605],
    ['copied', { kind: 'finalize', ref, eventTime: times.eventTime }, 5],
    ['updated', { kind: 'metadataUpdate', ref, ...times }, 5],
    ['deleted', { kind: 'delete', ref, ...times }, 5],
    ['deleted', { kind: 'delete', ref, timeCreated: times.timeCreated }, 605],
  ] as Array<[string, ObjectEvent, number]>)('%s %o → %d s', (status, event, lag) => {
    expect(lagFields(event, status, now)).toEqual({ lagSeconds: lag });
  });

  it('is absent for work not done, and for unknown or bad times', () => {
    expect(lagFields({ kind: 'finalize', ref, ...times }, 'skipped', now)).toEqual({});
    expect(lagFields({ kind: 'finalize', ref, ...times }, 'failed', now)).toEqual({});
    expect(lagFields({ kind: 'finalize', ref }, 'copied', now)).toEqual({});
    expect(lagFields({ kind: 'finalize', ref, timeCreated: 'yesterday' }, 'copied', now)).toEqual({});
  });
});
