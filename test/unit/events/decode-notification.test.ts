import { describe, expect, it } from 'vitest';
import { decodeNotification, type NotificationMessage } from '../../../src/events/decode-notification.js';
import type { Decoded } from '../../../src/events/types.js';
import { ALL, WITH_DELETES, fixtureFiles, notificationFixture, policy } from './fixtures.js';

const DOC_BUCKET = 'acme-uploads';
const DOC_NAME = 'reports/2025/Q1 cafe\u0301.pdf';
const G1 = '1736358966947877';
const G2 = '1736359012345678';

const OVERWRITE = /old generation of an overwrite/;
const NO_DELETES = /deletes are not replicated \(REPLICATE_DELETES=false\)/;

type Expectation = Decoded | { type: 'ignored'; reason: RegExp; ref: Record<string, string> };

/** Every notification fixture: the result without and with REPLICATE_DELETES. */
const FIXTURES: Array<[file: string, withoutDeletes: Expectation, withDeletes?: Expectation]> = [
  [
    'notifications/finalize-json-api-v1.json',
    { type: 'event', event: { kind: 'finalize', ref: { bucket: DOC_BUCKET, name: DOC_NAME, generation: G1 }, eventTime: '2025-01-08T17:56:06.952527Z', timeCreated: '2025-01-08T17:56:06.952Z', size: 1028818 } },
  ],
  [
    'notifications/finalize-none.json',
    { type: 'event', event: { kind: 'finalize', ref: { bucket: DOC_BUCKET, name: DOC_NAME, generation: G1 }, eventTime: '2025-01-08T17:56:06.952527Z' } },
  ],
  [
    'notifications/finalize-overwrote.json',
    { type: 'event', event: { kind: 'finalize', ref: { bucket: DOC_BUCKET, name: DOC_NAME, generation: G2 }, eventTime: '2025-01-08T17:56:52.351204Z', timeCreated: '2025-01-08T17:56:52.345Z', size: 1030001 } },
  ],
  [
    'notifications/delete-overwritten.json',
    { type: 'ignored', reason: OVERWRITE, ref: { bucket: DOC_BUCKET, name: DOC_NAME, generation: G1 } },
    { type: 'ignored', reason: OVERWRITE, ref: { bucket: DOC_BUCKET, name: DOC_NAME, generation: G1 } },
  ],
  [
    'notifications/archive-overwritten.json',
    { type: 'ignored', reason: OVERWRITE, ref: { bucket: DOC_BUCKET, name: DOC_NAME, generation: G1 } },
    { type: 'ignored', reason: OVERWRITE, ref: { bucket: DOC_BUCKET, name: DOC_NAME, generation: G1 } },
  ],
  [
    'notifications/delete.json',
    { type: 'ignored', reason: NO_DELETES, ref: { bucket: DOC_BUCKET, name: DOC_NAME, generation: G2 } },
    { type: 'event', event: { kind: 'delete', ref: { bucket: DOC_BUCKET, name: DOC_NAME, generation: G2 }, eventTime: '2025-01-09T09:12:40.118230Z', timeCreated: '2025-01-08T17:56:52.345Z', size: 1030001 } },
  ],
  [
    'notifications/archive.json',
    { type: 'ignored', reason: NO_DELETES, ref: { bucket: DOC_BUCKET, name: DOC_NAME, generation: G2 } },
    { type: 'event', event: { kind: 'delete', ref: { bucket: DOC_BUCKET, name: DOC_NAME, generation: G2 }, eventTime: '2025-01-09T09:12:40.118230Z', timeCreated: '2025-01-08T17:56:52.345Z', size: 1030001 } },
  ],
  [
    'notifications/metadata-update.json',
    { type: 'event', event: { kind: 'metadataUpdate', ref: { bucket: DOC_BUCKET, name: DOC_NAME, generation: G1 }, eventTime: '2025-01-08T18:02:11.400102Z', timeCreated: '2025-01-08T17:56:06.952Z', size: 1028818 } },
  ],
  [
    'notifications/fake-gcs-server/finalize.json',
    { type: 'event', event: { kind: 'finalize', ref: { bucket: 'src-bucket', name: 'photos/cat.jpg', generation: '1795874419917977' }, eventTime: '2026-11-28T14:00:19Z', timeCreated: '2026-11-28T14:00:19.917854Z', size: 2 } },
  ],
  [
    'notifications/fake-gcs-server/overwrite-delete.json',
    { type: 'ignored', reason: OVERWRITE, ref: { bucket: 'src-bucket', name: 'photos/cat.jpg', generation: '1795874419917977' } },
    { type: 'ignored', reason: OVERWRITE, ref: { bucket: 'src-bucket', name: 'photos/cat.jpg', generation: '1795874419917977' } },
  ],
  [
    'notifications/fake-gcs-server/overwrite-finalize.json',
    { type: 'event', event: { kind: 'finalize', ref: { bucket: 'src-bucket', name: 'photos/cat.jpg', generation: '1795874421452628' }, eventTime: '2026-11-28T14:00:21Z', timeCreated: '2026-11-28T14:00:21.452575Z', size: 2 } },
  ],
  [
    'notifications/fake-gcs-server/metadata-update.json',
    { type: 'event', event: { kind: 'metadataUpdate', ref: { bucket: 'src-bucket', name: 'docs/hello world.txt', generation: '1795874384755012' }, eventTime: '2026-11-28T13:59:57Z', timeCreated: '2026-11-28T13:59:44.754694Z', size: 11 } },
  ],
  [
    'notifications/fake-gcs-server/delete.json',
    { type: 'ignored', reason: NO_DELETES, ref: { bucket: 'src-bucket', name: 'docs/hello world.txt', generation: '1795874384755012' } },
    { type: 'event', event: { kind: 'delete', ref: { bucket: 'src-bucket', name: 'docs/hello world.txt', generation: '1795874384755012' }, eventTime: '2026-11-28T13:59:59Z', timeCreated: '2026-11-28T13:59:44.754694Z', size: 0 } },
  ],
  [
    'notifications/fake-gcs-server/versioned-overwrite-archive.json',
    { type: 'ignored', reason: OVERWRITE, ref: { bucket: 'ver-bucket', name: 'v.txt', generation: '1795874401669600' } },
    { type: 'ignored', reason: OVERWRITE, ref: { bucket: 'ver-bucket', name: 'v.txt', generation: '1795874401669600' } },
  ],
  [
    'notifications/fake-gcs-server/versioned-overwrite-finalize.json',
    { type: 'event', event: { kind: 'finalize', ref: { bucket: 'ver-bucket', name: 'v.txt', generation: '1795874403201234' }, eventTime: '2026-11-28T14:00:03Z', timeCreated: '2026-11-28T14:00:03.201181Z', size: 3 } },
  ],
  [
    'notifications/fake-gcs-server/versioned-delete-archive.json',
    { type: 'ignored', reason: NO_DELETES, ref: { bucket: 'ver-bucket', name: 'v.txt', generation: '1795874403201234' } },
    { type: 'event', event: { kind: 'delete', ref: { bucket: 'ver-bucket', name: 'v.txt', generation: '1795874403201234' }, eventTime: '2026-11-28T14:00:04Z', timeCreated: '2026-11-28T14:00:03.201181Z', size: 0 } },
  ],
  [
    'notifications/fake-gcs-server/finalize-gzip.json',
    { type: 'event', event: { kind: 'finalize', ref: { bucket: 'src-bucket', name: 'logs/a.json.gz', generation: '1795874406903994' }, eventTime: '2026-11-28T14:00:06Z', timeCreated: '2026-11-28T14:00:06.903983Z', size: 27 } },
  ],
  [
    'notifications/fake-gcs-server/registry-none.json',
    { type: 'event', event: { kind: 'finalize', ref: { bucket: 'none-bucket', name: 'n.bin', generation: '1795874423476643' }, eventTime: '2026-11-28T14:00:23Z' } },
  ],
];

