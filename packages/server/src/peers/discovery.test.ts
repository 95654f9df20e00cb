import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import { peerMetadata, startPeerServer, type PeerServer } from '../../../../test/harness/peer-server.ts';
import { testPki } from '../../../../test/harness/tls.ts';
import { isPullmailError, PullmailError } from '../errors.ts';
import { createDiscovery, MAX_METADATA_DOMAINS, parseTxtRecord, type DnsResolver } from './discovery.ts';
import { createFakeResolver } from './fake-resolver.ts';
import { createFetcher, type Fetcher } from './fetcher.ts';
import { createLookupGate } from './lookup-gate.ts';

const METADATA = '/.well-known/pullmail';

describe('parseTxtRecord', () => {
  const cases: [txt: string, want: string | undefined, why: string][] = [
    ['v=pm1; node=https://mail.example.net/', 'https://mail.example.net', 'the documented form'],
    ['v=pm1;node=https://mail.example.net', 'https://mail.example.net', 'no space, no trailing slash'],
    ['node=https://mail.example.net/; v=pm1', 'https://mail.example.net', 'field order does not matter'],
    ['V=pm1; NODE=https://mail.example.net/', 'https://mail.example.net', 'field names are case-insensitive'],
    ['  v = pm1 ;  node = https://mail.example.net/  ', 'https://mail.example.net', 'spaces around fields'],
    ['v=pm1; node=https://mail.example.net:8443/pm/', 'https://mail.example.net:8443/pm', 'port and path kept'],
    ['v=pm1; node=https://mail.example.net/; prio=5', 'https://mail.example.net', 'unknown fields ignored'],
    ['v=pm2; node=https://mail.example.net/', undefined, 'another protocol version'],
    ['v=PM1; node=https://mail.example.net/', undefined, 'version value is exact'],
    ['node=https://mail.example.net/', undefined, 'no version'],
    ['v=pm1', undefined, 'no node'],
    ['v=pm1; node=', undefined, 'empty node'],
    ['v=pm1; node=http://mail.example.net/', undefined, 'plain http could be rewritten on the way'],
    ['v=pm1; node=ftp://mail.example.net/', undefined, 'not https'],
    ['v=pm1; node=https://user:pw@mail.example.net/', undefined, 'credentials in the URL'],
    ['v=pm1; node=https://mail.example.net/?x=1', undefined, 'query string'],
    ['v=pm1; node=https://mail.example.net/#x', undefined, 'fragment'],
    ['v=pm1; node=not a url', undefined, 'not a URL'],
    ['v=spf1 include:_spf.example.net ~all', undefined, 'an SPF record at the same name'],
    ['', undefined, 'empty record'],
  ];
  for (const [txt, want, why] of cases) {
    it(`${JSON.stringify(txt)} -> ${want ?? 'nothing'} (${why})`, () => {
      assert.equal(parseTxtRecord(txt), want);
    });
  }

  it('returns only https URLs without credentials, query or trailing slash, whatever the input', () => {
    const field = fc.oneof(
      fc.constant('v=pm1'),
      fc.constantFrom('https://a.example/', 'http://a.example', 'https://u@a.example', 'https://a.example/?q', 'https://a.example//').map((u) => `node=${u}`),
      fc.string(),
    );
    fc.assert(
      fc.property(fc.array(field, { maxLength: 5 }), (fields) => {
        const base = parseTxtRecord(fields.join(';'));
        if (base === undefined) return;
        const url = new URL(base);
        assert.equal(url.protocol, 'https:');
        assert.equal(url.username + url.password + url.search + url.hash, '');
        assert.doesNotMatch(base, /\/$/);
      }),
    );
  });
});

