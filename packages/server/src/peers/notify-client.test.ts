import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { reply, startScriptedServer, type ScriptedServer } from '../../../../test/harness/scripted-server.ts';
import { testPki } from '../../../../test/harness/tls.ts';
import type { PeerNode } from './discovery.ts';
import { createFetcher, type Fetcher } from './fetcher.ts';
import { isPeerPageUrl, postNotifications } from './notify-client.ts';

/** A port nothing listens on (bound, then closed again). */
const closedPort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

const nodeAt = (base: string): PeerNode => ({
  base,
  origin: new URL(base).origin,
  notify: `${base}/pm/v1/notify`,
  jwksUri: `${base}/.well-known/pullmail/jwks.json`,
  domains: ['b.test'],
  maxMessageBytes: 1_000_000,
  source: 'static',
});

describe('isPeerPageUrl: a challenge page shown to our users must be https on the peer origin', () => {
  const origin = 'https://node.b.test';
  const cases: [unknown, boolean, string][] = [
    ['https://node.b.test/challenge/abc', true, 'the peer origin'],
    ['https://node.b.test:443/challenge/abc', true, 'the default port is the same origin'],
    ['http://node.b.test/challenge/abc', false, 'not https'],
    ['https://evil.test/challenge/abc', false, 'another host'],
    ['https://node.b.test.evil.test/c', false, 'a host that only starts like the peer'],
    ['https://node.b.test:8443/challenge/abc', false, 'another port is another origin'],
    ['https://user:pw@node.b.test/c', false, 'user info could dress up the address'],
    ['javascript:alert(1)', false, 'not a web page'],
    ['/challenge/abc', false, 'relative: no origin'],
    [`https://node.b.test/${'a'.repeat(3000)}`, false, 'longer than anyone should be shown'],
    [42, false, 'not a string'],
    [undefined, false, 'absent'],
  ];
  for (const [url, ok, why] of cases) it(`${String(url).slice(0, 60)} → ${ok} (${why})`, () => assert.equal(isPeerPageUrl(url, origin), ok));
});

