import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, startOidcFixture, type OidcFixture } from '../../../scripts/oidc-fixture.js';
import { bearerToken, createOidcAuthenticator, type PushAuthenticator } from '../../../src/server/authenticate.js';

const AUDIENCE = 'https://gcs2s3.example.run.app/pubsub/push';
const EMAIL = 'push-invoker@proj.iam.gserviceaccount.com';

let dir: string;
let fixture: OidcFixture;
let auth: PushAuthenticator;
let otherKey: JWK;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gcs2s3-auth-'));
  fixture = await startOidcFixture({ port: 0, keyFile: join(dir, 'key.json'), serviceAccountEmail: EMAIL });
  auth = createOidcAuthenticator({ issuers: [fixture.issuer], audiences: [AUDIENCE], serviceAccount: EMAIL, jwksUrl: fixture.jwksUrl });
  otherKey = await generateSigningKey();
});

afterAll(async () => {
  await fixture?.close();
  rmSync(dir, { recursive: true, force: true });
});

const now = () => Math.floor(Date.now() / 1000);
const bearer = (token: string) => `Bearer ${token}`;

describe('createOidcAuthenticator', () => {
  it('accepts a Google-shaped token for the audience and service account', async () => {
    expect(await auth.authenticate(bearer(await fixture.mintToken({ aud: AUDIENCE })))).toEqual({ ok: true });
  });

  it('accepts `aud` as an array holding the audience, the email in another case, and a lower-case scheme', async () => {
    const token = await fixture.mintToken({ aud: ['other', AUDIENCE], email: EMAIL.toUpperCase() });
    expect(await auth.authenticate(`bearer ${token}`)).toEqual({ ok: true });
  });

  it('accepts any audience of a PUSH_AUDIENCE list (push subscription and Eventarc service URL), and no other', async () => {
    const both = createOidcAuthenticator({ issuers: [fixture.issuer], audiences: [AUDIENCE, 'https://svc.example.run.app'], serviceAccount: EMAIL, jwksUrl: fixture.jwksUrl });
    expect(await both.authenticate(bearer(await fixture.mintToken({ aud: 'https://svc.example.run.app' })))).toEqual({ ok: true });
    expect(await both.authenticate(bearer(await fixture.mintToken({ aud: AUDIENCE })))).toEqual({ ok: true });
    expect(await both.authenticate(bearer(await fixture.mintToken({ aud: 'https://svc.example.run.app.evil' })))).toMatchObject({ ok: false, status: 403 });
  });

  it('tolerates a small clock skew on exp and iat', async () => {
    expect(await auth.authenticate(bearer(await fixture.mintToken({ aud: AUDIENCE, exp: now() - 10, iat: now() - 3600 })))).toEqual({ ok: true });
    expect(await auth.authenticate(bearer(await fixture.mintToken({ aud: AUDIENCE, iat: now() + 10 })))).toEqual({ ok: true });
  });

  const refused: Array<[string, () => Promise<string | undefined>, 401 | 403, RegExp]> = [
    ['no Authorization header', async () => undefined, 401, /no bearer token/],
    ['another scheme', async () => `Basic ${Buffer.from('a:b').toString('base64')}`, 401, /no bearer token/],
    ['an empty bearer', async () => 'Bearer ', 401, /no bearer token/],
    ['a token that is not a JWT', async () => bearer('not-a-jwt'), 401, /ERR_JWS_INVALID/],
    ['three garbage segments', async () => bearer('eyJ.eyJ.sig'), 401, /ERR_JWS_INVALID/],
    ['alg: none', async () => bearer(await fixture.mintToken({ aud: AUDIENCE }, { unsigned: true })), 401, /ERR_JOSE_ALG_NOT_ALLOWED/],
    ['a signature by another key under the fixture\'s kid', async () => bearer(await fixture.mintToken({ aud: AUDIENCE }, { signingKey: otherKey, kid: (await fixtureKid()) })), 401, /ERR_JWS_SIGNATURE_VERIFICATION_FAILED/],
    ['a signature by another key with its own kid', async () => bearer(await fixture.mintToken({ aud: AUDIENCE }, { signingKey: otherKey })), 401, /ERR_JWKS_NO_MATCHING_KEY/],
    ['HS256 keyed with the public key (algorithm confusion)', async () => bearer(await hs256WithPublicKey()), 401, /ERR_JOSE_ALG_NOT_ALLOWED/],
    ['an expired token', async () => bearer(await fixture.mintToken({ aud: AUDIENCE, iat: now() - 7200, exp: now() - 3600 })), 401, /ERR_JWT_EXPIRED claim exp/],
    ['an iat far in the future', async () => bearer(await fixture.mintToken({ aud: AUDIENCE, iat: now() + 600, exp: now() + 4200 })), 401, /claim iat/],
    ['a token older than an hour whose exp was stretched', async () => bearer(await fixture.mintToken({ aud: AUDIENCE, iat: now() - 7200, exp: now() + 3600 })), 401, /claim iat/],
    ['no exp', async () => bearer(await fixture.mintToken({ aud: AUDIENCE, exp: undefined })), 401, /claim exp/],
    ['another issuer', async () => bearer(await fixture.mintToken({ aud: AUDIENCE, iss: 'https://evil.example' })), 401, /claim iss/],
    ['the wrong audience', async () => bearer(await fixture.mintToken({ aud: 'https://other.example' })), 403, /audience/],
    ['no audience', async () => bearer(await fixture.mintToken({ aud: undefined })), 403, /audience/],
    ['the wrong email', async () => bearer(await fixture.mintToken({ aud: AUDIENCE, email: 'someone@proj.iam.gserviceaccount.com' })), 403, /email is not/],
    ['no email', async () => bearer(await fixture.mintToken({ aud: AUDIENCE, email: undefined })), 403, /email is not/],
    ['email_verified false', async () => bearer(await fixture.mintToken({ aud: AUDIENCE, email_verified: false })), 403, /not verified/],
    ['email_verified as the string "true"', async () => bearer(await fixture.mintToken({ aud: AUDIENCE, email_verified: 'true' })), 403, /not verified/],
  ];

  it.each(refused)('refuses %s', async (_label, header, status, reason) => {
    const result = await auth.authenticate(await header());
    expect(result).toMatchObject({ ok: false, status });
    expect(result.ok ? '' : result.reason).toMatch(reason);
  });

  it('never puts the token or a claim value in the reason', async () => {
    const token = await fixture.mintToken({ aud: 'aud-secret-value', email: 'who@secret.example' });
    const result = await auth.authenticate(bearer(token));
    const reason = result.ok ? '' : result.reason;
    expect(reason).not.toContain(token.slice(0, 20));
    expect(reason).not.toContain('aud-secret-value');
    expect(reason).not.toContain('who@secret.example');
  });

  it('answers 503, not 401, when the signing keys cannot be fetched', async () => {
    const unreachable = createOidcAuthenticator({ issuers: [fixture.issuer], audiences: [AUDIENCE], serviceAccount: EMAIL, jwksUrl: 'http://127.0.0.1:9/jwks' });
    expect(await unreachable.authenticate(bearer(await fixture.mintToken({ aud: AUDIENCE })))).toMatchObject({ ok: false, status: 503 });
    const notFound = createOidcAuthenticator({ issuers: [fixture.issuer], audiences: [AUDIENCE], serviceAccount: EMAIL, jwksUrl: `${fixture.url}/no-such-jwks` });
    expect(await notFound.authenticate(bearer(await fixture.mintToken({ aud: AUDIENCE })))).toMatchObject({ ok: false, status: 503 });
  });
});

