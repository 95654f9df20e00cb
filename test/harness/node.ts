// Test nodes: real servers on free loopback ports, each with its own database, optionally over HTTPS
// with the test CA. `startNodes` makes a federation whose static peer maps point at each other.
import { createServer as netServer } from 'node:net';
import { fetch } from 'undici';
import { loadConfig } from '../../packages/server/src/config/config.ts';
import { nodeExtensions } from '../../packages/server/src/extensions.ts';
import { createLogger } from '../../packages/server/src/log.ts';
import { createFakeResolver } from '../../packages/server/src/peers/fake-resolver.ts';
import type { DnsResolver } from '../../packages/server/src/peers/discovery.ts';
import { createServer, type PullmailServer } from '../../packages/server/src/server.ts';
import { testDatabase } from './database.ts';
import { testPki } from './tls.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestNode {
  server: PullmailServer;
  url: string;
  port: number;
  domain: string;
  /** Creates a mailbox through the admin API; returns its token. */
  addUser(address: string, password?: string): Promise<string>;
  /** fetch() against this node with an optional bearer token. */
  api(path: string, init?: { method?: string; token?: string; json?: unknown; body?: BodyInit; headers?: Record<string, string> }): Promise<Response>;
  stop(): Promise<void>;
  /** Stops and starts again on the same port and database (PostgreSQL only keeps data across). */
  env: Record<string, string>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = netServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.once('error', reject);
  });
}

export interface NodeSpec {
  domain: string;
  https?: boolean;
  env?: Record<string, string>;
  resolver?: DnsResolver;
  now?: () => number;
}

export async function startNode(spec: NodeSpec & { port?: number; peers?: string }): Promise<TestNode> {
  const port = spec.port ?? (await freePort());
  const db = await testDatabase();
  const pki = spec.https ? testPki() : undefined;
  const scheme = pki ? 'https' : 'http';
  const url = `${scheme}://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    PULLMAIL_DOMAINS: spec.domain,
    PULLMAIL_HTTP_PORT: String(port),
    PULLMAIL_PUBLIC_URL: url,
    PULLMAIL_ADMIN_TOKEN: ADMIN_TOKEN,
    PULLMAIL_ALLOW_PRIVATE_PEERS: '1',
    PULLMAIL_LOG_LEVEL: process.env.PULLMAIL_TEST_LOG_LEVEL ?? 'silent',
    PULLMAIL_SMTP_PORT: '0',
    PULLMAIL_SUBMISSION_PORT: '0',
    PULLMAIL_IMAP_PORT: '0',
    PULLMAIL_QUEUE_POLL_MS: '200',
    ...(spec.peers ? { PULLMAIL_PEERS: spec.peers } : {}),
    ...(pki ? { PULLMAIL_TLS_CERT: pki.certPath, PULLMAIL_TLS_KEY: pki.keyPath, PULLMAIL_TRUST_CA: pki.caPath } : {}),
    ...db.env,
    ...spec.env,
  };
  const { config } = loadConfig(env);
  const server = createServer(config, { resolver: spec.resolver ?? createFakeResolver(), now: spec.now, logger: createLogger(config.logLevel) }, nodeExtensions());
  await server.start();
  let stopped = false;
  const node: TestNode = {
    server,
    url,
    port,
    domain: spec.domain,
    env,
    async addUser(address, password) {
      const res = await node.api('/api/v1/admin/users', { method: 'POST', token: ADMIN_TOKEN, json: { address, password } });
      if (res.status !== 201) throw new Error(`addUser ${address}: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { token: string }).token;
    },
    async api(path, init = {}) {
      const headers: Record<string, string> = { ...init.headers };
      if (init.token) headers.authorization = `Bearer ${init.token}`;
      let body = init.body;
      if (init.json !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(init.json);
      }
      return fetch(`${url}${path}`, { method: init.method ?? 'GET', headers, body: body as never, dispatcher: server.ctx.fetcher.dispatcher }) as unknown as Promise<Response>;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.close();
      await db.drop();
    },
  };
  return node;
}

/** Starts nodes for each spec, each knowing the others through PULLMAIL_PEERS. */
export async function startNodes(specs: NodeSpec[]): Promise<TestNode[]> {
  const ports = await Promise.all(specs.map(() => freePort()));
  const urls = specs.map((s, i) => `${s.https ? 'https' : 'http'}://127.0.0.1:${ports[i]}`);
  const peers = specs.map((s, i) => `${s.domain}=${urls[i]}`).join(',');
  const nodes: TestNode[] = [];
  for (const [i, spec] of specs.entries()) nodes.push(await startNode({ ...spec, port: ports[i], peers }));
  return nodes;
}
