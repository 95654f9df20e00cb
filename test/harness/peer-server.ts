// A stand-in peer node for discovery and key tests: a real HTTP(S) server on 127.0.0.1 serving pm1
// metadata and a JWKS that the test can change, counting what was asked of it.
import { createServer as httpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as httpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { testPki } from './tls.ts';

export interface PeerServer {
  /** Base URL, e.g. https://127.0.0.1:40123 (no trailing slash). */
  url: string;
  port: number;
  /** Paths requested so far, in order. */
  requests: string[];
  /** What GET /.well-known/pullmail answers: an object is sent as JSON, a string as is. */
  metadata: unknown;
  metadataStatus: number;
  /** What GET /.well-known/pullmail/jwks.json answers. */
  jwks: { keys: unknown[] };
  /** How many requests went to `path`. */
  count(path: string): number;
  close(): Promise<void>;
}

export interface PeerServerOptions {
  domains: string[];
  https?: boolean;
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
}

/** pm1 metadata as a node at `base` serving `domains` publishes it. */
export function peerMetadata(base: string, domains: string[]) {
  return { version: 'pm1', domains, notify: `${base}/pm/v1/notify`, jwks_uri: `${base}/.well-known/pullmail/jwks.json`, max_message_bytes: 1_000_000 };
}

export async function startPeerServer(opts: PeerServerOptions): Promise<PeerServer> {
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    peer.requests.push(path);
    const send = (status: number, body: unknown) => {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (path === '/.well-known/pullmail') return send(peer.metadataStatus, peer.metadata);
    if (path === '/.well-known/pullmail/jwks.json') return send(200, peer.jwks);
    send(404, { error: 'not_found', detail: path });
  };
  let server: Server;
  if (opts.https) {
    const pki = testPki();
    server = httpsServer({ cert: readFileSync(pki.certPath), key: readFileSync(pki.keyPath) }, handler);
  } else {
    server = httpServer(handler);
  }
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;
  const scheme = opts.https ? 'https' : 'http';
  const url = opts.https && port === 443 ? `https://${host}` : `${scheme}://${host}:${port}`;
  const peer: PeerServer = {
    url,
    port,
    requests: [],
    metadata: peerMetadata(url, opts.domains),
    metadataStatus: 200,
    jwks: { keys: [] },
    count: (path) => peer.requests.filter((p) => p === path).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return peer;
}
