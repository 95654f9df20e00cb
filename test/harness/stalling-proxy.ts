// An HTTPS reverse proxy in front of a test node: passes every request through, except those the test
// picks, which it accepts and never answers. A node behind it is a peer that hangs on some requests
// (a sender node that never serves its fetches) while everything else about it works.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request, type Dispatcher } from 'undici';
import { testPki } from './tls.ts';

export interface StallingProxy {
  url: string;
  port: number;
  /** Where requests go; set once the node behind is started (it needs the proxy's URL first). */
  target: string;
  /** Requests held unanswered right now. */
  stalled(): number;
  close(): Promise<void>;
}

/** `stall(method, path)` picks the requests to hold; `dispatcher` must trust the test CA. */
export async function startStallingProxy(stall: (method: string, path: string) => boolean, dispatcher: Dispatcher): Promise<StallingProxy> {
  const pki = testPki();
  const held = new Set<ServerResponse>();
  const forward = async (req: IncomingMessage, res: ServerResponse) => {
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'keep-alive', 'transfer-encoding'].includes(k))) as Record<string, string>;
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const up = await request(`${proxy.target}${req.url}`, { method: req.method as Dispatcher.HttpMethod, headers, body: hasBody ? req : undefined, dispatcher });
    const out = Object.fromEntries(Object.entries(up.headers).filter(([k]) => !['connection', 'keep-alive', 'transfer-encoding'].includes(k)));
    res.writeHead(up.statusCode, out as never);
    for await (const chunk of up.body) res.write(chunk);
    res.end();
  };
  const server: Server = createServer({ cert: readFileSync(pki.certPath), key: readFileSync(pki.keyPath) }, (req, res) => {
    const path = new URL(req.url ?? '/', 'https://x').pathname;
    if (stall(req.method ?? 'GET', path)) {
      held.add(res);
      res.once('close', () => held.delete(res));
      return;
    }
    forward(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  const proxy: StallingProxy = {
    url: `https://127.0.0.1:${port}`,
    port,
    target: '',
    stalled: () => held.size,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return proxy;
}
