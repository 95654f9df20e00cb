// A node's hono app over an in-memory PGlite, for route tests through `app.request()`: no socket, no
// workers. Exported for tests only; it builds the context the way createServer does (server.ts).
import type { Hono } from 'hono';
import { loadConfig } from '../config/config.ts';
import type { AppContext } from '../context.ts';
import { nodeExtensions } from '../extensions.ts';
import { createLogger } from '../log.ts';
import { createFakeResolver } from '../peers/fake-resolver.ts';
import type { DnsResolver } from '../peers/discovery.ts';
import { createContext, openMigrated } from '../server.ts';
import { createApp } from './app.ts';

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface RequestInit {
  method?: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Serialized, with `Content-Type: application/json`. */
  json?: unknown;
  body?: BodyInit;
  headers?: Record<string, string>;
}

export interface TestApp {
  app: Hono;
  ctx: AppContext;
  /** Queues the routes woke (`ctx.kick`), in order: no worker runs here. */
  kicks: (string | undefined)[];
  /** `app.request()` against the node's own public URL. */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** Creates a mailbox through the admin route; returns its API token. */
  addUser(address: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * @param opts.env extra PULLMAIL_* variables over the defaults (domain `a.test`, admin token
 *   TEST_ADMIN_TOKEN, public URL http://a.test.example, in-memory PGlite).
 */
export async function createTestApp(opts: { env?: Record<string, string>; now?: () => number; resolver?: DnsResolver } = {}): Promise<TestApp> {
  const { config } = loadConfig({
    PULLMAIL_DOMAINS: 'a.test',
    PULLMAIL_PUBLIC_URL: 'http://a.test.example',
    PULLMAIL_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    PULLMAIL_DATA_DIR: ':memory:',
    PULLMAIL_LOG_LEVEL: process.env.PULLMAIL_TEST_LOG_LEVEL ?? 'silent',
    ...opts.env,
  });
  const database = await openMigrated(config);
  const kicks: (string | undefined)[] = [];
  const ctx = await createContext(config, database, {
    now: opts.now,
    resolver: opts.resolver ?? createFakeResolver(),
    logger: createLogger(config.logLevel),
    kick: (queue) => kicks.push(queue),
  });
  const app = createApp(ctx, nodeExtensions().flatMap((e) => (e.routes ? [e.routes] : [])));

  const request: TestApp['request'] = (path, init = {}) => {
    const headers: Record<string, string> = { ...init.headers };
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    let body = init.body;
    if (init.json !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = JSON.stringify(init.json);
    }
    return Promise.resolve(app.request(`${ctx.publicUrl}${path}`, { method: init.method ?? 'GET', headers, body }));
  };

  return {
    app,
    ctx,
    kicks,
    request,
    async addUser(address) {
      const res = await request('/api/v1/admin/users', { method: 'POST', token: TEST_ADMIN_TOKEN, json: { address } });
      if (res.status !== 201) throw new Error(`addUser ${address}: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { token: string }).token;
    },
    async close() {
      await ctx.fetcher.close();
      await database.close();
    },
  };
}
