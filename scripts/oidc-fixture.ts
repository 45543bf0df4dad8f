/**
 * Local stand-in for two Google services on one loopback port (default 8900):
 *
 * - an OIDC issuer (discovery document + JWKS) that MinIO's STS trusts through
 *   MINIO_IDENTITY_OPENID_CONFIG_URL, and that `gcs2s3 serve` trusts for push tokens;
 * - the GCE/Cloud Run metadata server (GCE_METADATA_HOST), whose
 *   `…/service-accounts/default/identity?audience=…` returns RS256 ID tokens shaped
 *   like Google's: iss, aud, azp = sub = the numeric unique id, email, email_verified,
 *   iat, exp, and a `kid` header.
 *
 * The RSA key is generated once and kept as a private JWK in `.local-stack/oidc-key.json`
 * so restarts and second in-process instances (say, with a 60 s token lifetime) sign
 * with the key MinIO has already fetched.
 *
 * CLI: node --import tsx scripts/oidc-fixture.ts [--port 8900] [--host 127.0.0.1]
 *        [--key-file PATH] [--lifetime SECONDS] [--issuer URL] [--email E] [--unique-id N]
 * (env: OIDC_FIXTURE_PORT, OIDC_FIXTURE_HOST, OIDC_FIXTURE_KEY_FILE,
 *  OIDC_TOKEN_LIFETIME_SECONDS, OIDC_FIXTURE_ISSUER).
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { base64url, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';

export const DEFAULT_KEY_FILE = fileURLToPath(new URL('../.local-stack/oidc-key.json', import.meta.url));
export const DEFAULT_SERVICE_ACCOUNT_EMAIL = 'gcs2s3-worker@gcs2s3-local.iam.gserviceaccount.com';
/** Google unique ids are 21-digit decimal strings. */
export const DEFAULT_UNIQUE_ID = '112233445566778899001';
export const DEFAULT_AUDIENCE = 'gcs2s3-local';

export interface OidcFixtureOptions {
  /** Port to listen on; 0 picks a free one. Default 8900. */
  port?: number;
  /** Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Private JWK file; created on first use. Default `<repo>/.local-stack/oidc-key.json`. */
  keyFile?: string;
  /** Lifetime of minted ID tokens, seconds. Default 3600 (Google's). */
  tokenLifetimeSeconds?: number;
  /** `iss` of minted tokens and of the discovery document. Default the server's own URL. */
  issuer?: string;
  serviceAccountEmail?: string;
  /** The service account's numeric unique id: `sub` and `azp`. */
  uniqueId?: string;
  projectId?: string;
  /** Receives one line per request; default silent. */
  log?: (line: string) => void;
}

export interface MintOptions {
  /** Sign with this private JWK instead of the fixture's (e.g. from `generateSigningKey`). */
  signingKey?: JWK;
  /** `alg: none`, unsigned (must be refused by every verifier). */
  unsigned?: boolean;
  /** Header `kid`; default the signing key's kid; `null` omits it. */
  kid?: string | null;
  /** Lifetime for this token, seconds; ignored if the claims set `exp`. */
  lifetimeSeconds?: number;
}

/** Claim overrides; a claim set to `undefined` is removed. */
export type ClaimOverrides = Record<string, unknown>;

export interface OidcFixture {
  /** Where the server listens, e.g. http://127.0.0.1:8900 */
  url: string;
  issuer: string;
  jwksUrl: string;
  discoveryUrl: string;
  keyFile: string;
  serviceAccountEmail: string;
  uniqueId: string;
  /** A Google-shaped ID token (aud defaults to `gcs2s3-local`), with overrides. */
  mintToken(claims?: ClaimOverrides, options?: MintOptions): Promise<string>;
  close(): Promise<void>;
}

/** A fresh RS256 private JWK with `kid` set to its RFC 7638 thumbprint. */
export async function generateSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { ...jwk, kid, alg: 'RS256', use: 'sig' };
}

