import { CloudEvent, HTTP } from 'cloudevents';
import { describe, expect, it } from 'vitest';
import { decodeCloudEventRequest, decodePushRequest } from '../../../src/server/decode-request.js';
import { cloudEventFixture, pushFixture, WITH_DELETES } from '../events/fixtures.js';

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

const attributes = { eventType: 'OBJECT_FINALIZE', bucketId: 'b', objectId: 'dir/o.txt', objectGeneration: '1700000000000001', payloadFormat: 'JSON_API_V1' };
const resource = { kind: 'storage#object', bucket: 'b', name: 'dir/o.txt', generation: '1700000000000001' };
const envelope = (message: Record<string, unknown>) => json({ message: { messageId: '7', publishTime: '2024-05-01T00:00:00Z', ...message }, subscription: 'projects/p/subscriptions/s' });
const data = Buffer.from(JSON.stringify(resource)).toString('base64');

describe('decodePushRequest', () => {
  it.each([
    ['the emulator\'s wrapped push', 'push/emulator-wrapped-finalize.json', 'finalize'],
    ['a documented wrapped push', 'push/envelope-finalize.json', 'finalize'],
    ['the emulator\'s unwrapped push (write-metadata headers)', 'push/emulator-unwrapped-finalize.json', 'finalize'],
  ])('decodes %s into an event', (_label, path, kind) => {
    const { headers, body } = pushFixture(path);
    const verdict = decodePushRequest(headers, body, WITH_DELETES);
    expect(verdict).toMatchObject({ kind: 'delivery', decoded: { type: 'event', event: { kind } } });
  });

  it('carries the message id for the log line', () => {
    expect(decodePushRequest({}, envelope({ data, attributes }), WITH_DELETES)).toMatchObject({ kind: 'delivery', ids: { messageId: '7' } });
  });

  // Requests Pub/Sub never sends: the caller is told (400).
  it.each([
    ['a body that is not JSON', Buffer.from('hello')],
    ['a body that is not UTF-8', Buffer.from([0xff, 0xfe, 0x7b])],
    ['an empty body', Buffer.alloc(0)],
    ['a JSON array', json([1, 2])],
    ['an envelope without message', json({ subscription: 'projects/p/subscriptions/s' })],
    ['a message that is a string', json({ message: 'hi' })],
    ['a bare object resource (unwrapped push without write-metadata)', json(resource)],
  ])('%s is not a push (400)', (_label, body) => {
    expect(decodePushRequest({ 'content-type': 'application/json' }, body, WITH_DELETES)).toMatchObject({ kind: 'not-a-push' });
  });

  // Real deliveries of poison messages: acked (204) and logged, never redelivered forever.
  it.each([
    ['base64 that does not decode', { data: '!!not base64!!', attributes }],
    ['no attributes', { data }],
    ['attributes without objectId', { data, attributes: { ...attributes, objectId: undefined } }],
    ['an unknown eventType', { data, attributes: { ...attributes, eventType: 'OBJECT_EXPLODE' } }],
    ['a payload contradicting the attributes', { data: Buffer.from(JSON.stringify({ ...resource, name: 'other' })).toString('base64'), attributes }],
  ])('a push message with %s is a malformed delivery', (_label, message) => {
    expect(decodePushRequest({}, envelope(message), WITH_DELETES)).toMatchObject({ kind: 'delivery', decoded: { type: 'malformed' } });
  });

  it('an unwrapped push with headers but no eventType is a malformed delivery', () => {
    const verdict = decodePushRequest({ 'x-goog-pubsub-message-id': '9', bucketid: 'b' }, json(resource), WITH_DELETES);
    expect(verdict).toMatchObject({ kind: 'delivery', decoded: { type: 'malformed' }, ids: { messageId: '9' } });
  });
});

