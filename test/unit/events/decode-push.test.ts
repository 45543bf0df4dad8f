import { describe, expect, it } from 'vitest';
import { decodePushEnvelope, decodeUnwrappedPush, isUnwrappedPush } from '../../../src/events/decode-push.js';
import { decodeNotification } from '../../../src/events/decode-notification.js';
import { ALL, WITH_DELETES, fixtureFiles, notificationFixture, pushFixture } from './fixtures.js';

const OVERWRITE = /old generation of an overwrite/;
const DOC_REF = { bucket: 'acme-uploads', name: 'reports/2025/Q1 cafe\u0301.pdf' };
const CAFE_REF = { bucket: 'src-bucket', name: 'docs/caf\u00e9 menu.txt' };

/** Every push fixture, the decoder it needs, and what it decodes to (with REPLICATE_DELETES=true). */
const FIXTURES = [
  {
    file: 'push/envelope-finalize.json',
    unwrapped: false,
    expected: {
      type: 'event',
      messageId: '13500356927496703',
      event: { kind: 'finalize', ref: { ...DOC_REF, generation: '1736358966947877' }, eventTime: '2025-01-08T17:56:06.952527Z', timeCreated: '2025-01-08T17:56:06.952Z', size: 1028818 },
    },
  },
  {
    file: 'push/emulator-wrapped-finalize.json',
    unwrapped: false,
    expected: {
      type: 'event',
      messageId: '1',
      event: { kind: 'finalize', ref: { ...CAFE_REF, generation: '1795874529370127' }, eventTime: '2026-11-28T14:02:09Z', timeCreated: '2026-11-28T14:02:09.370105Z', size: 5 },
    },
  },
  {
    file: 'push/emulator-wrapped-overwrite-delete.json',
    unwrapped: false,
    expected: { type: 'ignored', messageId: '3', reason: expect.stringMatching(OVERWRITE), ref: { ...CAFE_REF, generation: '1795874529370127' } },
  },
  {
    file: 'push/emulator-unwrapped-finalize.json',
    unwrapped: true,
    expected: {
      type: 'event',
      messageId: '1',
      event: { kind: 'finalize', ref: { ...CAFE_REF, generation: '1795874529370127' }, eventTime: '2026-11-28T14:02:09Z', timeCreated: '2026-11-28T14:02:09.370105Z', size: 5 },
    },
  },
  {
    file: 'push/emulator-unwrapped-overwrite-delete.json',
    unwrapped: true,
    expected: { type: 'ignored', messageId: '3', reason: expect.stringMatching(OVERWRITE), ref: { ...CAFE_REF, generation: '1795874529370127' } },
  },
  {
    file: 'push/unwrapped-delete-overwritten.json',
    unwrapped: true,
    expected: { type: 'ignored', messageId: '13500356927511202', reason: expect.stringMatching(OVERWRITE), ref: { ...DOC_REF, generation: '1736358966947877' } },
  },
];

describe('push fixtures', () => {
  it('has an expectation for every fixture file', () => {
    expect(FIXTURES.map((f) => f.file).sort()).toEqual(fixtureFiles('push/'));
  });

  it.each(FIXTURES)('$file', ({ file, unwrapped, expected }) => {
    const { headers, rawHeaders, body } = pushFixture(file);
    expect(isUnwrappedPush(headers)).toBe(unwrapped);
    if (unwrapped) {
      expect(decodeUnwrappedPush(headers, body, WITH_DELETES)).toEqual(expected);
      // Names in any case (the emulator sends "eventType", Node lower-cases it).
      expect(decodeUnwrappedPush(rawHeaders, body, WITH_DELETES)).toEqual(expected);
    } else {
      expect(decodePushEnvelope(JSON.parse(body.toString('utf8')), WITH_DELETES)).toEqual(expected);
      // Raw JSON text or bytes are parsed the same way.
      expect(decodePushEnvelope(body, WITH_DELETES)).toEqual(expected);
      expect(decodePushEnvelope(body.toString('utf8'), WITH_DELETES)).toEqual(expected);
    }
  });

  it('decodes a push exactly like the pulled notification it wraps', () => {
    const { body } = pushFixture('push/envelope-finalize.json');
    const { messageId: _, ...pushed } = decodePushEnvelope(body, ALL);
    expect(pushed).toEqual(decodeNotification(notificationFixture('notifications/finalize-json-api-v1.json'), ALL));
  });
});

