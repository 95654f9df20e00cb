// Issue 12: connection and request caps answer at once (421 over SMTP, 503 over HTTP) instead of
// letting a flood of connections pile up, and a notify body trickled in byte by byte is cut after
// PULLMAIL_NOTIFY_BODY_SECONDS while a signed-in user's slow upload keeps its long deadline.
// Real sockets on loopback; 127.0.0.2 stands for a second client address.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { freePort, startNode, type TestNode } from './harness/node.ts';
import { waitFor } from './harness/wait.ts';

/** Opens a connection from `from` and resolves with it and the first line the server sends. */
function greet(port: number, from: string): Promise<{ socket: Socket; line: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress: from });
    let buf = '';
    socket.setEncoding('latin1');
    socket.on('error', reject);
    socket.on('data', function onData(d: string) {
      buf += d;
      const i = buf.indexOf('\n');
      if (i < 0) return;
      socket.off('data', onData);
      resolve({ socket, line: buf.slice(0, i).trim() });
    });
  });
}

const closed = (s: Socket) => (s.closed ? Promise.resolve() : new Promise<void>((r) => s.once('close', () => r())));

describe('SMTP connection caps', () => {
  let b: TestNode;
  let port: number;
  before(async () => {
    port = await freePort();
    b = await startNode({ domain: 'b.test', env: { PULLMAIL_SMTP_PORT: String(port), PULLMAIL_SMTP_MAX_CLIENTS: '3', PULLMAIL_SMTP_MAX_CLIENTS_PER_IP: '2' } });
  });
  after(() => b?.stop());

  it('answers 421 past PULLMAIL_SMTP_MAX_CLIENTS_PER_IP and PULLMAIL_SMTP_MAX_CLIENTS, and serves again once a place is free', async () => {
    const one = await greet(port, '127.0.0.1');
    const two = await greet(port, '127.0.0.1');
    assert.match(one.line, /^220 /);
    assert.match(two.line, /^220 /);
    const third = await greet(port, '127.0.0.1');
    assert.match(third.line, /^421 4\.7\.0 .*from your address/);
    await closed(third.socket);
    // another address still has room, until the total is reached
    const other = await greet(port, '127.0.0.2');
    assert.match(other.line, /^220 /);
    const over = await greet(port, '127.0.0.2');
    assert.match(over.line, /^421 /);
    await closed(over.socket);
    one.socket.destroy();
    // the freed place is given again (the server notices the close a moment later)
    const again = await waitFor('a place free again', async () => {
      const g = await greet(port, '127.0.0.1');
      if (g.line.startsWith('220')) return g;
      g.socket.destroy();
      return undefined;
    });
    for (const s of [two.socket, other.socket, again.socket]) s.destroy();
  });
});

/** Starts a request whose body never finishes: the headers and the first bytes only. */
function trickle(port: number, path: string, headers: Record<string, string>): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => {
      const head = Object.entries({ host: 'b.test', ...headers }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      socket.write(`POST ${path} HTTP/1.1\r\n${head}\r\n`);
      socket.write(headers['transfer-encoding'] ? '5\r\nFrom:\r\n' : 'eyJ');
      resolve(socket);
    });
    socket.on('error', () => undefined);
    socket.once('error', reject);
  });
}

const notifyHeaders = { 'content-type': 'application/jose', 'content-length': '5000' };
const uploadHeaders = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'message/rfc822', 'transfer-encoding': 'chunked' });

describe('HTTP in-flight caps', () => {
  let b: TestNode;
  before(async () => {
    // a long body deadline: nothing here may be cut while the caps are checked
    b = await startNode({ domain: 'b.test', env: { PULLMAIL_HTTP_MAX_INFLIGHT: '2', PULLMAIL_NOTIFY_MAX_INFLIGHT: '2', PULLMAIL_NOTIFY_BODY_SECONDS: '600' } });
  });
  after(() => b?.stop());

  it('answers 503 with Retry-After once every place is taken, and serves again once one is free', async () => {
    const notifyA = await trickle(b.port, '/pm/v1/notify', notifyHeaders);
    const notifyB = await trickle(b.port, '/pm/v1/notify', notifyHeaders);
    await waitFor('every place taken', async () => (await b.api('/healthz')).status === 503);
    const busy = await b.api('/healthz');
    assert.equal(busy.status, 503);
    assert.equal(((await busy.json()) as { error: string }).error, 'unavailable');
    assert.equal(busy.headers.get('retry-after'), '1');
    notifyA.destroy();
    await waitFor('a place free again', async () => (await b.api('/healthz')).status === 200);
    notifyB.destroy();
  });
});

describe('the notify body deadline', () => {
  let b: TestNode;
  before(async () => {
    b = await startNode({ domain: 'b.test', env: { PULLMAIL_NOTIFY_BODY_SECONDS: '2' } });
  });
  after(() => b?.stop());

  it('cuts a trickling notify body within seconds, while a slow upload started earlier stays open', async () => {
    const token = await b.addUser('bob@b.test');
    // the upload starts first: were it under the same deadline, it would be cut first
    const upload = await trickle(b.port, '/api/v1/messages', uploadHeaders(token));
    const single = await trickle(b.port, '/pm/v1/notify', notifyHeaders);
    const batch = await trickle(b.port, '/pm/v1/notify/batch', { 'content-type': 'application/json', 'content-length': '5000' });
    await Promise.all([closed(single), closed(batch)]);
    assert.equal(upload.closed, false, 'the upload keeps its long deadline');
    upload.destroy();
  });
});