/** Reads the key file, or creates it (0600) if missing; safe against a concurrent creator. */
export async function loadOrCreateSigningKey(keyFile: string): Promise<JWK> {
  try {
    return JSON.parse(await readFile(keyFile, 'utf8')) as JWK;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dirname(keyFile), { recursive: true });
  const tmp = `${keyFile}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, `${JSON.stringify(await generateSigningKey())}\n`, { mode: 0o600 });
  try {
    // link() is an atomic exclusive create of a complete file: whoever loses
    // the race (a second instance starting at once) reads the winner's key.
    await link(tmp, keyFile);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await rm(tmp, { force: true });
  }
  return JSON.parse(await readFile(keyFile, 'utf8')) as JWK;
}

function publicPart(jwk: JWK): JWK {
  const { kty, n, e, kid } = jwk;
  if (kty !== 'RSA' || n === undefined || e === undefined || kid === undefined) throw new Error('signing key must be an RSA JWK with n, e and kid');
  return { kty, n, e, kid, alg: 'RS256', use: 'sig' };
}

async function signToken(claims: Record<string, unknown>, key: JWK, options: MintOptions): Promise<string> {
  const kid = options.kid === undefined ? key.kid : options.kid;
  if (options.unsigned === true) {
    const header = { alg: 'none', typ: 'JWT', ...(kid === null || kid === undefined ? {} : { kid }) };
    const encode = (value: unknown): string => base64url.encode(JSON.stringify(value));
    return `${encode(header)}.${encode(claims)}.`;
  }
  const header = { alg: 'RS256', typ: 'JWT', ...(kid === null || kid === undefined ? {} : { kid }) };
  return new SignJWT(claims).setProtectedHeader(header).sign(await importJWK(key, 'RS256'));
}

export async function startOidcFixture(options: OidcFixtureOptions = {}): Promise<OidcFixture> {
  const host = options.host ?? '127.0.0.1';
  const keyFile = options.keyFile ?? DEFAULT_KEY_FILE;
  const lifetime = options.tokenLifetimeSeconds ?? 3600;
  const email = options.serviceAccountEmail ?? DEFAULT_SERVICE_ACCOUNT_EMAIL;
  const uniqueId = options.uniqueId ?? DEFAULT_UNIQUE_ID;
  const projectId = options.projectId ?? 'gcs2s3-local';
  const log = options.log ?? (() => undefined);
  const key = await loadOrCreateSigningKey(keyFile);
  const jwks = { keys: [publicPart(key)] };

  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8900, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const issuer = options.issuer ?? url;

  const mintToken = async (claims: ClaimOverrides = {}, mint: MintOptions = {}): Promise<string> => {
    const now = Math.floor(Date.now() / 1000);
    const merged: Record<string, unknown> = {
      iss: issuer,
      aud: DEFAULT_AUDIENCE,
      azp: uniqueId,
      sub: uniqueId,
      email,
      email_verified: true,
      iat: now,
      exp: now + (mint.lifetimeSeconds ?? lifetime),
      ...claims,
    };
    for (const [name, value] of Object.entries(merged)) if (value === undefined) delete merged[name];
    return signToken(merged, mint.signingKey ?? key, mint);
  };

  const discovery = {
    issuer,
    authorization_endpoint: `${url}/o/oauth2/v2/auth`,
    token_endpoint: `${url}/token`,
    userinfo_endpoint: `${url}/v1/userinfo`,
    revocation_endpoint: `${url}/revoke`,
    jwks_uri: `${url}/jwks`,
    response_types_supported: ['code', 'token', 'id_token', 'code token', 'code id_token', 'token id_token', 'code token id_token', 'none'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: ['openid', 'email', 'profile'],
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
    claims_supported: ['aud', 'azp', 'email', 'email_verified', 'exp', 'iat', 'iss', 'sub'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:jwt-bearer'],
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<number> => {
    const requestUrl = new URL(req.url ?? '/', url);
    const path = requestUrl.pathname;
    const send = (status: number, body: string | object, headers: Record<string, string> = {}): number => {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      const type = typeof body === 'string' ? 'application/text' : 'application/json';
      res.writeHead(status, { 'Content-Type': type, ...headers }).end(text);
      return status;
    };
    if (path === '/.well-known/openid-configuration') return send(200, discovery, { 'Cache-Control': 'public, max-age=3600' });
    if (path === '/jwks' || path === '/oauth2/v3/certs') return send(200, jwks, { 'Cache-Control': 'public, max-age=300' });
    return handleMetadata(req, requestUrl, (status, body) =>
      send(status, body, { 'Metadata-Flavor': 'Google', Server: 'Metadata Server for VM' }),
    );
  };

  const sa = { email, aliases: ['default'], scopes: ['https://www.googleapis.com/auth/cloud-platform'] };
  const handleMetadata = async (
    req: IncomingMessage,
    requestUrl: URL,
    send: (status: number, body: string | object) => number,
  ): Promise<number> => {
    const path = requestUrl.pathname.replace(/\/+$/, '/');
    // The real server answers the root listing to anyone; everything under
    // /computeMetadata/v1 needs the header and refuses proxied requests.
    if (path === '/') return send(200, 'computeMetadata/\n');
    if (req.method !== 'GET') return send(405, 'Method not allowed\n');
    if (req.headers['metadata-flavor'] !== 'Google') return send(403, 'Missing Metadata-Flavor:Google header.\n');
    if (req.headers['x-forwarded-for'] !== undefined) return send(403, 'Request had X-Forwarded-For header.\n');
    const recursive = requestUrl.searchParams.get('recursive') === 'true';
    const saMatch = /^\/computeMetadata\/v1\/instance\/service-accounts\/([^/]+)\/(.*)$/.exec(path);
    if (saMatch !== null) {
      const [, account, leaf] = saMatch;
      if (account !== 'default' && account !== email) return send(404, 'Not Found\n');
      switch (leaf) {
        case '':
          return recursive ? send(200, sa) : send(200, 'aliases\nemail\nidentity\nscopes\ntoken\n');
        case 'email':
          return send(200, email);
        case 'aliases':
          return send(200, 'default\n');
        case 'scopes':
          return send(200, `${sa.scopes.join('\n')}\n`);
        case 'token':
          return send(200, { access_token: `ya29.local-${randomBytes(24).toString('base64url')}`, expires_in: 3599, token_type: 'Bearer' });
        case 'identity': {
          const audience = requestUrl.searchParams.get('audience') ?? '';
          if (audience === '') return send(400, 'non-empty audience parameter required\n');
          const full = requestUrl.searchParams.get('format') === 'full';
          const extra = full ? { google: { compute_engine: { project_id: projectId, project_number: 123456789012, zone: 'us-central1-a', instance_id: '4242424242424242424', instance_name: 'gcs2s3-local' } } } : {};
          return send(200, await mintToken({ aud: audience, ...extra }));
        }
        default:
          return send(404, 'Not Found\n');
      }
    }
    const listings: Record<string, string | object> = {
      '/computeMetadata/': 'v1/\n',
      '/computeMetadata/v1/': 'instance/\nproject/\nuniverse/\n',
      '/computeMetadata/v1/instance/': recursive ? { id: 4242424242424242424, serviceAccounts: { default: sa, [email]: sa }, zone: 'projects/123456789012/zones/us-central1-a' } : 'attributes/\nid\nregion\nservice-accounts/\nzone\n',
      '/computeMetadata/v1/instance/attributes/': recursive ? {} : '',
      '/computeMetadata/v1/instance/id': '4242424242424242424',
      '/computeMetadata/v1/instance/zone': 'projects/123456789012/zones/us-central1-a',
      '/computeMetadata/v1/instance/region': 'projects/123456789012/regions/us-central1',
      '/computeMetadata/v1/instance/service-accounts/': recursive ? { default: sa, [email]: sa } : `default/\n${email}/\n`,
      '/computeMetadata/v1/project/': recursive ? { projectId, numericProjectId: 123456789012 } : 'numeric-project-id\nproject-id\n',
      '/computeMetadata/v1/project/project-id': projectId,
      '/computeMetadata/v1/project/numeric-project-id': '123456789012',
      '/computeMetadata/v1/universe/universe-domain': 'googleapis.com',
    };
    const listing = listings[path] ?? listings[`${path}/`];
    return listing === undefined ? send(404, 'Not Found\n') : send(200, listing);
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).then(
      (status) => log(`${req.method} ${req.url} ${status}`),
      (error: unknown) => {
        log(`${req.method} ${req.url} 500 ${String(error)}`);
        if (!res.headersSent) res.writeHead(500, { 'Metadata-Flavor': 'Google' });
        res.end();
      },
    );
  });

  return {
    url,
    issuer,
    jwksUrl: discovery.jwks_uri,
    discoveryUrl: `${url}/.well-known/openid-configuration`,
    keyFile,
    serviceAccountEmail: email,
    uniqueId,
    mintToken,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: process.env['OIDC_FIXTURE_PORT'] ?? '8900' },
      host: { type: 'string', default: process.env['OIDC_FIXTURE_HOST'] ?? '127.0.0.1' },
      'key-file': { type: 'string', default: process.env['OIDC_FIXTURE_KEY_FILE'] ?? DEFAULT_KEY_FILE },
      lifetime: { type: 'string', default: process.env['OIDC_TOKEN_LIFETIME_SECONDS'] ?? '3600' },
      issuer: { type: 'string', default: process.env['OIDC_FIXTURE_ISSUER'] },
      email: { type: 'string', default: DEFAULT_SERVICE_ACCOUNT_EMAIL },
      'unique-id': { type: 'string', default: DEFAULT_UNIQUE_ID },
    },
  });
  const port = Number(values.port);
  const lifetime = Number(values.lifetime);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: not a port number: ${values.port}`);
  if (!Number.isInteger(lifetime) || lifetime < 1) throw new Error(`--lifetime: not a positive number of seconds: ${values.lifetime}`);
  const fixture = await startOidcFixture({
    port,
    host: values.host,
    keyFile: values['key-file'],
    tokenLifetimeSeconds: lifetime,
    ...(values.issuer === undefined ? {} : { issuer: values.issuer }),
    serviceAccountEmail: values.email,
    uniqueId: values['unique-id'],
    log: (line) => console.log(`${new Date().toISOString()} ${line}`),
  });
  console.log(`oidc-fixture listening on ${fixture.url} issuer=${fixture.issuer} key=${fixture.keyFile} lifetime=${lifetime}s`);
  const stop = (): void => {
    fixture.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(`oidc-fixture: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  });
}