/** A valid wrapped push of a finalize, to break one piece at a time. */
function envelope(message: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    subscription: 'projects/p/subscriptions/s',
    message: {
      attributes: { bucketId: 'b', objectId: 'o', objectGeneration: '5', eventType: 'OBJECT_FINALIZE', payloadFormat: 'JSON_API_V1' },
      data: Buffer.from('{"bucket":"b","name":"o","generation":"5"}').toString('base64'),
      messageId: 'm-1',
      publishTime: '2025-01-01T00:00:00.000Z',
      ...message,
    },
  };
}

describe('decodePushEnvelope', () => {
  it.each([
    ['standard base64', Buffer.from('{"name":"o"}').toString('base64')],
    ['base64 without padding', Buffer.from('{"name":"o"}').toString('base64').replace(/=+$/, '')],
    ['URL-safe base64', Buffer.from('{"name":"o","x":"??>>"}').toString('base64url')],
    ['no data with payloadFormat NONE', undefined],
  ])('accepts data as %s', (_label, data) => {
    const attributes = { bucketId: 'b', objectId: 'o', objectGeneration: '5', eventType: 'OBJECT_FINALIZE', payloadFormat: data === undefined ? 'NONE' : 'JSON_API_V1' };
    expect(decodePushEnvelope(envelope({ data, attributes }), ALL)).toMatchObject({ type: 'event', messageId: 'm-1' });
  });

  it('reads message_id / publish_time when the camelCase fields are absent', () => {
    const result = decodePushEnvelope(envelope({ messageId: undefined, publishTime: undefined, message_id: 'm-2', publish_time: '2025-01-01T00:00:03.000Z' }), ALL);
    expect(result).toMatchObject({ type: 'event', messageId: 'm-2', event: { eventTime: '2025-01-01T00:00:03.000Z' } });
  });

  it('applies the policy like a pulled notification', () => {
    const attributes = { bucketId: 'b', objectId: 'o', objectGeneration: '5', eventType: 'OBJECT_DELETE', payloadFormat: 'NONE' };
    expect(decodePushEnvelope(envelope({ attributes, data: undefined }), ALL)).toMatchObject({ type: 'ignored', reason: expect.stringMatching(/REPLICATE_DELETES/) });
    expect(decodePushEnvelope(envelope({ attributes, data: undefined }), WITH_DELETES)).toMatchObject({ type: 'event', event: { kind: 'delete' } });
  });

  it.each([
    ['a null body', null, /push body is null, not a JSON object/],
    ['an array body', [], /push body is an array/],
    ['a number body', 7, /push body is a number/],
    ['body text that is not JSON', 'hello', /push body is not JSON/],
    ['body bytes that are not UTF-8', Buffer.from([0xff, 0xfe]), /push body is not valid UTF-8/],
    ['no message', { subscription: 's' }, /push body has no message object/],
    ['a message that is a string', { message: 'x' }, /no message object \(message is a string\)/],
    ['no attributes', envelope({ attributes: undefined }), /push message has no attributes/],
    ['attributes that are an array', envelope({ attributes: ['eventType'] }), /attributes is an array, not an object/],
    ['an attribute that is not a string', envelope({ attributes: { eventType: 'OBJECT_DELETE', overwrittenByGeneration: 6 } }), /attribute "overwrittenByGeneration" is a number, not a string/],
    ['data that is not base64', envelope({ data: '{"name":"o"}' }), /data is not valid base64/],
    ['data with a bad length', envelope({ data: 'abcde' }), /data is not valid base64/],
    ['data with misplaced padding', envelope({ data: 'ab=c' }), /data is not valid base64/],
    ['data mixing base64 alphabets', envelope({ data: 'ab+_' }), /data is not valid base64/],
    ['data that is a number', envelope({ data: 12 }), /data is a number, not a base64 string/],
    ['data that decodes to something other than JSON', envelope({ data: Buffer.from('hi').toString('base64') }), /is not JSON/],
    ['a notification missing an attribute', envelope({ attributes: { bucketId: 'b', objectId: 'o', eventType: 'OBJECT_FINALIZE' } }), /attribute objectGeneration is missing/],
  ])('reports %s as malformed', (_label, body, reason) => {
    expect(decodePushEnvelope(body, ALL)).toMatchObject({ type: 'malformed', reason: expect.stringMatching(reason) });
  });

  it('keeps the message id on a malformed message, for the log line', () => {
    expect(decodePushEnvelope(envelope({ data: '!!!' }), ALL)).toMatchObject({ type: 'malformed', messageId: 'm-1' });
  });
});

