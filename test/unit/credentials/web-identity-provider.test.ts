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

  it('retries a failed ID-token fetch with backoff, like a failed STS call', async () => {
    const clock = { now: 0 };
    const sts = stsFake(3600_000, clock);
    const t = tokens();
    let failures = 2;
    const fetchIdToken = async () => {
      if (failures-- > 0) throw new CredentialsError('fetching a Google ID token failed: connect ECONNRESET 169.254.169.254:80', { code: 'IdTokenFetchFailed' });
      return t.fetch();
    };
    const sleeps: number[] = [];
    const provider = webIdentityCredentials({ ...common, fetchIdToken, assumeRole: sts.assumeRole, now: () => clock.now, sleep: async (ms) => void sleeps.push(ms) });
    await expect(provider()).resolves.toMatchObject({ accessKeyId: 'AKIA1' });
    expect(sleeps).toHaveLength(2);
    expect(sts.calls).toHaveLength(1);
  });

  it('does not retry an ID-token fetch that can never work', async () => {
    const clock = { now: 0 };
    const sts = stsFake(3600_000, clock);
    let fetches = 0;
    const fetchIdToken = async () => {
      fetches++;
      throw new CredentialsError('the Google credentials found cannot mint ID tokens', { code: 'IdTokenUnsupported' });
    };
    const provider = webIdentityCredentials({ ...common, fetchIdToken, assumeRole: sts.assumeRole, now: () => clock.now, sleep: async () => undefined });
    await expect(provider()).rejects.toMatchObject({ code: 'IdTokenUnsupported' });
    expect(fetches).toBe(1);
  });

  describe('a refresh that fails while the current credentials are still valid', () => {
    function setup(script: Array<Error | 'ok'>) {
      const clock = { now: 0 };
      const sts = stsFake(3600_000, clock, script);
      const lines: string[] = [];
      const logger = createLogger({ level: 'info', write: (l) => lines.push(l) });
      const t = tokens();
      const tokenFailure: { current?: Error } = {};
      const provider = webIdentityCredentials({
        ...common,
        logger,
        fetchIdToken: async () => {
          if (tokenFailure.current) throw tokenFailure.current;
          return t.fetch();
        },
        assumeRole: sts.assumeRole,
        now: () => clock.now,
        // A fake clock: backoff advances it instead of waiting.
        sleep: async (ms) => {
          clock.now += ms;
        },
      });
      const warnings = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.severity === 'WARNING');
      return { clock, sts, provider, warnings, lines, tokenFailure };
    }
    const down = () => stsError('ServiceUnavailable', 503);

    it('keeps serving them, with one WARNING naming the error and never the token, until a later refresh succeeds', async () => {
      const { clock, sts, provider, warnings, lines } = setup(['ok', down(), down(), down(), down(), 'ok']);
      const first = await provider();
      // Inside the SDK's 5-minute window: a refresh is due, and STS is down for all 4 attempts.
      clock.now += 3600_000 - 240_000;
      await expect(provider()).resolves.toBe(first);
      expect(sts.calls).toHaveLength(5);
      const refreshWarnings = warnings().filter((w) => /still valid/.test(String(w.message)));
      expect(refreshWarnings).toHaveLength(1);
      expect(JSON.stringify(refreshWarnings[0])).toMatch(/ServiceUnavailable/);
      expect(lines.join('')).not.toContain(TOKEN_PREFIX);
      // Calls right after the failure do not wait on STS again.
      await expect(provider()).resolves.toBe(first);
      expect(sts.calls).toHaveLength(5);
      // Later, still before expiry, a new attempt succeeds and replaces them.
      clock.now += 60_000;
      const next = await provider();
      expect(next.accessKeyId).toBe('AKIA6');
      expect(sts.calls).toHaveLength(6);
    });

    it('also after a refused role', async () => {
      const { clock, provider, warnings } = setup(['ok', stsError('AccessDenied', 403)]);
      const first = await provider();
      clock.now += 3600_000 - 200_000;
      await expect(provider()).resolves.toBe(first);
      expect(warnings().some((w) => /AccessDenied/.test(JSON.stringify(w)))).toBe(true);
    });

    it('also when no ID token can be had (metadata server down): no STS call is made', async () => {
      const { clock, sts, provider, warnings, tokenFailure } = setup(['ok']);
      const first = await provider();
      clock.now += 3600_000 - 200_000;
      tokenFailure.current = new CredentialsError('fetching a Google ID token failed: connect ECONNREFUSED', { code: 'IdTokenFetchFailed' });
      await expect(provider()).resolves.toBe(first);
      expect(sts.calls).toHaveLength(1);
      expect(warnings().some((w) => /IdTokenFetchFailed/.test(JSON.stringify(w)))).toBe(true);
    });

    it('fails once they are about to expire: nothing valid is left to serve', async () => {
      const { clock, provider } = setup(['ok', down(), down(), down(), down()]);
      await provider();
      clock.now += 3600_000 - 30_000;
      await expect(provider()).rejects.toThrow(/ServiceUnavailable/);
    });

    it('fails after invalidate(): credentials S3 rejected are never served again', async () => {
      const { clock, provider } = setup(['ok', down(), down(), down(), down()]);
      await provider();
      clock.now += 3600_000 - 240_000;
      provider.invalidate();
      await expect(provider()).rejects.toBeInstanceOf(CredentialsError);
    });
  });
});

