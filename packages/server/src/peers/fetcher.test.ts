import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { PullmailError } from '../errors.ts';
import { createFetcher, type Fetcher } from './fetcher.ts';

describe('fetcher: streamed responses', () => {
  let server: Server;
  let base: string;
  let fetcher: Fetcher;
  const big = Buffer.alloc(2_000_000, 0x61);
  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/big') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(big);
      } else if (req.url === '/trickle') {
        // one byte a second: every gap is within the agent's timeouts, the whole is not
        res.writeHead(200, { 'content-type': 'text/plain' });
        const timer = setInterval(() => res.write('x'), 1000);
        res.once('close', () => clearInterval(timer));
      } else {
        res.end('small');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    fetcher = createFetcher({ allowPrivate: true, timeoutMs: 5_000 });
  });
  after(async () => {
    await fetcher.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('a response dropped unread frees its connection: more of them than the pool holds, then a normal request', { timeout: 30_000 }, async () => {
    // the pool has 32 connections per origin; a body left unread and paused would hold one for ever
    for (let i = 0; i < 40; i++) {
      const res = await fetcher.open(`${base}/big`, { maxBytes: 10_000_000 });
      assert.equal(res.status, 200);
      res.cancel();
    }
    const small = await fetcher.fetch(`${base}/small`, { maxBytes: 1000 });
    assert.equal(small.body.toString(), 'small');
  });

  it('streams a body in pieces, and fails with peer_error past maxBytes', async () => {
    const res = await fetcher.open(`${base}/big`, { maxBytes: 10_000_000 });
    let total = 0;
    let pieces = 0;
    for await (const chunk of res.body) {
      total += chunk.length;
      pieces++;
    }
    assert.equal(total, big.length);
    assert.ok(pieces > 1, 'more than one piece');
    const capped = await fetcher.open(`${base}/big`, { maxBytes: 500_000 });
    await assert.rejects((async () => {
      for await (const _ of capped.body) void _;
    })(), (err: unknown) => err instanceof PullmailError && err.code === 'peer_error' && /exceeds 500000 bytes/.test(err.message));
  });

  // without the deadline this would take 1000 s (1000 bytes at one a second) and hit the test's timeout
  it('ends an exchange at its deadline even while the peer keeps sending a little', { timeout: 20_000 }, async () => {
    const res = await fetcher.open(`${base}/trickle`, { maxBytes: 1000, deadlineMs: 2500 });
    await assert.rejects((async () => {
      for await (const _ of res.body) void _;
    })(), (err: unknown) => err instanceof PullmailError && err.code === 'peer_unreachable' && err.temporary);
  });
});