describe('bearerToken', () => {
  it.each([
    ['no header', undefined, undefined],
    ['a bearer', 'Bearer abc.def.ghi', 'abc.def.ghi'],
    ['an upper-case scheme', 'BEARER abc.def.ghi', 'abc.def.ghi'],
    ['extra spaces', 'Bearer  abc.def.ghi ', 'abc.def.ghi'],
    ['two words', 'Bearer abc def', undefined],
    ['no token', 'Bearer', undefined],
    ['another scheme', 'Token abc', undefined],
    ['a 9000-character token', `Bearer ${'a'.repeat(9000)}`, undefined],
  ])('%s', (_label, header, token) => {
    expect(bearerToken(header)).toBe(token);
  });
});

async function fixtureKid(): Promise<string> {
  const token = await fixture.mintToken();
  return decodeProtectedHeader(token).kid!;
}

/** The classic confusion attack: HMAC with the RSA public key's bytes as the secret. */
async function hs256WithPublicKey(): Promise<string> {
  const jwks = (await (await fetch(fixture.jwksUrl)).json()) as { keys: JWK[] };
  const secret = new TextEncoder().encode(JSON.stringify(jwks.keys[0]));
  return new SignJWT({ aud: AUDIENCE, email: EMAIL, email_verified: true, iss: fixture.issuer })
    .setProtectedHeader({ alg: 'HS256', kid: jwks.keys[0]!.kid })
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(secret);
}