function check(actual: Decoded, expected: Expectation): void {
  if (expected.type === 'ignored' && expected.reason instanceof RegExp) {
    expect(actual).toEqual({ type: 'ignored', reason: expect.stringMatching(expected.reason), ref: expected.ref });
  } else {
    expect(actual).toEqual(expected);
  }
}

/** A valid JSON_API_V1 finalize, to break one piece at a time. */
function message(attributes: Record<string, string | undefined> = {}, ...data: [NotificationMessage['data']?]): NotificationMessage {
  const base: Record<string, string | undefined> = {
    bucketId: 'b',
    objectId: 'dir/o.txt',
    objectGeneration: '1700000000000001',
    eventType: 'OBJECT_FINALIZE',
    eventTime: '2025-01-01T00:00:01.000001Z',
    payloadFormat: 'JSON_API_V1',
    ...attributes,
  };
  const defined = Object.fromEntries(Object.entries(base).filter((e): e is [string, string] => e[1] !== undefined));
  // An explicit data argument (even undefined) replaces the default resource.
  const payload = data.length === 0 ? JSON.stringify({ bucket: 'b', name: 'dir/o.txt', generation: '1700000000000001', timeCreated: '2025-01-01T00:00:00.5Z' }) : data[0];
  return { attributes: defined, data: payload };
}

