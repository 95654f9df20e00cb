// A peer node that misbehaves on purpose: real pm1 metadata on an HTTPS loopback server (so discovery
// finds it), and a notify endpoint whose answer the test scripts — slow, stalled, garbage, oversized.
// Counts every notification it was sent and which ones are still waiting for their answer.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { peerMetadata } from './peer-server.ts';
import { testPki } from './tls.ts';

/** How the notify endpoint answers; `req.body` is the whole request body. */
export type NotifyBehaviour = (req: IncomingMessage & { body: Buffer }, res: ServerResponse) => void;

export interface MisbehavingPeer {
  url: string;
  domain: string;
  /** Notifications received so far (single and batch requests alike). */
  notifications: number;
  /** Notify requests the server has not finished answering. */
  open(): number;
  close(): Promise<void>;
}

export async function startMisbehavingPeer(domain: string, notify: NotifyBehaviour): Promise<MisbehavingPeer> {
  const pki = testPki();
  const pending = new Set<ServerResponse>();
  const server: Server = createServer({ cert: readFileSync(pki.certPath), key: readFileSync(pki.keyPath) }, (req, res) => {
    const path = new URL(req.url ?? '/', 'https://x').pathname;
    if (path === '/.well-known/pullmail') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(peerMetadata(peer.url, [domain])));
      return;
    }
    if (!path.startsWith('/pm/v1/notify')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found","detail":""}');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      peer.notifications++;
      pending.add(res);
      res.once('finish', () => pending.delete(res));
      res.once('close', () => pending.delete(res));
      notify(Object.assign(req, { body: Buffer.concat(chunks) }), res);
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
  const peer: MisbehavingPeer = {
    url: `https://127.0.0.1:${(server.address() as { port: number }).port}`,
    domain,
    notifications: 0,
    open: () => pending.size,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return peer;
}

/** How many notifications a notify request carried: one JWS, or `{notifications: [...]}` on /batch. */
export function notificationCount(body: Buffer): number {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { notifications?: unknown[] };
    return Array.isArray(parsed.notifications) ? parsed.notifications.length : 1;
  } catch {
    return 1;
  }
}
