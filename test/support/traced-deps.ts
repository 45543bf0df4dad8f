/**
 * Fakes at the ports, composed the way src/main/runtime.ts composes the real
 * adapters when TRACE_EXPORTER is set, for tests of request context (logs
 * and spans) without the emulator stack.
 */
import type { Readable } from 'node:stream';
import { tracedAssumeRole } from '../../src/credentials/traced-assume-role.js';
import { webIdentityCredentials, type AssumeRoleWithWebIdentity } from '../../src/credentials/web-identity-provider.js';
import type { Logger } from '../../src/log/logger.js';
import type { ReplicateDeps } from '../../src/replicate/replicate-object.js';
import type { WriteCondition, WriteSpec } from '../../src/replicate/ports.js';
import { TracedSink } from '../../src/sink/traced-sink.js';
import { TracedSource } from '../../src/source/traced-source.js';
import { FakeSink, FakeSource } from './fakes.js';

/** Gets AWS credentials before each write, as the S3 client does inside its request: STS runs deep in a copy. */
export class CredentialedSink extends FakeSink {
  readonly #credentials: () => Promise<unknown>;

  constructor(credentials: () => Promise<unknown>) {
    super();
    this.#credentials = credentials;
  }

  override async write(key: string, body: Readable, spec: WriteSpec, condition: WriteCondition): Promise<void> {
    await this.#credentials();
    return super.write(key, body, spec, condition);
  }
}

/** An STS that answers after a tick with one-hour credentials. */
export const fakeAssumeRole: AssumeRoleWithWebIdentity = async () => {
  await new Promise((r) => setTimeout(r, 1));
  return { Credentials: { AccessKeyId: 'AKIAFAKE', SecretAccessKey: 'secret', SessionToken: 'session', Expiration: new Date(Date.now() + 3600_000) }, AssumedRoleUser: { Arn: 'arn:aws:sts::1:assumed-role/r/s' } };
};

/**
 * Deps whose sink obtains credentials through the web-identity provider
 * (which logs through `logger`, the process's logger: never a per-request one).
 */
export function tracedFakeDeps(logger: Logger, options: { traced: boolean } = { traced: true }): { deps: ReplicateDeps; source: FakeSource; sink: CredentialedSink } {
  const assumeRole = options.traced ? tracedAssumeRole(fakeAssumeRole) : fakeAssumeRole;
  const credentials = webIdentityCredentials({ roleArn: 'arn:aws:iam::123456789012:role/r', sessionName: 'gcs2s3-test', audience: 'aud', logger, fetchIdToken: async () => 'id-token', assumeRole });
  const source = new FakeSource();
  const sink = new CredentialedSink(() => credentials());
  const deps: ReplicateDeps = options.traced
    ? { source: new TracedSource(source), sink: new TracedSink(sink, 'dest'), keyPrefix: 'p/' }
    : { source, sink, keyPrefix: 'p/' };
  return { deps, source, sink };
}