describe('postNotifications', () => {
  let peer: ScriptedServer;
  let fetcher: Fetcher;
  let node: PeerNode;
  before(async () => {
    peer = await startScriptedServer();
    fetcher = createFetcher({ allowPrivate: true, trustCa: testPki().ca, timeoutMs: 5_000 });
    node = nodeAt(peer.url);
  });
  after(async () => {
    await fetcher.close();
    await peer.close();
  });
  beforeEach(() => {
    peer.requests.length = 0;
  });

  it('posts one notification as application/jose and reads the decision', async () => {
    peer.answer = reply(200, { decision: 'fetch', reason: 'allowed' });
    const out = await postNotifications(fetcher, node, ['jws-1']);
    assert.deepEqual(out, { outcome: 'answered', answers: [{ answer: 'decided', result: { decision: 'fetch', reason: 'allowed' } }] });
    assert.equal(peer.requests[0].path, '/pm/v1/notify');
    assert.equal(peer.requests[0].headers['content-type'], 'application/jose');
    assert.equal(peer.requests[0].body.toString(), 'jws-1');
  });

  it('posts several to /batch and reads one answer per notification, in order', async () => {
    peer.answer = reply(200, {
      results: [
        { decision: 'hold', reason: 'first_contact' },
        { error: 'unknown_key', detail: 'no key k2' },
        { error: 'bad_signature', detail: 'no' },
        // a "decision" every object has as a property, and none at all: malformed, retried
        { decision: 'constructor' },
        {},
      ],
    });
    const out = await postNotifications(fetcher, node, ['a', 'b', 'c', 'd', 'e']);
    assert.equal(peer.requests[0].path, '/pm/v1/notify/batch');
    assert.deepEqual(JSON.parse(peer.requests[0].body.toString()), { notifications: ['a', 'b', 'c', 'd', 'e'] });
    const noDecision = { answer: 'refused', code: 'peer_error', detail: `${node.notify} answered no decision`, temporary: true };
    assert.deepEqual(out, {
      outcome: 'answered',
      answers: [
        { answer: 'decided', result: { decision: 'hold', reason: 'first_contact' } },
        { answer: 'refused', code: 'unknown_key', detail: 'no key k2', temporary: true },
        { answer: 'refused', code: 'bad_signature', detail: 'no', temporary: false },
        noDecision,
        noDecision,
      ],
    });
  });

  it('keeps a challenge url on the peer origin and drops any other, keeping the challenge', async () => {
    const pow = { type: 'pow', alg: 'sha-256', bits: 8, nonce: 'n', expires: 2_000_000_000 };
    const elsewhere = new URL(peer.url);
    elsewhere.port = String(Number(elsewhere.port) + 1);
    peer.answer = reply(200, {
      results: [
        { decision: 'challenge', reason: 'first_contact', challenge: { type: 'human', url: `${peer.url}/challenge/ok` } },
        { decision: 'challenge', reason: 'first_contact', challenge: { type: 'human', url: `https://evil.test/challenge/x` } },
        { decision: 'challenge', reason: 'first_contact', challenge: { type: 'human', url: `${peer.url.replace('https:', 'http:')}/challenge/x` } },
        { decision: 'challenge', reason: 'first_contact', challenge: { ...pow, url: `${elsewhere.origin}/challenge/x` } },
        { decision: 'challenge', reason: 'first_contact', challenge: 'not an object' },
      ],
    });
    const out = await postNotifications(fetcher, node, ['a', 'b', 'c', 'd', 'e']);
    assert.equal(out.outcome, 'answered');
    const challenges = out.outcome === 'answered' ? out.answers.map((a) => (a.answer === 'decided' ? a.result.challenge : a)) : [];
    assert.deepEqual(challenges, [{ type: 'human', url: `${peer.url}/challenge/ok` }, { type: 'human' }, { type: 'human' }, pow, undefined]);
  });

  it('429: rate limited for the Retry-After seconds, 60 when it says none we can read, at most a day', async () => {
    for (const [header, seconds] of [['120', 120], [undefined, 60], ['Wed, 21 Oct 2015 07:28:00 GMT', 60], ['99999999', 86_400]] as const) {
      peer.answer = reply(429, { error: 'rate_limited', detail: 'slow down' }, header ? { 'retry-after': header } : {});
      assert.deepEqual(await postNotifications(fetcher, node, ['a']), { outcome: 'rate-limited', retryAfterSeconds: seconds, error: `${node.origin} asks us to slow down` }, `Retry-After ${header}`);
    }
  });

  it('a 4xx refusal is about every notification of the request; unknown_key may pass by itself', async () => {
    peer.answer = reply(401, { error: 'unknown_key', detail: 'no key k2' });
    assert.deepEqual(await postNotifications(fetcher, node, ['a', 'b']), { outcome: 'refused', status: 401, code: 'unknown_key', detail: 'no key k2', temporary: true });
    peer.answer = reply(400, { error: 'bad_request', detail: 'no' });
    assert.deepEqual(await postNotifications(fetcher, node, ['a']), { outcome: 'refused', status: 400, code: 'bad_request', detail: 'no', temporary: false });
  });

  it('5xx, a 200 that is not JSON, and a result list of the wrong length are peer failures', async () => {
    peer.answer = reply(503, { error: 'internal' });
    assert.deepEqual(await postNotifications(fetcher, node, ['a']), { outcome: 'peer-failed', error: `${node.notify} answered 503` });
    peer.answer = reply(200, '<html>502 Bad Gateway</html>', { 'content-type': 'text/html' });
    assert.deepEqual(await postNotifications(fetcher, node, ['a', 'b']), { outcome: 'peer-failed', error: `${node.notify} answered 200` });
    peer.answer = reply(200, { results: [{ decision: 'fetch', reason: 'allowed' }] });
    assert.deepEqual(await postNotifications(fetcher, node, ['a', 'b']), { outcome: 'peer-failed', error: `${node.notify} answered a malformed result` });
  });

  it('an answer over the 4 MiB cap is a peer failure (tried again later), not a final one', async () => {
    peer.answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(Buffer.alloc(5 * 1024 * 1024, 0x20));
    };
    const out = await postNotifications(fetcher, node, ['a']);
    assert.equal(out.outcome, 'peer-failed');
    assert.match(out.outcome === 'peer-failed' ? out.error : '', /exceeds/);
  });

  it('nothing listening is unreachable and temporary; a private address without permission is final', async () => {
    const closed = nodeAt(`https://127.0.0.1:${await closedPort()}`);
    const out = await postNotifications(fetcher, closed, ['a']);
    assert.equal(out.outcome, 'unreachable');
    assert.deepEqual(out.outcome === 'unreachable' && [out.code, out.temporary], ['peer_unreachable', true]);
    const guarded = createFetcher({ allowPrivate: false, trustCa: testPki().ca });
    try {
      const refused = await postNotifications(guarded, node, ['a']);
      assert.deepEqual(refused.outcome === 'unreachable' && [refused.code, refused.temporary], ['private_address', false]);
      assert.equal(peer.requests.length, 0, 'no request reached the private address');
    } finally {
      await guarded.close();
    }
  });
});
