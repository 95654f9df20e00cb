import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createFakeResolver } from '../peers/fake-resolver.ts';
import { cachingResolver, clientNetwork, DNS_CACHE_MS, mailauthResolver, reverseName } from './dns.ts';

describe('SMTP gateway DNS helpers', () => {
  it('builds reverse names for IPv4, mapped IPv4 and IPv6', () => {
    assert.equal(reverseName('192.0.2.10'), '10.2.0.192.in-addr.arpa');
    assert.equal(reverseName('::ffff:127.0.0.1'), '1.0.0.127.in-addr.arpa');
    assert.equal(reverseName('2001:db8::1'), `1.${'0.'.repeat(23)}8.b.d.0.1.0.0.2.ip6.arpa`);
    assert.equal(reverseName('::1'), `1.${'0.'.repeat(31)}ip6.arpa`);
    assert.equal(reverseName('not an ip'), undefined);
  });

  it('groups clients by network for greylisting', () => {
    assert.equal(clientNetwork('192.0.2.10'), '192.0.2.0/24');
    assert.equal(clientNetwork('::ffff:192.0.2.200'), '192.0.2.0/24');
    assert.equal(clientNetwork('2001:db8:1:2:3:4:5:6'), '2001:0db8:0001:0002::/64');
  });

  it('answers mailauth lookups from the injected resolver only', async () => {
    const fake = createFakeResolver({ txt: { 'x.test': [['v=spf1 -all']] }, rr: { 'A x.test': ['192.0.2.1'] } });
    const r = mailauthResolver(fake);
    assert.deepEqual(await r('x.test', 'TXT'), [['v=spf1 -all']]);
    assert.deepEqual(await r('x.test', 'A'), ['192.0.2.1']);
    await assert.rejects(r('y.test', 'AAAA'), (err: NodeJS.ErrnoException) => err.code === 'ENOTFOUND');
    assert.deepEqual(fake.queries, ['TXT x.test', 'A x.test', 'AAAA y.test']);
  });

  it('caches answers and "no such name" for a minute, asks once for concurrent lookups, and never keeps a timeout', async () => {
    const fake = createFakeResolver({ txt: { 'legacy.test': [['v=spf1 -all']] } });
    let clock = 0;
    const dns = cachingResolver(fake, () => clock);
    await Promise.all([dns.resolveTxt('legacy.test'), dns.resolveTxt('legacy.test'), dns.resolve('LEGACY.test', 'txt')]);
    await assert.rejects(dns.resolveTxt('_dmarc.legacy.test'), { code: 'ENOTFOUND' });
    await assert.rejects(dns.resolveTxt('_dmarc.legacy.test'), { code: 'ENOTFOUND' });
    assert.deepEqual(fake.queries, ['TXT legacy.test', 'TXT _dmarc.legacy.test']);
    clock += DNS_CACHE_MS + 1;
    await dns.resolveTxt('legacy.test');
    assert.equal(fake.queries.length, 3, 'asked again once the minute is over');
    // a timeout says nothing about the name: the next lookup asks again
    let calls = 0;
    const flaky = cachingResolver({ ...fake, resolveTxt: async () => (calls++, Promise.reject(Object.assign(new Error('timeout'), { code: 'ETIMEOUT' }))) }, () => clock);
    await assert.rejects(flaky.resolveTxt('x.test'), { code: 'ETIMEOUT' });
    await assert.rejects(flaky.resolveTxt('x.test'), { code: 'ETIMEOUT' });
    assert.equal(calls, 2);
  });
});