describe('decodeNotification: fixtures', () => {
  it('has an expectation for every fixture file', () => {
    const files = [...fixtureFiles('notifications/'), ...fixtureFiles('notifications/fake-gcs-server/')].sort();
    expect(FIXTURES.map(([f]) => f).sort()).toEqual(files);
  });

  it.each(FIXTURES)('%s', (file, withoutDeletes, withDeletes) => {
    const msg = notificationFixture(file);
    check(decodeNotification(msg, ALL), withoutDeletes);
    check(decodeNotification(msg, WITH_DELETES), withDeletes ?? withoutDeletes);
  });

  it('reads the data as a string or as a Uint8Array the same way', () => {
    const msg = notificationFixture('notifications/finalize-json-api-v1.json');
    const bytes = msg.data as Buffer;
    const expected = decodeNotification(msg, ALL);
    expect(decodeNotification({ ...msg, data: bytes.toString('utf8') }, ALL)).toEqual(expected);
    expect(decodeNotification({ ...msg, data: new Uint8Array(bytes) }, ALL)).toEqual(expected);
  });
});

describe('decodeNotification: rules', () => {
  it.each([
    ['OBJECT_FINALIZE', ALL, { type: 'event', kind: 'finalize' }],
    ['OBJECT_METADATA_UPDATE', ALL, { type: 'event', kind: 'metadataUpdate' }],
    ['OBJECT_DELETE', ALL, { type: 'ignored', reason: NO_DELETES }],
    ['OBJECT_DELETE', WITH_DELETES, { type: 'event', kind: 'delete' }],
    ['OBJECT_ARCHIVE', ALL, { type: 'ignored', reason: NO_DELETES }],
    ['OBJECT_ARCHIVE', WITH_DELETES, { type: 'event', kind: 'delete' }],
  ] as const)('%s with REPLICATE_DELETES=%o', (eventType, p, expected) => {
    const result = decodeNotification(message({ eventType }), p);
    expect(result.type).toBe(expected.type);
    if (result.type === 'event' && 'kind' in expected) {
      expect(result.event).toEqual({
        kind: expected.kind,
        ref: { bucket: 'b', name: 'dir/o.txt', generation: '1700000000000001' },
        eventTime: '2025-01-01T00:00:01.000001Z',
        timeCreated: '2025-01-01T00:00:00.5Z',
      });
    }
    if (result.type === 'ignored' && 'reason' in expected) expect(result.reason).toMatch(expected.reason);
  });

  it.each(['OBJECT_DELETE', 'OBJECT_ARCHIVE'])('never deletes for %s carrying overwrittenByGeneration, whatever its value', (eventType) => {
    for (const overwrittenByGeneration of ['1700000000000002', '', 'garbage']) {
      const result = decodeNotification(message({ eventType, overwrittenByGeneration }), WITH_DELETES);
      expect(result).toMatchObject({ type: 'ignored', reason: expect.stringMatching(OVERWRITE), ref: { bucket: 'b', name: 'dir/o.txt', generation: '1700000000000001' } });
    }
  });

  it('treats overwroteGeneration on FINALIZE as an ordinary finalize', () => {
    expect(decodeNotification(message({ overwroteGeneration: '1600000000000000' }), ALL)).toMatchObject({ type: 'event', event: { kind: 'finalize' } });
  });

  it.each([
    [{ sourceBuckets: ['other'] }, 'b', 'dir/o.txt', /bucket "b" is not in SOURCE_BUCKETS/],
    [{ includePrefixes: ['logs/', 'img/'] }, 'b', 'dir/o.txt', /matches no INCLUDE_PREFIXES/],
    [{ excludePrefixes: ['dir/'] }, 'b', 'dir/o.txt', /matches EXCLUDE_PREFIXES "dir\/"/],
    [{ includePrefixes: ['dir/'], excludePrefixes: ['dir/o'] }, 'b', 'dir/o.txt', /EXCLUDE_PREFIXES/],
  ])('ignores what the filters reject: %o', (overrides, bucket, name, reason) => {
    const result = decodeNotification(message({ bucketId: bucket, objectId: name }), policy({ ...overrides, replicateDeletes: true }));
    expect(result).toEqual({ type: 'ignored', reason: expect.stringMatching(reason), ref: { bucket, name, generation: '1700000000000001' } });
  });

  it.each([
    [{ sourceBuckets: ['a', 'b'] }],
    [{ includePrefixes: ['x/', 'dir/'] }],
    [{ excludePrefixes: ['dir/p', 'other/'] }],
    [{ sourceBuckets: ['b'], includePrefixes: ['dir/'], excludePrefixes: ['dir/tmp/'] }],
  ])('lets through what the filters accept: %o', (overrides) => {
    expect(decodeNotification(message(), policy(overrides)).type).toBe('event');
  });

  it('filters deletes before the delete rule, so the reason names the filter', () => {
    const result = decodeNotification(message({ eventType: 'OBJECT_DELETE' }), policy({ sourceBuckets: ['x'] }));
    expect(result).toMatchObject({ type: 'ignored', reason: expect.stringMatching(/SOURCE_BUCKETS/) });
  });
});

