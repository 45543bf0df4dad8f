import { describe, expect, it } from 'vitest';
import { PermanentError, redactSecrets } from '../../src/errors.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const SESSION = 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+abc=';
const KEY_ID = 'ASIAIOSFODNN7EXAMPLE';

/** An STS AssumeRoleWithWebIdentity answer, as AWS and MinIO send it. */
const STS_XML = `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials>
      <AccessKeyId>${KEY_ID}</AccessKeyId>
      <SecretAccessKey>${SECRET}</SecretAccessKey>
      <SessionToken>${SESSION}</SessionToken>
      <Expiration>2030-01-01T00:00:00Z</Expiration>
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
</AssumeRoleWithWebIdentityResponse>`;

describe('redactSecrets', () => {
  it.each([
    ['an STS response body (XML)', STS_XML],
    ['the same on one line', STS_XML.replace(/\s*\n\s*/g, '')],
    ['a response cut off inside the token', `Deserialization error: <SessionToken>${SESSION}`],
    ['XML with attributes or odd case', `<sessiontoken a="1">${SESSION}</sessiontoken><SECRETACCESSKEY>${SECRET}</SECRETACCESSKEY><accessKeyId>${KEY_ID}</accessKeyId>`],
    ['JSON fields', JSON.stringify({ accessKeyId: KEY_ID, secretAccessKey: SECRET, sessionToken: SESSION })],
    ['query parameters', `https://s3/x?X-Amz-Security-Token=${encodeURIComponent(SESSION)}&AccessKeyId=${KEY_ID}`],
  ])('removes credentials from %s', (_label, text) => {
    const out = redactSecrets(text);
    expect(out).not.toContain(SECRET);
    expect(out).not.toContain(SESSION);
    expect(out).not.toContain(encodeURIComponent(SESSION));
    expect(out).not.toContain(KEY_ID);
    expect(out).toContain('[redacted]');
  });

  it('keeps the rest of an STS answer readable', () => {
    const out = redactSecrets(STS_XML);
    expect(out).toContain('<Expiration>2030-01-01T00:00:00Z</Expiration>');
    expect(out).toContain('<SessionToken>[redacted]</SessionToken>');
    expect(out).toContain('<AccessKeyId>[redacted]</AccessKeyId>');
  });

  it('removes JWTs anywhere, and leaves ordinary text alone', () => {
    expect(redactSecrets('token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln here')).toBe('token [redacted-jwt] here');
    const plain = 'S3 PutObject s3://b/k failed: SlowDown (HTTP 503): Please reduce your request rate.';
    expect(redactSecrets(plain)).toBe(plain);
  });

  it('applies to every classified error message', () => {
    expect(new PermanentError(`STS said ${STS_XML}`).message).not.toContain(SESSION);
  });
});
