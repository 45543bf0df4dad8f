import { describe, expect, it } from 'vitest';
import { decodeStorageCloudEvent, type StorageCloudEvent } from '../../../src/events/decode-cloudevent.js';
import { ALL, WITH_DELETES, cloudEventFixture, fixtureFiles, policy } from './fixtures.js';

const REF = { bucket: 'sample-bucket', name: 'folder/Test.cs', generation: '1587627537231057' };
const CREATED = '2020-04-23T07:38:57.230Z';
const NO_DELETES = /deletes are not replicated \(REPLICATE_DELETES=false\)/;

/** Every CloudEvent fixture: the result without and with REPLICATE_DELETES. */
const FIXTURES: Array<[file: string, withoutDeletes: unknown, withDeletes?: unknown]> = [
  ['cloudevents/finalized.json', { type: 'event', event: { kind: 'finalize', ref: REF, eventTime: '2020-04-23T07:38:57.772Z', timeCreated: CREATED, size: 352 } }],
  ['cloudevents/metadataUpdated.json', { type: 'event', event: { kind: 'metadataUpdate', ref: REF, eventTime: '2020-04-23T08:01:10.115Z', timeCreated: CREATED, size: 352 } }],
  [
    'cloudevents/deleted.json',
    { type: 'ignored', reason: expect.stringMatching(NO_DELETES), ref: REF },
    // Indistinguishable from an overwrite's delete: the core's generation guard protects a newer S3 copy.
    { type: 'event', event: { kind: 'delete', ref: REF, eventTime: '2020-04-24T10:00:01.020Z', timeCreated: CREATED, size: 352 } },
  ],
  [
    'cloudevents/archived.json',
    { type: 'ignored', reason: expect.stringMatching(NO_DELETES), ref: REF },
    { type: 'event', event: { kind: 'delete', ref: REF, eventTime: '2020-04-24T10:00:01.020Z', timeCreated: CREATED, size: 352 } },
  ],
  [
    'cloudevents/pubsub-message-published.json',
    {
      type: 'event',
      messageId: '13500356927496703',
      event: {
        kind: 'finalize',
        ref: { bucket: 'acme-uploads', name: 'reports/2025/Q1 cafe\u0301.pdf', generation: '1736358966947877' },
        eventTime: '2025-01-08T17:56:06.952527Z',
        timeCreated: '2025-01-08T17:56:06.952Z', size: 1028818,
      },
    },
  ],
];

const finalized = (): StorageCloudEvent => cloudEventFixture('cloudevents/finalized.json');
const withData = (changes: Record<string, unknown>, ce: Partial<StorageCloudEvent> = {}): StorageCloudEvent => {
  const base = finalized();
  return { ...base, ...ce, data: { ...(base.data as Record<string, unknown>), ...changes } };
};

describe('decodeStorageCloudEvent: fixtures', () => {
  it('has an expectation for every fixture file', () => {
    expect(FIXTURES.map(([f]) => f).sort()).toEqual(fixtureFiles('cloudevents/'));
  });

  it.each(FIXTURES)('%s', (file, withoutDeletes, withDeletes) => {
    const ce = cloudEventFixture(file);
    expect(decodeStorageCloudEvent(ce, ALL)).toEqual(withoutDeletes);
    expect(decodeStorageCloudEvent(ce, WITH_DELETES)).toEqual(withDeletes ?? withoutDeletes);
  });
});