describe('decodeNotification: times', () => {
  it.each([
    ['eventTime attribute', message(), '2025-01-01T00:00:01.000001Z'],
    ['publishTime when eventTime is absent', { ...message({ eventTime: undefined }), publishTime: '2025-01-01T00:00:02.000Z' }, '2025-01-01T00:00:02.000Z'],
    ['nothing when eventTime is not a time', message({ eventTime: 'yesterday' }), undefined],
  ])('eventTime from the %s', (_label, msg, eventTime) => {
    const result = decodeNotification(msg, ALL);
    expect(result.type === 'event' ? result.event.eventTime : 'not an event').toBe(eventTime);
  });

  it('drops an unparseable timeCreated instead of failing the event', () => {
    const result = decodeNotification(message({}, JSON.stringify({ name: 'dir/o.txt', timeCreated: 'soon' })), ALL);
    expect(result).toEqual({ type: 'event', event: { kind: 'finalize', ref: { bucket: 'b', name: 'dir/o.txt', generation: '1700000000000001' }, eventTime: '2025-01-01T00:00:01.000001Z' } });
  });
});

describe('decodeNotification: payload', () => {
  it.each([
    ['NONE with data present (ignored)', message({ payloadFormat: 'NONE' }, 'not json at all')],
    ['no payloadFormat and no data', message({ payloadFormat: undefined }, '')],
    ['no payloadFormat and a JSON resource', message({ payloadFormat: undefined })],
    ['a JSON resource without bucket/name/generation', message({}, '{"kind":"storage#object"}')],
    ['generation as an exact JSON number', message({}, '{"generation":1700000000000001}')],
    ['whitespace around the JSON', message({}, '\n  {"name":"dir/o.txt"}\n')],
  ])('accepts %s', (_label, msg) => {
    expect(decodeNotification(msg, ALL).type).toBe('event');
  });
});

