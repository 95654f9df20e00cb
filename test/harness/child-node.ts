// Nodes as separate processes (`pullmail-server start`), for tests that kill or multiply them, and a
// small JSON client for talking to them over HTTPS with the test CA.
import { spawn, type ChildProcess } from 'node:child_process';
import { fetch, type Dispatcher } from 'undici';
import { ADMIN_TOKEN } from './node.ts';
import { testPki } from './tls.ts';
import { waitFor } from './wait.ts';

export interface ChildNodeSpec {
  domain: string;
  port: number;
  publicUrl: string;
  peers: string;
  /** DATABASE_URL or PULLMAIL_DATA_DIR, and any other overrides. */
  env: Record<string, string>;
}

export function spawnNode(spec: ChildNodeSpec): ChildProcess {
  const pki = testPki();
  return spawn(process.execPath, ['packages/server/src/cli.ts', 'start'], {
    env: {
      ...process.env,
      PULLMAIL_TEST_LOG_LEVEL: undefined,
      DATABASE_URL: undefined,
      PULLMAIL_DOMAINS: spec.domain,
      PULLMAIL_HTTP_PORT: String(spec.port),
      PULLMAIL_PUBLIC_URL: spec.publicUrl,
      PULLMAIL_PEERS: spec.peers,
      PULLMAIL_ALLOW_PRIVATE_PEERS: '1',
      PULLMAIL_ADMIN_TOKEN: ADMIN_TOKEN,
      PULLMAIL_TLS_CERT: pki.certPath,
      PULLMAIL_TLS_KEY: pki.keyPath,
      PULLMAIL_TRUST_CA: pki.caPath,
      PULLMAIL_SMTP_PORT: '0',
      PULLMAIL_SUBMISSION_PORT: '0',
      PULLMAIL_IMAP_PORT: '0',
      PULLMAIL_LOG_LEVEL: 'warn',
      PULLMAIL_QUEUE_POLL_MS: '100',
      ...spec.env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

export type Call = (path: string, init?: { method?: string; token?: string; json?: unknown }) => Promise<{ status: number; body: Record<string, any> }>;

/** JSON calls to a node at `baseUrl` through `dispatcher` (one that trusts the test CA). */
export function nodeClient(baseUrl: string, dispatcher: Dispatcher): Call {
  return async (path, init = {}) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method: init.method ?? 'GET',
      headers: { ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), ...(init.json ? { 'content-type': 'application/json' } : {}) },
      body: init.json ? JSON.stringify(init.json) : undefined,
      dispatcher,
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
}

export async function waitHealthy(call: Call, what: string): Promise<void> {
  await waitFor(what, async () => (await call('/healthz').catch(() => ({ status: 0 }))).status === 200, 60_000);
}
