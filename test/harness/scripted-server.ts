// A real HTTPS server on 127.0.0.1 whose answer each test scripts, for the peer clients' unit tests
// (peers/notify-client.ts, peers/fetch-client.ts). It keeps every request it was sent, body included.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { testPki } from './tls.ts';

export type ScriptedRequest = IncomingMessage & { body: Buffer; path: string };
export type Script = (req: ScriptedRequest, res: ServerResponse) => void;

export interface ScriptedServer {
  /** https://127.0.0.1:<port>, no trailing slash. */
  url: string;
  /** How the next requests are answered. */
  answer: Script;
  requests: ScriptedRequest[];
  close(): Promise<void>;
}

export async function startScriptedServer(): Promise<ScriptedServer> {
  const pki = testPki();
  const server: Server = createServer({ cert: readFileSync(pki.certPath), key: readFileSync(pki.keyPath) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = Object.assign(req, { body: Buffer.concat(chunks), path: new URL(req.url ?? '/', 'https://x').pathname });
      scripted.requests.push(r);
      scripted.answer(r, res);
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
  const scripted: ScriptedServer = {
    url: `https://127.0.0.1:${(server.address() as { port: number }).port}`,
    answer: (_req, res) => res.writeHead(500).end(),
    requests: [],
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return scripted;
}

/** Answers `status` with `body` (an object as JSON, a string as is) and any extra headers. */
export function reply(status: number, body: unknown, headers: Record<string, string> = {}): Script {
  return (_req, res) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers }).end(text);
  };
}