describe('decodeNotification: malformed', () => {
  const invalidUtf8 = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
  it.each([
    ['no attributes', { attributes: {}, data: undefined }, /no attributes/],
    ['attributes undefined', { data: undefined } as unknown as NotificationMessage, /no attributes/],
    ['message null', null as unknown as NotificationMessage, /no attributes/],
    ['missing eventType', message({ eventType: undefined }), /attribute eventType is missing/],
    ['unknown eventType', message({ eventType: 'OBJECT_RESTORE' }), /attribute eventType "OBJECT_RESTORE" is not one of OBJECT_FINALIZE/],
    ['missing bucketId', message({ bucketId: undefined }), /attribute bucketId is missing/],
    ['empty bucketId', message({ bucketId: '' }), /attribute bucketId is empty/],
    ['missing objectId', message({ objectId: undefined }), /attribute objectId is missing/],
    ['missing objectGeneration', message({ objectGeneration: undefined }), /attribute objectGeneration is missing/],
    ['non-decimal objectGeneration', message({ objectGeneration: 'abc' }), /attribute objectGeneration is not a decimal int64: "abc"/],
    ['negative objectGeneration', message({ objectGeneration: '-1' }), /objectGeneration is not a decimal int64/],
    ['objectGeneration with a leading zero', message({ objectGeneration: '017' }), /objectGeneration is not a decimal int64/],
    ['objectGeneration over int64', message({ objectGeneration: '9223372036854775808' }), /objectGeneration is not a decimal int64/],
    ['fractional objectGeneration', message({ objectGeneration: '1.5' }), /objectGeneration is not a decimal int64/],
    ['non-string attribute', { attributes: { ...message().attributes, bucketId: 7 }, data: undefined } as unknown as NotificationMessage, /attribute bucketId is a number, not a string/],
    ['unknown payloadFormat', message({ payloadFormat: 'PROTOBUF' }), /attribute payloadFormat "PROTOBUF" is not one of JSON_API_V1, NONE/],
    ['JSON_API_V1 without data', message({}, undefined), /payloadFormat is JSON_API_V1 but data is empty/],
    ['JSON_API_V1 with blank data', message({}, '  \n'), /data is empty/],
    ['data that is not JSON', message({}, 'hello'), /data \(JSON_API_V1 object resource\) is not JSON/],
    ['data that is a JSON array', message({}, '[1,2]'), /is JSON but an array, not an object/],
    ['data that is a JSON string', message({}, '"x"'), /is JSON but a string, not an object/],
    ['data that is not UTF-8', message({}, invalidUtf8), /data is not valid UTF-8 \(6 bytes\)/],
    ['payload bucket contradicting bucketId', message({}, '{"bucket":"other"}'), /payload.bucket "other" contradicts attribute bucketId "b"/],
    ['payload name contradicting objectId', message({}, '{"name":"dir/O.txt"}'), /payload.name "dir\/O.txt" contradicts attribute objectId "dir\/o.txt"/],
    ['payload name in another Unicode form', message({ objectId: 'caf\u00e9' }, '{"name":"cafe\u0301"}'), /payload.name .* contradicts attribute objectId/],
    ['payload generation contradicting objectGeneration', message({}, '{"generation":"1700000000000002"}'), /payload.generation "1700000000000002" contradicts attribute objectGeneration "1700000000000001"/],
    ['payload generation as an inexact JSON number', message({}, '{"generation":17000000000000001234}'), /payload.generation is a JSON number that is not an exact/],
    ['payload generation of the wrong type', message({}, '{"generation":true}'), /payload.generation is a boolean, not a decimal string/],
    ['payload name of the wrong type', message({}, '{"name":["dir/o.txt"]}'), /payload.name is an array, not a string/],
    ['no payloadFormat and data that is not JSON', message({ payloadFormat: undefined }, 'xyz'), /is not JSON/],
  ])('%s', (_label, msg, reason) => {
    const result = decodeNotification(msg, ALL);
    expect(result).toEqual({ type: 'malformed', reason: expect.stringMatching(reason) });
  });

  it('caps what a reason echoes from the input', () => {
    const long = 'x'.repeat(5000);
    for (const msg of [message({ objectGeneration: long }), message({ eventType: long }), message({}, `{"bucket":"${long}"}`), message({}, `${long}{`)]) {
      const result = decodeNotification(msg, ALL);
      expect(result.type).toBe('malformed');
      expect(result.type === 'malformed' && result.reason.length).toBeLessThan(500);
    }
  });

  it('escapes control characters it echoes, so a reason cannot forge log lines', () => {
    const result = decodeNotification(message({ eventType: 'X\nlevel=error msg=forged' }), ALL);
    expect(result.type === 'malformed' && result.reason).not.toContain('\n');
  });

  it('never throws, whatever it is given', () => {
    const junk: unknown[] = [undefined, null, 0, 'str', [], { attributes: [] }, { attributes: null }, { attributes: { eventType: {} } }, { attributes: message().attributes, data: 42 }, { attributes: message().attributes, data: {} }];
    for (const value of junk) {
      expect(() => decodeNotification(value as NotificationMessage, ALL)).not.toThrow();
      expect(decodeNotification(value as NotificationMessage, ALL).type).toBe('malformed');
    }
  });
});
