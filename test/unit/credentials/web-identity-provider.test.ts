import { describe, expect, it } from 'vitest';
import { CredentialsError } from '../../../src/errors.js';
import { webIdentityCredentials, type AssumeRoleWithWebIdentity } from '../../../src/credentials/web-identity-provider.js';
import { createLogger, silentLogger } from '../../../src/log/logger.js';

const TOKEN_PREFIX = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.sig';

function stsFake(lifetimeMs: number, clock: { now: number }, script: Array<Error | 'ok'> = []) {
  const calls: Array<Parameters<AssumeRoleWithWebIdentity>[0]> = [];
  const assumeRole: AssumeRoleWithWebIdentity = async (params) => {
    calls.push(params);
    await new Promise((r) => setTimeout(r, 5));
    const step = script.shift();
    if (step instanceof Error) throw step;
    return {
      Credentials: { AccessKeyId: `AKIA${calls.length}`, SecretAccessKey: 'secret', SessionToken: 'session', Expiration: new Date(clock.now + lifetimeMs) },
      AssumedRoleUser: { Arn: 'arn:aws:sts::1:assumed-role/r/s' },
    };
  };
  return { calls, assumeRole };
}

function stsError(name: string, status = 400): Error {
  return Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });
}

function tokens() {
  let n = 0;
  return { fetch: async () => `${TOKEN_PREFIX}${++n}`, count: () => n };
}

const common = { roleArn: 'arn:aws:iam::123456789012:role/r', sessionName: 'gcs2s3-test', audience: 'aud', logger: silentLogger, baseDelayMs: 1 };

describe('webIdentityCredentials', () => {
  it('shares one STS call among concurrent callers and caches the result', async () => {
    const clock = { now: 1_000_000 };
    const sts = stsFake(3600_000, clock);
    const t = tokens();
    const provider = webIdentityCredentials({ ...common, durationSeconds: 3600, fetchIdToken: t.fetch, assumeRole: sts.assumeRole, now: () => clock.now });
    const results = await Promise.all(Array.from({ length: 50 }, () => provider()));
    expect(sts.calls).toHaveLength(1);
    expect(new Set(results.map((r) => r.accessKeyId))).toEqual(new Set(['AKIA1']));
    expect(results[0]!.expiration?.getTime()).toBe(clock.now + 3600_000);
    expect(sts.calls[0]).toMatchObject({ RoleArn: common.roleArn, RoleSessionName: 'gcs2s3-test', DurationSeconds: 3600, WebIdentityToken: `${TOKEN_PREFIX}1` });
    await provider();
    expect(sts.calls).toHaveLength(1);
  });

  it.each([
    // lifetime, elapsed before second call, expect refresh
    [3600_000, 3600_000 - 300_001, false],
    [3600_000, 3600_000 - 299_000, true],
    [30_000, 19_000, false],
    [30_000, 21_000, true],
  ])('with %d ms credentials, a call after %d ms refreshes: %s', async (lifetime, elapsed, refresh) => {
    const clock = { now: 0 };
    const sts = stsFake(lifetime, clock);
    const provider = webIdentityCredentials({ ...common, fetchIdToken: tokens().fetch, assumeRole: sts.assumeRole, now: () => clock.now });
    await provider();
    clock.now += elapsed;
    await provider();
    expect(sts.calls).toHaveLength(refresh ? 2 : 1);
  });

  it('uses a fresh ID token for every exchange and omits DurationSeconds when unset', async () => {
    const clock = { now: 0 };
    const sts = stsFake(1000, clock);
    const t = tokens();
    const provider = webIdentityCredentials({ ...common, fetchIdToken: t.fetch, assumeRole: sts.assumeRole, now: () => clock.now });
    await provider();
    clock.now += 2000;
    await provider();
    expect(sts.calls.map((c) => c.WebIdentityToken)).toEqual([`${TOKEN_PREFIX}1`, `${TOKEN_PREFIX}2`]);
    expect(sts.calls[0]).not.toHaveProperty('DurationSeconds');
  });

  it('refetches the token once after InvalidIdentityToken', async () => {
    const clock = { now: 0 };
    const sts = stsFake(3600_000, clock, [stsError('InvalidIdentityTokenException'), 'ok']);
    const t = tokens();
    const provider = webIdentityCredentials({ ...common, fetchIdToken: t.fetch, assumeRole: sts.assumeRole, now: () => clock.now });
    await provider();
    expect(sts.calls).toHaveLength(2);
    expect(t.count()).toBe(2);
  });

  it('gives up after a second InvalidIdentityToken, naming the code and no token', async () => {
    const clock = { now: 0 };
    const leaky = stsError('InvalidIdentityTokenException');
    leaky.message = `Incorrect token audience in ${TOKEN_PREFIX}1`;
    const sts = stsFake(3600_000, clock, [leaky, leaky]);
    const lines: string[] = [];
    const provider = webIdentityCredentials({ ...common, logger: createLogger({ level: 'debug', write: (l) => lines.push(l) }), fetchIdToken: tokens().fetch, assumeRole: sts.assumeRole, now: () => clock.now });
    const err = await provider().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialsError);
    expect((err as CredentialsError).code).toBe('InvalidIdentityToken');
    expect((err as Error).message).toMatch(/InvalidIdentityToken/);
    expect((err as Error).message).not.toContain(TOKEN_PREFIX);
    expect(lines.join('')).not.toContain(TOKEN_PREFIX);
    expect(sts.calls).toHaveLength(2);
  });

  it('retries IDPCommunicationError and throttling with backoff', async () => {
    const clock = { now: 0 };
    const sts = stsFake(3600_000, clock, [stsError('IDPCommunicationErrorException'), stsError('Throttling', 400), 'ok']);
    const provider = webIdentityCredentials({ ...common, fetchIdToken: tokens().fetch, assumeRole: sts.assumeRole, now: () => clock.now });
    await expect(provider()).resolves.toMatchObject({ accessKeyId: 'AKIA3' });
  });

  it('surfaces other STS errors at once with their code', async () => {
    const clock = { now: 0 };
    const sts = stsFake(3600_000, clock, [stsError('AccessDenied', 403)]);
    const provider = webIdentityCredentials({ ...common, fetchIdToken: tokens().fetch, assumeRole: sts.assumeRole, now: () => clock.now });
    await expect(provider()).rejects.toThrow(/AssumeRoleWithWebIdentity for arn:aws:iam::123456789012:role\/r failed: AccessDenied/);
    expect(sts.calls).toHaveLength(1);
  });

  it('invalidate() forces a new exchange', async () => {
    const clock = { now: 0 };
    const sts = stsFake(3600_000, clock);
    const provider = webIdentityCredentials({ ...common, fetchIdToken: tokens().fetch, assumeRole: sts.assumeRole, now: () => clock.now });
    await provider();
    provider.invalidate();
    await provider();
    expect(sts.calls).toHaveLength(2);
  });
});
