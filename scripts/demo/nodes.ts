// Two (or more) pullmail nodes inside this process for the demo: loopback HTTP on free ports, each
// with its own embedded PGlite in a temporary directory, and static peer maps pointing at each other.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer as netServer } from 'node:net';
import { join } from 'node:path';
import { PullmailClient } from '@pullmail/client';
import { loadConfig } from '../../packages/server/src/config/config.ts';
import { nodeExtensions } from '../../packages/server/src/extensions.ts';
import { createLogger } from '../../packages/server/src/log.ts';
import { createFakeResolver } from '../../packages/server/src/peers/fake-resolver.ts';
import { createServer, type PullmailServer } from '../../packages/server/src/server.ts';

export interface DemoNode {
  domain: string;
  url: string;
  dataDir: string;
  /** An SDK client with the node's admin token, for creating mailboxes. */
  admin: PullmailClient;
  server: PullmailServer;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = netServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts one node per domain under `baseDir`. `logLevel` is the nodes' own log (stderr); the demo
 * keeps it silent unless asked. Stop them with `stopDemoNodes`.
 */
export async function startDemoNodes(domains: string[], baseDir: string, logLevel = 'silent'): Promise<DemoNode[]> {
  const ports = await Promise.all(domains.map(() => freePort()));
  const urls = ports.map((p) => `http://127.0.0.1:${p}`);
  const peers = domains.map((d, i) => `${d}=${urls[i]}`).join(',');
  const nodes: DemoNode[] = [];
  try {
    for (const [i, domain] of domains.entries()) {
      const dataDir = join(baseDir, domain);
      mkdirSync(dataDir, { recursive: true });
      const adminToken = randomBytes(18).toString('base64url');
      // an explicit environment: nothing of the caller's PULLMAIL_* or DATABASE_URL leaks in
      const { config } = loadConfig({
        PULLMAIL_DOMAINS: domain,
        PULLMAIL_HTTP_HOST: '127.0.0.1',
        PULLMAIL_HTTP_PORT: String(ports[i]),
        PULLMAIL_PUBLIC_URL: urls[i],
        PULLMAIL_PEERS: peers,
        PULLMAIL_ALLOW_PRIVATE_PEERS: '1',
        PULLMAIL_DATA_DIR: dataDir,
        PULLMAIL_ADMIN_TOKEN: adminToken,
        PULLMAIL_SMTP_PORT: '0',
        PULLMAIL_SUBMISSION_PORT: '0',
        PULLMAIL_IMAP_PORT: '0',
        PULLMAIL_QUEUE_POLL_MS: '200',
        PULLMAIL_LOG_LEVEL: logLevel,
      });
      // no DNS: the static peer map is all the discovery the demo needs
      const server = createServer(config, { resolver: createFakeResolver(), logger: createLogger(config.logLevel) }, nodeExtensions());
      await server.start();
      nodes.push({ domain, url: urls[i], dataDir, server, admin: new PullmailClient({ baseUrl: urls[i], adminToken }) });
    }
  } catch (err) {
    await stopDemoNodes(nodes);
    throw err;
  }
  return nodes;
}

export async function stopDemoNodes(nodes: DemoNode[]): Promise<void> {
  await Promise.allSettled(nodes.map((n) => n.server.close()));
}