describe('decodeUnwrappedPush', () => {
  const headers = {
    'x-goog-pubsub-message-id': 'u-1',
    'x-goog-pubsub-publish-time': '2025-01-01T00:00:09.000Z',
    'x-goog-pubsub-subscription-name': 'projects/p/subscriptions/s',
    eventtype: 'OBJECT_FINALIZE',
    bucketid: 'b',
    objectid: 'o',
    objectgeneration: '5',
    payloadformat: 'NONE',
  };

  it('takes attributes from headers and falls back to the publish time header', () => {
    expect(decodeUnwrappedPush(headers, Buffer.alloc(0), ALL)).toEqual({
      type: 'event',
      messageId: 'u-1',
      event: { kind: 'finalize', ref: { bucket: 'b', name: 'o', generation: '5' }, eventTime: '2025-01-01T00:00:09.000Z' },
    });
  });

  it('recovers a UTF-8 object name that Node decoded as Latin-1', () => {
    const name = 'r\u00e9sum\u00e9/\u65e5\u672c.txt';
    const latin1 = Buffer.from(name, 'utf8').toString('latin1');
    const body = Buffer.from(JSON.stringify({ name, bucket: 'b', generation: '5' }));
    const result = decodeUnwrappedPush({ ...headers, objectid: latin1, payloadformat: 'JSON_API_V1' }, body, ALL);
    expect(result).toMatchObject({ type: 'event', event: { ref: { name } } });
  });

  it('keeps a Latin-1 header value that is not UTF-8 as it is', () => {
    const result = decodeUnwrappedPush({ ...headers, objectid: 'caf\u00e9' }, Buffer.alloc(0), ALL);
    expect(result).toMatchObject({ type: 'event', event: { ref: { name: 'caf\u00e9' } } });
  });

  it.each([
    ['no attribute headers (write metadata off)', { 'content-type': 'application/json' }, /--push-no-wrapper-write-metadata/],
    ['a missing attribute header', { ...headers, objectgeneration: undefined }, /attribute objectGeneration is missing/],
    ['a repeated attribute header', { ...headers, eventtype: ['OBJECT_FINALIZE', 'OBJECT_DELETE'] }, /eventType "OBJECT_FINALIZE, OBJECT_DELETE" is not one of/],
  ])('reports %s as malformed', (_label, h, reason) => {
    expect(decodeUnwrappedPush(h, Buffer.alloc(0), ALL)).toMatchObject({ type: 'malformed', reason: expect.stringMatching(reason) });
  });

  it('says when a JSON_API_V1 body contradicts the headers', () => {
    const body = Buffer.from('{"name":"other"}');
    expect(decodeUnwrappedPush({ ...headers, payloadformat: 'JSON_API_V1' }, body, ALL)).toMatchObject({
      type: 'malformed',
      messageId: 'u-1',
      reason: expect.stringMatching(/payload.name "other" contradicts attribute objectId "o"/),
    });
  });
});

describe('isUnwrappedPush', () => {
  it.each([
    [{ 'content-type': 'application/json', 'user-agent': 'CloudPubSub-Google' }, false],
    [{ 'x-goog-pubsub-message-id': '1' }, true],
    [{ 'X-Goog-Pubsub-Message-Id': '1' }, true],
    [{ eventType: 'OBJECT_FINALIZE' }, true],
    [{}, false],
  ])('%o → %s', (h, expected) => {
    expect(isUnwrappedPush(h)).toBe(expected);
  });
});