describe('createDiscovery', () => {
  let fetcher: Fetcher;
  let plain: PeerServer; // http://127.0.0.1:port serving b.test
  let secure: PeerServer; // https://127.0.0.1:port serving b.test and c.test
  let clock: number;
  const now = () => clock;

  before(async () => {
    fetcher = createFetcher({ allowPrivate: true, trustCa: testPki().ca });
    plain = await startPeerServer({ domains: ['b.test'] });
    secure = await startPeerServer({ domains: ['b.test', 'c.test'], https: true });
  });
  after(async () => {
    await fetcher.close();
    await plain.close();
    await secure.close();
  });
  beforeEach(() => {
    clock = 1_000_000;
    for (const s of [plain, secure]) {
      s.requests.length = 0;
      s.metadata = peerMetadata(s.url, s === plain ? ['b.test'] : ['b.test', 'c.test']);
      s.metadataStatus = 200;
    }
  });

  const txtFor = (base: string) => [[`v=pm1; node=${base}/`]];

  it('takes the static peer map first, before asking DNS', async () => {
    const resolver = createFakeResolver({ txt: { '_pullmail.b.test': txtFor(secure.url) } });
    const discovery = createDiscovery({ peers: new Map([['b.test', plain.url]]), resolver, fetcher, now });
    const node = await discovery.discover('b.test');
    assert.deepEqual(node, {
      base: plain.url,
      origin: plain.url,
      notify: `${plain.url}/pm/v1/notify`,
      jwksUri: `${plain.url}/.well-known/pullmail/jwks.json`,
      domains: ['b.test'],
      maxMessageBytes: 1_000_000,
      source: 'static',
    });
    assert.deepEqual(resolver.queries, []);
    assert.equal(plain.count(METADATA), 1);
    assert.equal(secure.requests.length, 0);
  });

  it('follows a DNS TXT record to an https node', async () => {
    const resolver = createFakeResolver({ txt: { '_pullmail.c.test': txtFor(secure.url) } });
    const discovery = createDiscovery({ peers: new Map(), resolver, fetcher, now });
    const node = await discovery.discover('c.test');
    assert.equal(node?.source, 'dns');
    assert.equal(node?.base, secure.url);
    assert.equal(node?.notify, `${secure.url}/pm/v1/notify`);
    assert.deepEqual(node?.domains, ['b.test', 'c.test']);
    assert.deepEqual(resolver.queries, ['TXT _pullmail.c.test']);
    assert.equal(secure.count(METADATA), 1);
  });

  it('joins TXT character-strings and skips records that are not pm1', async () => {
    const [head, tail] = [`v=pm1; node=${secure.url.slice(0, 12)}`, `${secure.url.slice(12)}/`];
    const resolver = createFakeResolver({ txt: { '_pullmail.c.test': [['v=spf1 -all'], ['v=pm1; node=http://127.0.0.1:1/'], [head, tail]] } });
    const discovery = createDiscovery({ peers: new Map(), resolver, fetcher, now });
    const node = await discovery.discover('c.test');
    assert.equal(node?.base, secure.url);
    assert.equal(node?.source, 'dns');
  });

  it('answers from its cache: two discover calls, one metadata request', async () => {
    const discovery = createDiscovery({ peers: new Map([['b.test', plain.url]]), resolver: createFakeResolver(), fetcher, now });
    const first = await discovery.discover('b.test');
    clock += 3_599_000;
    const second = await discovery.discover('B.Test'); // domains compare case-insensitively
    assert.deepEqual(second, first);
    assert.equal(plain.count(METADATA), 1);
  });

  it('fetches metadata again after an hour, and after forget()', async () => {
    const discovery = createDiscovery({ peers: new Map([['b.test', plain.url]]), resolver: createFakeResolver(), fetcher, now });
    await discovery.discover('b.test');
    clock += 3_600_001; // protocol §1: at most 1 h
    await discovery.discover('b.test');
    assert.equal(plain.count(METADATA), 2);
    discovery.forget('B.TEST');
    await discovery.discover('b.test');
    assert.equal(plain.count(METADATA), 3);
  });

  it('refuses metadata whose notify URL is on another origin', async () => {
    plain.metadata = { ...peerMetadata(plain.url, ['b.test']), notify: 'https://attacker.example/pm/v1/notify' };
    const discovery = createDiscovery({ peers: new Map([['b.test', plain.url]]), resolver: createFakeResolver(), fetcher, now });
    await assert.rejects(discovery.discover('b.test'), (err: unknown) => isPullmailError(err, 'peer_error') && /another origin/.test(err.message));
  });

  it('refuses metadata whose jwks_uri is on the same host but another port', async () => {
    // origin includes scheme and port: a key set on another port of the same host is another service
    plain.metadata = { ...peerMetadata(plain.url, ['b.test']), jwks_uri: `${secure.url}/.well-known/pullmail/jwks.json` };
    const discovery = createDiscovery({ peers: new Map([['b.test', plain.url]]), resolver: createFakeResolver(), fetcher, now });
    await assert.rejects(discovery.discover('b.test'), (err: unknown) => isPullmailError(err, 'peer_error'));
  });

  it('refuses a node whose metadata does not list the domain', async () => {
    const resolver = createFakeResolver({ txt: { '_pullmail.d.test': txtFor(secure.url) } });
    const discovery = createDiscovery({ peers: new Map(), resolver, fetcher, now });
    await assert.rejects(discovery.discover('d.test'), (err: unknown) => isPullmailError(err, 'peer_error') && /does not serve d\.test/.test(err.message));
  });

  it('fails closed on two _pullmail TXT records naming different nodes: neither is used, nor is the domain legacy', async () => {
    const resolver = createFakeResolver({ txt: { '_pullmail.c.test': [...txtFor(secure.url), ...txtFor('https://evil.example')] } });
    const discovery = createDiscovery({ peers: new Map(), resolver, fetcher, now });
    await assert.rejects(discovery.discover('c.test'), (err: unknown) => isPullmailError(err, 'peer_error') && err.temporary && /conflicting/.test(err.message));
    assert.equal(secure.count(METADATA), 0);
    // the same record twice is no conflict
    resolver.records.txt!['_pullmail.c.test'] = [...txtFor(secure.url), ...txtFor(secure.url)];
    assert.equal((await discovery.discover('c.test'))?.base, secure.url);
  });

  it('refuses metadata listing more domains than the limit', async () => {
    plain.metadata = peerMetadata(plain.url, ['b.test', ...Array.from({ length: MAX_METADATA_DOMAINS }, (_, i) => `d${i}.test`)]);
    const discovery = createDiscovery({ peers: new Map([['b.test', plain.url]]), resolver: createFakeResolver(), fetcher, now });
    await assert.rejects(discovery.discover('b.test'), (err: unknown) => isPullmailError(err, 'peer_error') && /not pm1/.test(err.message));
  });

  it('keeps at most maxEntries answers, dropping the least recently used', async () => {
    const discovery = createDiscovery({ peers: new Map(), resolver: createFakeResolver(), fetcher, now, maxEntries: 3 });
    // legacy domains: no TXT record, nothing at https://<domain>
    for (const d of ['l1.invalid', 'l2.invalid', 'l3.invalid', 'l4.invalid', 'l5.invalid']) assert.equal(await discovery.discover(d), null);
    assert.equal(discovery.cacheSize, 3);
  });

  it('lets a client cause only as many lookups as the gate admits, and answers cached domains without it', async () => {
    const resolver = createFakeResolver({ txt: { '_pullmail.c.test': txtFor(secure.url) } });
    const gate = createLookupGate({ perClient: { count: 1, seconds: 60 }, total: { count: 100, seconds: 60 }, maxConcurrent: 4, maxConcurrentPerClient: 1 }, now);
    const discovery = createDiscovery({ peers: new Map(), resolver, fetcher, now, gate });
    assert.equal((await discovery.discover('c.test', { client: '192.0.2.7' }))?.base, secure.url);
    assert.equal((await discovery.discover('c.test', { client: '192.0.2.7' }))?.base, secure.url, 'cached: no admission needed');
    const asked = resolver.queries.length;
    await assert.rejects(discovery.discover('x.invalid', { client: '192.0.2.7' }), (err: unknown) => isPullmailError(err, 'rate_limited'));
    assert.equal(resolver.queries.length, asked, 'a refused lookup asks nothing');
    // the node's own lookups (the outbound queue) pass no client and are not limited
    assert.equal(await discovery.discover('x.invalid'), null);
  });

  it('does not cache a refusal: a fixed peer is found on the next call', async () => {
    plain.metadata = peerMetadata(plain.url, ['other.test']);
    const discovery = createDiscovery({ peers: new Map([['b.test', plain.url]]), resolver: createFakeResolver(), fetcher, now });
    await assert.rejects(discovery.discover('b.test'));
    plain.metadata = peerMetadata(plain.url, ['b.test']);
    assert.equal((await discovery.discover('b.test'))?.base, plain.url);
  });

  const badMetadata: [what: string, body: (base: string) => unknown, status: number, temporary: boolean][] = [
    ['another protocol version', (base) => ({ ...peerMetadata(base, ['b.test']), version: 'pm2' }), 200, false],
    ['not JSON', () => '<html>hello</html>', 200, false],
    ['JSON without domains', (base) => ({ version: 'pm1', notify: `${base}/n`, jwks_uri: `${base}/j` }), 200, false],
    ['more than 64 KiB', (base) => ({ ...peerMetadata(base, ['b.test']), padding: 'x'.repeat(70_000) }), 200, false],
    ['404', () => ({ error: 'not_found' }), 404, false],
    ['503: try again later', () => ({ error: 'unavailable' }), 503, true],
  ];
  for (const [what, body, status, temporary] of badMetadata) {
    it(`refuses a static peer answering ${what}`, async () => {
      plain.metadata = body(plain.url);
      plain.metadataStatus = status;
      const discovery = createDiscovery({ peers: new Map([['b.test', plain.url]]), resolver: createFakeResolver(), fetcher, now });
      await assert.rejects(discovery.discover('b.test'), (err: unknown) => {
        assert.ok(err instanceof PullmailError, String(err));
        assert.equal(err.code, 'peer_error');
        assert.equal(err.temporary, temporary);
        return true;
      });
      assert.equal(plain.count(METADATA), 1);
    });
  }

  it('reports an unreachable static peer as a temporary error, not as a legacy domain', async () => {
    const gone = await startPeerServer({ domains: ['b.test'] });
    await gone.close();
    const discovery = createDiscovery({ peers: new Map([['b.test', gone.url]]), resolver: createFakeResolver(), fetcher, now });
    await assert.rejects(discovery.discover('b.test'), (err: unknown) => isPullmailError(err, 'peer_unreachable') && err.temporary);
  });

  it('reports a failing DNS server as a temporary error', async () => {
    const servfail: DnsResolver = {
      resolveTxt: async (name) => Promise.reject(Object.assign(new Error(`queryTxt ESERVFAIL ${name}`), { code: 'ESERVFAIL' })),
      resolveMx: async () => [],
    };
    const discovery = createDiscovery({ peers: new Map(), resolver: servfail, fetcher, now });
    await assert.rejects(discovery.discover('c.test'), (err: unknown) => isPullmailError(err, 'peer_unreachable') && err.temporary);
  });

  describe('well-known step (https://<domain>/.well-known/pullmail)', () => {
    // Only "localhost" can name this machine and match the test certificate, so the step runs against
    // https://localhost on port 443. Where 443 cannot be bound (not root, or taken) the positive test skips;
    // the legacy outcome is tested with nothing listening there.
    let onPort443: PeerServer | undefined;
    let skipReason: string | undefined;

    it('finds no node when nothing answers at the domain: a legacy domain, cached', async (t) => {
      const resolver = createFakeResolver();
      const discovery = createDiscovery({ peers: new Map(), resolver, fetcher, now });
      const probeFetcher = createFetcher({ allowPrivate: true });
      const listening = await probeFetcher.fetch('https://localhost/', { maxBytes: 1 }).then(
        () => true,
        (err: unknown) => !isPullmailError(err, 'peer_unreachable'),
      );
      await probeFetcher.close();
      if (listening) return t.skip('something listens on localhost:443');
      assert.equal(await discovery.discover('localhost'), null);
      assert.deepEqual(resolver.queries, ['TXT _pullmail.localhost']);
      clock += 299_000;
      assert.equal(await discovery.discover('localhost'), null);
      assert.equal(resolver.queries.length, 1, 'legacy answer cached');
      clock += 2_000; // negative answers are kept 5 minutes
      assert.equal(await discovery.discover('localhost'), null);
      assert.equal(resolver.queries.length, 2);
    });

    it('ignores a TXT record pointing to plain http and falls through to the well-known step', async () => {
      const resolver = createFakeResolver({ txt: { '_pullmail.localhost': [[`v=pm1; node=${plain.url}/`]] } });
      const discovery = createDiscovery({ peers: new Map(), resolver, fetcher, now });
      const node = await discovery.discover('localhost');
      assert.notEqual(node?.base, plain.url);
      assert.equal(plain.requests.length, 0);
    });

    describe('with a node on https://localhost', () => {
      before(async () => {
        try {
          onPort443 = await startPeerServer({ domains: ['localhost'], https: true, port: 443 });
        } catch (err) {
          skipReason = `cannot listen on 127.0.0.1:443 (${(err as NodeJS.ErrnoException).code})`;
        }
      });
      after(() => onPort443?.close());

      it('discovers it through https://localhost/.well-known/pullmail', async (t) => {
        if (!onPort443) return t.skip(skipReason);
        onPort443.metadata = peerMetadata('https://localhost', ['localhost']);
        const discovery = createDiscovery({ peers: new Map(), resolver: createFakeResolver(), fetcher, now });
        const node = await discovery.discover('localhost');
        assert.equal(node?.source, 'well-known');
        assert.equal(node?.base, 'https://localhost');
        assert.equal(node?.jwksUri, 'https://localhost/.well-known/pullmail/jwks.json');
        assert.equal(onPort443.count(METADATA), 1);
      });

      it('treats a well-known answer that does not list the domain as a legacy domain', async (t) => {
        if (!onPort443) return t.skip(skipReason);
        onPort443.metadata = peerMetadata('https://localhost', ['elsewhere.test']);
        const discovery = createDiscovery({ peers: new Map(), resolver: createFakeResolver(), fetcher, now });
        assert.equal(await discovery.discover('localhost'), null);
        assert.equal(onPort443.count(METADATA) > 0, true);
      });

      it('treats the domain as legacy when the private-address guard refuses it', async (t) => {
        if (!onPort443) return t.skip(skipReason);
        onPort443.metadata = peerMetadata('https://localhost', ['localhost']);
        onPort443.requests.length = 0;
        const guarded = createFetcher({ allowPrivate: false, trustCa: testPki().ca });
        try {
          const discovery = createDiscovery({ peers: new Map(), resolver: createFakeResolver(), fetcher: guarded, now });
          assert.equal(await discovery.discover('localhost'), null);
          assert.equal(onPort443.requests.length, 0, 'the guard stops the call before it reaches the server');
        } finally {
          await guarded.close();
        }
      });
    });
  });
});

