import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkLine, checkRecords, compareRecord } from './dns-check.ts';
import { domainRecords, type DnsRecord } from './dns-records.ts';
import { createFakeResolver, type FakeDns } from './peers/fake-resolver.ts';
import type { DnsResolver } from './peers/discovery.ts';

const mx: DnsRecord = { name: 'a.example', type: 'MX', priority: 10, exchange: 'mail.a.example' };
const spf: DnsRecord = { name: 'a.example', type: 'TXT', text: 'v=spf1 mx -all' };
const dmarc: DnsRecord = { name: '_dmarc.a.example', type: 'TXT', text: 'v=DMARC1; p=quarantine; adkim=s; aspf=r' };
const cname: DnsRecord = { name: 'autoconfig.a.example', type: 'CNAME', target: 'mail.a.example' };
const imap: DnsRecord = { name: '_imap._tcp.a.example', type: 'SRV', priority: 0, weight: 1, port: 143, target: 'mail.a.example' };
const off: DnsRecord = { name: '_imaps._tcp.a.example', type: 'SRV', priority: 0, weight: 0, port: 0, target: '' };

describe('compareRecord', () => {
  const cases: [string, DnsRecord, DnsRecord[], string][] = [
    ['MX as published', mx, [mx], 'ok'],
    // the priority is the operator's choice, and a backup MX may stand beside ours
    ['MX with another priority and a backup', mx, [{ ...mx, priority: 20, exchange: 'MAIL.A.example.' }, { ...mx, exchange: 'backup.isp.example' }], 'ok'],
    ['MX elsewhere', mx, [{ ...mx, exchange: 'mx.old-provider.example' }], 'differs'],
    ['no MX', mx, [], 'missing'],
    ['SPF among unrelated TXT records', spf, [{ ...spf, text: 'google-site-verification=x' }, spf], 'ok'],
    ['an old SPF record', spf, [{ ...spf, text: 'google-site-verification=x' }, { ...spf, text: 'v=spf1 include:old.example ~all' }], 'differs'],
    // TXT records of other kinds are no rival: our SPF is simply not there
    ['only unrelated TXT', spf, [{ ...spf, text: 'google-site-verification=x' }], 'missing'],
    ['DMARC written without spaces', dmarc, [{ ...dmarc, text: 'v=DMARC1;p=quarantine;adkim=s;aspf=r;' }], 'ok'],
    ['DMARC with another policy', dmarc, [{ ...dmarc, text: 'v=DMARC1; p=none' }], 'differs'],
    ['CNAME with a trailing dot', cname, [{ ...cname, target: 'mail.a.example.' }], 'ok'],
    ['CNAME elsewhere', cname, [{ ...cname, target: 'www.a.example' }], 'differs'],
    ['SRV as published', imap, [imap], 'ok'],
    ['SRV on another port', imap, [{ ...imap, port: 993 }], 'differs'],
    ['not-offered SRV as published', off, [{ ...off }], 'ok'],
    // an SRV record offering a door the node has closed sends clients to a closed port
    ['not-offered SRV that offers', off, [{ ...off, port: 993, target: 'mail.a.example' }], 'differs'],
  ];
  for (const [why, want, answers, state] of cases) {
    it(why, () => assert.equal(compareRecord(want, answers).state, state));
  }

  it('names what DNS has instead', () => {
    assert.deepEqual(compareRecord(mx, [{ ...mx, exchange: 'mx.old.example' }]).found, ['a.example. IN MX 10 mx.old.example.']);
  });
});

describe('checkRecords', () => {
  const records = domainRecords({
    domain: 'a.example', publicUrl: 'https://mail.a.example', imapPort: 143, imapsPort: 0, submissionPort: 587,
    dkim: { name: 's1._domainkey.a.example', value: `v=DKIM1; k=rsa; p=${'Q'.repeat(300)}` },
  });
  // every record of a.example as a DNS server answers it (node:dns shapes): DKIM split into strings, SRV "." as ''
  const published: FakeDns = {
    mx: { 'a.example': [{ exchange: 'mail.a.example', priority: 10 }] },
    txt: {
      'a.example': [['v=spf1 mx -all'], ['some-verification=1']],
      '_pullmail.a.example': [['v=pm1; node=https://mail.a.example/']],
      's1._domainkey.a.example': [[`v=DKIM1; k=rsa; p=${'Q'.repeat(237)}`, 'Q'.repeat(63)]],
      '_dmarc.a.example': [['v=DMARC1; p=quarantine; adkim=s; aspf=r']],
    },
    rr: {
      'CNAME autoconfig.a.example': ['mail.a.example'],
      'SRV _imap._tcp.a.example': [{ priority: 0, weight: 1, port: 143, name: 'mail.a.example' }],
      'SRV _imaps._tcp.a.example': [{ priority: 0, weight: 0, port: 0, name: '' }],
      'SRV _submission._tcp.a.example': [{ priority: 0, weight: 1, port: 587, name: 'mail.a.example' }],
      'SRV _submissions._tcp.a.example': [{ priority: 0, weight: 0, port: 0, name: '' }],
    },
  };

  it('finds every record of a fully published domain', async () => {
    const checks = await checkRecords(records, createFakeResolver(published));
    assert.deepEqual(checks.map((c) => c.state), records.map(() => 'ok'));
  });

  it('reports each record that is missing or different, and the others as ok', async () => {
    const dns = createFakeResolver({
      ...published,
      mx: { 'a.example': [{ exchange: 'mx.old.example', priority: 10 }] },
      txt: { ...published.txt, '_dmarc.a.example': undefined as never },
    });
    const checks = await checkRecords(records, dns);
    const states = Object.fromEntries(checks.map((c) => [`${c.record.type} ${c.record.name}`, c.state]));
    assert.equal(states['MX a.example'], 'differs');
    assert.equal(states['TXT _dmarc.a.example'], 'missing');
    assert.equal(checks.filter((c) => c.state === 'ok').length, records.length - 2);
    assert.equal(checkLine(checks[0]), 'differs    a.example. IN MX 10 mail.a.example.  (DNS has: a.example. IN MX 10 mx.old.example.)');
  });

  it('says which lookups got no answer at all', async () => {
    const failing: DnsResolver = {
      resolveTxt: async () => { throw Object.assign(new Error('queryTxt ETIMEOUT'), { code: 'ETIMEOUT' }); },
      resolveMx: async () => { throw Object.assign(new Error('queryMx ENOTFOUND'), { code: 'ENOTFOUND' }); },
    };
    const checks = await checkRecords(records, failing);
    assert.equal(checks[0].state, 'missing', 'ENOTFOUND is an answer: nothing there');
    assert.deepEqual(checks.find((c) => c.record.type === 'TXT'), { record: records[1], state: 'unanswered', found: ['ETIMEOUT'] });
  });
});
