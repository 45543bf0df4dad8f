import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { parseObjectUrl, parsePrefixUrl } from '../../../src/main/gs-url.js';

describe('parseObjectUrl', () => {
  it.each([
    ['gs://bkt/a/b.txt', { bucket: 'bkt', name: 'a/b.txt' }],
    ['gs://bkt/a#12345', { bucket: 'bkt', name: 'a', generation: '12345' }],
    ['gs://bkt/notes#draft', { bucket: 'bkt', name: 'notes#draft' }],
    ['gs://bkt/x#1#2', { bucket: 'bkt', name: 'x#1', generation: '2' }],
    ['gs://bkt/dïr/ファイル', { bucket: 'bkt', name: 'dïr/ファイル' }],
  ])('%s', (url, ref) => expect(parseObjectUrl(url)).toEqual(ref));

  it.each([['s3://bkt/a'], ['gs://bkt'], ['gs://bkt/'], ['gs://B/a'], ['gs://bkt/a#99999999999999999999']])('rejects %s', (url) => {
    expect(() => parseObjectUrl(url)).toThrow(ConfigError);
  });
});

describe('parsePrefixUrl', () => {
  it.each([
    ['gs://bkt', { bucket: 'bkt', prefix: '' }],
    ['gs://bkt/', { bucket: 'bkt', prefix: '' }],
    ['gs://bkt/logs/2026', { bucket: 'bkt', prefix: 'logs/2026' }],
  ])('%s', (url, expected) => expect(parsePrefixUrl(url)).toEqual(expected));
});