describe('createFetcher private-address guard', () => {
  let server: PeerServer;
  let guarded: Fetcher;
  before(async () => {
    server = await startPeerServer({ domains: ['b.test'], https: true });
    guarded = createFetcher({ allowPrivate: false, trustCa: testPki().ca });
  });
  after(async () => {
    await guarded.close();
    await server.close();
  });
  afterEach(() => {
    server.requests.length = 0;
  });

  for (const host of ['127.0.0.1', 'localhost', '[::ffff:127.0.0.1]']) {
    it(`refuses https://${host}:port with private_address, before connecting`, async () => {
      await assert.rejects(guarded.fetch(`https://${host}:${server.port}${METADATA}`, { maxBytes: 65536 }), (err: unknown) => {
        assert.ok(isPullmailError(err, 'private_address'), String(err));
        assert.equal(err.temporary, false);
        return true;
      });
      assert.equal(server.requests.length, 0);
    });
  }

  it('makes a static peer on a loopback address fail hard instead of passing for legacy', async () => {
    const discovery = createDiscovery({ peers: new Map([['b.test', server.url]]), resolver: createFakeResolver(), fetcher: guarded });
    await assert.rejects(discovery.discover('b.test'), (err: unknown) => isPullmailError(err, 'private_address'));
  });

  it('lets the same URL through when private peers are allowed (the control case)', async () => {
    const open = createFetcher({ allowPrivate: true, trustCa: testPki().ca });
    try {
      const res = await open.fetch(`https://localhost:${server.port}${METADATA}`, { maxBytes: 65536 });
      assert.equal(res.status, 200);
      assert.equal(server.count(METADATA), 1);
    } finally {
      await open.close();
    }
  });

  it('does not trust a server whose CA it was not given', async () => {
    const noCa = createFetcher({ allowPrivate: true });
    try {
      await assert.rejects(noCa.fetch(`${server.url}${METADATA}`, { maxBytes: 65536 }), (err: unknown) => isPullmailError(err, 'peer_unreachable'));
    } finally {
      await noCa.close();
    }
  });
});
