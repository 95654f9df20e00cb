// The greeting pause (PULLMAIL_SMTP_GREET_PAUSE_MS): like Postfix's postscreen, a client address the
// listener has not seen waits before the 220 greeting, and one that talks during the wait gets
// `421 You talk too soon`; an address that waited is remembered and greeted at once: its greeting
// comes before that of an unknown address that connected at the same moment. Each case connects
// from its own loopback address (127.0.0.x).
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createFakeResolver } from '../packages/server/src/peers/fake-resolver.ts';
import { freePort, startNode, type TestNode } from './harness/node.ts';

/** Connects from `from`; with `talkFirst`, writes EHLO before any greeting. Returns the first two replies (or what came before the close). */
function session(port: number, from: string, talkFirst: boolean): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress: from });
    const lines: string[] = [];
    let buffered = '';
    let asked = false;
    const done = () => {
      socket.destroy();
      resolve(lines);
    };
    socket.setEncoding('latin1');
    socket.once('connect', () => {
      if (talkFirst) socket.write('EHLO early.test\r\n');
      asked = talkFirst;
    });
    socket.on('data', (d: string) => {
      buffered += d;
      // a reply ends with a line "NNN text" (no dash after the code)
      for (let m; (m = /^((?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?)\r?\n/.exec(buffered)); ) {
        buffered = buffered.slice(m[0].length);
        lines.push(m[1].replace(/\r/g, ''));
      }
      if (lines.length === 1 && !asked) {
        asked = true;
        socket.write('EHLO patient.test\r\n');
      }
      if (lines.length >= 2) done();
    });
    socket.once('close', done);
    socket.once('error', reject);
  });
}

describe('SMTP greeting pause for clients not seen before', () => {
  let b: TestNode;
  let port: number;
  before(async () => {
    port = await freePort();
    // the reverse lookup answers from memory: a client talking first after it must never race real DNS
    b = await startNode({ domain: 'b.test', resolver: createFakeResolver(), env: { PULLMAIL_SMTP_PORT: String(port), PULLMAIL_SMTP_GREET_PAUSE_MS: '1500' } });
  });
  after(async () => {
    await b?.stop();
  });

  it('answers an unknown client that talks before the greeting with 421, and does not remember it', async () => {
    for (let i = 0; i < 2; i++) {
      const replies = await session(port, '127.0.0.2', true);
      assert.match(replies[0] ?? '', /^421 .*talk too soon/i, `attempt ${i + 1}: ${replies.join(' | ')}`);
    }
  });

  it('greets a client that waited, and from then on greets it without the pause', async () => {
    const first = await session(port, '127.0.0.3', false);
    assert.match(first[0], /^220 /);
    assert.match(first[1], /^250[- ]/);
    // both connect now; the unknown one waits out the pause, the known one does not
    const order: string[] = [];
    const [known, unknown] = await Promise.all(['127.0.0.3', '127.0.0.5'].map((from) => session(port, from, false).then((r) => (order.push(from), r))));
    assert.match(known[0], /^220 /);
    assert.match(unknown[0], /^220 /);
    assert.deepEqual(order, ['127.0.0.3', '127.0.0.5']);
  });

  it('keeps the pause for another address', async () => {
    const replies = await session(port, '127.0.0.4', true);
    assert.match(replies[0] ?? '', /^421 /, replies.join(' | '));
  });
});