describe('decodeCloudEventRequest', () => {
  const fixture = cloudEventFixture('cloudevents/finalized.json');
  const event = new CloudEvent({ ...(fixture as unknown as Record<string, unknown>) }, false);

  it('decodes binary mode', () => {
    const message = HTTP.binary(event);
    const verdict = decodeCloudEventRequest(message.headers, Buffer.from(message.body as string), WITH_DELETES);
    expect(verdict).toMatchObject({
      kind: 'delivery',
      ids: { ceId: fixture.id },
      decoded: { type: 'event', event: { kind: 'finalize', ref: { bucket: 'sample-bucket', name: 'folder/Test.cs', generation: '1587627537231057' } } },
    });
  });

  it('decodes structured mode, with a charset parameter on the media type', () => {
    const message = HTTP.structured(event);
    const verdict = decodeCloudEventRequest({ 'content-type': 'application/cloudevents+json; charset=utf-8' }, Buffer.from(message.body as string), WITH_DELETES);
    expect(verdict).toMatchObject({ kind: 'delivery', decoded: { type: 'event', event: { kind: 'finalize' } } });
  });

  it('decodes binary mode with `application/json; charset=utf-8`', () => {
    const message = HTTP.binary(event);
    const headers = { ...message.headers, 'content-type': 'application/json; charset=utf-8' };
    expect(decodeCloudEventRequest(headers, Buffer.from(message.body as string), WITH_DELETES)).toMatchObject({ kind: 'delivery', decoded: { type: 'event' } });
  });

  it.each([
    ['deleted', 'delete'],
    ['archived', 'delete'],
    ['metadataUpdated', 'metadataUpdate'],
  ])('decodes .%s', (name, kind) => {
    const ce = new CloudEvent({ ...(cloudEventFixture(`cloudevents/${name}.json`) as unknown as Record<string, unknown>) }, false);
    const message = HTTP.binary(ce);
    expect(decodeCloudEventRequest(message.headers, Buffer.from(message.body as string), WITH_DELETES)).toMatchObject({ kind: 'delivery', decoded: { type: 'event', event: { kind } } });
  });

  const binaryHeaders = { 'content-type': 'application/json', 'ce-id': '1', 'ce-specversion': '1.0', 'ce-type': 'google.cloud.storage.object.v1.finalized', 'ce-source': '//storage.googleapis.com/projects/_/buckets/b' };
  it.each([
    ['no ce-* headers and a JSON body', { 'content-type': 'application/json' }, json(resource)],
    ['binary mode without ce-source', { ...binaryHeaders, 'ce-source': undefined }, json(resource)],
    ['binary mode without ce-type', { ...binaryHeaders, 'ce-type': undefined }, json(resource)],
    ['binary mode with specversion 0.1', { ...binaryHeaders, 'ce-specversion': '0.1' }, json(resource)],
    ['binary mode with a body that is not JSON', binaryHeaders, Buffer.from('{nope')],
    ['structured mode that is not JSON', { 'content-type': 'application/cloudevents+json' }, Buffer.from('{')],
    ['structured mode without source', { 'content-type': 'application/cloudevents+json' }, json({ specversion: '1.0', id: '1', type: 't', data: resource })],
    ['a batch', { 'content-type': 'application/cloudevents-batch+json' }, json([])],
    ['a body that is not UTF-8', binaryHeaders, Buffer.from([0xff, 0xfe])],
  ])('%s is not a CloudEvent (400)', (_label, headers, body) => {
    expect(decodeCloudEventRequest(headers, body, WITH_DELETES)).toMatchObject({ kind: 'not-a-push' });
  });

  it.each([
    ['data without a generation', json({ bucket: 'b', name: 'o' })],
    ['data that is a JSON string', json('hello')],
    ['data naming another bucket than the source', json({ ...resource, bucket: 'other' })],
  ])('a CloudEvent with %s is a malformed delivery', (_label, body) => {
    expect(decodeCloudEventRequest(binaryHeaders, body, WITH_DELETES)).toMatchObject({ kind: 'delivery', decoded: { type: 'malformed' } });
  });

  it('another CloudEvent type is ignored', () => {
    const verdict = decodeCloudEventRequest({ ...binaryHeaders, 'ce-type': 'google.cloud.audit.log.v1.written' }, json({}), WITH_DELETES);
    expect(verdict).toMatchObject({ kind: 'delivery', decoded: { type: 'ignored' } });
  });
});