describe('decodeStorageCloudEvent: accepted variations', () => {
  it.each([
    ['data as JSON text (binary mode, data not parsed)', { ...finalized(), data: JSON.stringify(finalized().data) }],
    ['data as bytes', { ...finalized(), data: Buffer.from(JSON.stringify(finalized().data)) }],
    ['generation as an exact JSON number', withData({ generation: 1587627537231057 })],
    ['no source or subject (data names the object)', { ...finalized(), source: undefined, subject: undefined }],
    ['no data.bucket (taken from source)', withData({ bucket: undefined })],
    ['no data.name (taken from subject)', withData({ name: undefined })],
    ['a percent-encoded subject', withData({}, { subject: 'objects/folder%2FTest.cs' })],
  ])('%s', (_label, ce) => {
    expect(decodeStorageCloudEvent(ce, ALL)).toEqual(FIXTURES[0]![1]);
  });

  it('drops a time that does not parse instead of failing the event', () => {
    expect(decodeStorageCloudEvent(withData({ timeCreated: 'x' }, { time: 'later' }), ALL)).toEqual({ type: 'event', event: { kind: 'finalize', ref: REF, size: 352 } });
  });

  it('applies the filters', () => {
    expect(decodeStorageCloudEvent(finalized(), policy({ sourceBuckets: ['other'] }))).toEqual({
      type: 'ignored',
      reason: expect.stringMatching(/not in SOURCE_BUCKETS/),
      ref: REF,
    });
    expect(decodeStorageCloudEvent(finalized(), policy({ excludePrefixes: ['folder/'] }))).toMatchObject({ type: 'ignored', reason: expect.stringMatching(/EXCLUDE_PREFIXES/) });
  });

  it.each(['google.cloud.audit.log.v1.written', 'google.cloud.storage.object.v1.somethingNew', 'toString', '__proto__'])('ignores type %s (not a Cloud Storage object event)', (type) => {
    expect(decodeStorageCloudEvent({ ...finalized(), type }, ALL)).toEqual({ type: 'ignored', reason: expect.stringMatching(/is not a Cloud Storage object event/) });
  });
});

describe('decodeStorageCloudEvent: malformed', () => {
  it.each([
    ['no type', { ...finalized(), type: '' }, /CloudEvent has no type/],
    ['null data', { ...finalized(), data: null }, /CloudEvent data is null, not the object resource/],
    ['array data', { ...finalized(), data: [] }, /CloudEvent data is an array/],
    ['data text that is not JSON', { ...finalized(), data: 'nope' }, /CloudEvent data is not JSON/],
    ['data.bucket contradicting source', withData({ bucket: 'foo-bar' }), /data.bucket "foo-bar" contradicts source bucket "sample-bucket"/],
    ['a source that is not a bucket', withData({}, { source: '//pubsub.googleapis.com/projects/p/topics/t' }), /source .* is not \/\/storage.googleapis.com\/projects\/_\/buckets\/BUCKET/],
    ['data.name contradicting subject', withData({ name: 'other.txt' }), /data.name "other.txt" contradicts subject "objects\/folder\/Test.cs"/],
    ['a subject that is not objects/NAME', withData({}, { subject: 'buckets/sample-bucket' }), /subject "buckets\/sample-bucket" is not objects\/NAME/],
    ['no bucket anywhere', withData({ bucket: undefined }, { source: undefined }), /names no bucket/],
    ['no name anywhere', withData({ name: undefined }, { subject: undefined }), /names no object/],
    ['data.bucket of the wrong type', withData({ bucket: 3 }), /data.bucket is a number, not a string/],
    ['no generation', withData({ generation: undefined }), /data.generation is missing/],
    ['a generation that is not int64', withData({ generation: '12ab' }), /data.generation is not a decimal int64: "12ab"/],
    ['a generation beyond 2^53 as a JSON number', withData({ generation: 2 ** 60 }), /not an exact non-negative integer/],
    ['a messagePublished event without an envelope', { ...finalized(), type: 'google.cloud.pubsub.topic.v1.messagePublished', data: { foo: 1 } }, /push body has no message object/],
  ])('%s', (_label, ce, reason) => {
    expect(decodeStorageCloudEvent(ce, ALL)).toEqual({ type: 'malformed', reason: expect.stringMatching(reason) });
  });

  it('never throws, whatever it is given', () => {
    const junk: unknown[] = [null, undefined, 'x', {}, { type: 5 }, { type: 'google.cloud.storage.object.v1.finalized' }, { type: 'google.cloud.storage.object.v1.deleted', data: { generation: {} } }];
    for (const value of junk) {
      expect(() => decodeStorageCloudEvent(value as StorageCloudEvent, ALL)).not.toThrow();
      expect(decodeStorageCloudEvent(value as StorageCloudEvent, ALL).type).toBe('malformed');
    }
  });
});
