import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { domainRecords, zoneLine, type DomainSetup } from './dns-records.ts';

const base: DomainSetup = {
  domain: 'a.example',
  publicUrl: 'https://mail.a.example',
  imapPort: 143,
  imapsPort: 993,
  submissionPort: 587,
  dkim: { name: 'pm202612._domainkey.a.example', value: 'v=DKIM1; k=rsa; p=QUJD' },
};

const lines = (s: DomainSetup) => domainRecords(s).map(zoneLine);

describe('domainRecords', () => {
  const cases: [string, Partial<DomainSetup>, string[]][] = [
    ['every door open on a named host', {}, [
      'a.example. IN MX 10 mail.a.example.',
      '_pullmail.a.example. IN TXT "v=pm1; node=https://mail.a.example/"',
      'a.example. IN TXT "v=spf1 mx -all"',
      'pm202612._domainkey.a.example. IN TXT "v=DKIM1; k=rsa; p=QUJD"',
      '_dmarc.a.example. IN TXT "v=DMARC1; p=quarantine; adkim=s; aspf=r"',
      'autoconfig.a.example. IN CNAME mail.a.example.',
      '_imap._tcp.a.example. IN SRV 0 1 143 mail.a.example.',
      '_imaps._tcp.a.example. IN SRV 0 1 993 mail.a.example.',
      '_submission._tcp.a.example. IN SRV 0 1 587 mail.a.example.',
      // no implicit-TLS submission door exists on the node
      '_submissions._tcp.a.example. IN SRV 0 0 0 .',
    ]],
    // RFC 6186 §3.4: a port set to 0 is published as "not offered", target "."
    ['doors off', { imapPort: 0, imapsPort: 0, submissionPort: 0 }, [
      'a.example. IN MX 10 mail.a.example.',
      '_pullmail.a.example. IN TXT "v=pm1; node=https://mail.a.example/"',
      'a.example. IN TXT "v=spf1 mx -all"',
      'pm202612._domainkey.a.example. IN TXT "v=DKIM1; k=rsa; p=QUJD"',
      '_dmarc.a.example. IN TXT "v=DMARC1; p=quarantine; adkim=s; aspf=r"',
      'autoconfig.a.example. IN CNAME mail.a.example.',
      '_imap._tcp.a.example. IN SRV 0 0 0 .',
      '_imaps._tcp.a.example. IN SRV 0 0 0 .',
      '_submission._tcp.a.example. IN SRV 0 0 0 .',
      '_submissions._tcp.a.example. IN SRV 0 0 0 .',
    ]],
    // the base URL keeps its port and path, written with one trailing slash; SPF names the smarthost
    ['port, path and a smarthost', { publicUrl: 'https://node.host.example:8443/pm//', smtpRelay: 'smtp://relay.isp.example:587' }, [
      'a.example. IN MX 10 node.host.example.',
      '_pullmail.a.example. IN TXT "v=pm1; node=https://node.host.example:8443/pm/"',
      'a.example. IN TXT "v=spf1 mx a:relay.isp.example -all"',
      'pm202612._domainkey.a.example. IN TXT "v=DKIM1; k=rsa; p=QUJD"',
      '_dmarc.a.example. IN TXT "v=DMARC1; p=quarantine; adkim=s; aspf=r"',
      'autoconfig.a.example. IN CNAME node.host.example.',
      '_imap._tcp.a.example. IN SRV 0 1 143 node.host.example.',
      '_imaps._tcp.a.example. IN SRV 0 1 993 node.host.example.',
      '_submission._tcp.a.example. IN SRV 0 1 587 node.host.example.',
      '_submissions._tcp.a.example. IN SRV 0 0 0 .',
    ]],
    // an MX or SRV target cannot be an address (RFC 5321 §5.1): the host gets a name under the domain
    ['public URL on an IPv4 address, relay on an address', { publicUrl: 'http://192.0.2.7:8080', smtpRelay: 'smtp://198.51.100.1:25' }, [
      'a.example. IN MX 10 mail.a.example.',
      'mail.a.example. IN A 192.0.2.7',
      '_pullmail.a.example. IN TXT "v=pm1; node=http://192.0.2.7:8080/"',
      'a.example. IN TXT "v=spf1 mx ip4:198.51.100.1 -all"',
      'pm202612._domainkey.a.example. IN TXT "v=DKIM1; k=rsa; p=QUJD"',
      '_dmarc.a.example. IN TXT "v=DMARC1; p=quarantine; adkim=s; aspf=r"',
      'autoconfig.a.example. IN A 192.0.2.7',
      '_imap._tcp.a.example. IN SRV 0 1 143 mail.a.example.',
      '_imaps._tcp.a.example. IN SRV 0 1 993 mail.a.example.',
      '_submission._tcp.a.example. IN SRV 0 1 587 mail.a.example.',
      '_submissions._tcp.a.example. IN SRV 0 0 0 .',
    ]],
    ['public URL on an IPv6 address', { publicUrl: 'https://[2001:db8::5]', imapsPort: 0 }, [
      'a.example. IN MX 10 mail.a.example.',
      'mail.a.example. IN AAAA 2001:db8::5',
      '_pullmail.a.example. IN TXT "v=pm1; node=https://[2001:db8::5]/"',
      'a.example. IN TXT "v=spf1 mx -all"',
      'pm202612._domainkey.a.example. IN TXT "v=DKIM1; k=rsa; p=QUJD"',
      '_dmarc.a.example. IN TXT "v=DMARC1; p=quarantine; adkim=s; aspf=r"',
      'autoconfig.a.example. IN AAAA 2001:db8::5',
      '_imap._tcp.a.example. IN SRV 0 1 143 mail.a.example.',
      '_imaps._tcp.a.example. IN SRV 0 0 0 .',
      '_submission._tcp.a.example. IN SRV 0 1 587 mail.a.example.',
      '_submissions._tcp.a.example. IN SRV 0 0 0 .',
    ]],
  ];
  for (const [why, change, want] of cases) {
    it(why, () => assert.deepEqual(lines({ ...base, ...change }), want));
  }
});

describe('zoneLine', () => {
  it('splits a TXT value into strings of at most 255 characters (RFC 1035 §3.3.14)', () => {
    const value = `v=DKIM1; k=rsa; p=${'A'.repeat(400)}`;
    const line = zoneLine({ name: 's._domainkey.a.example', type: 'TXT', text: value });
    const strings = [...line.matchAll(/"([^"]*)"/g)].map((m) => m[1]);
    assert.deepEqual(strings.map((s) => s.length), [255, value.length - 255]);
    assert.equal(strings.join(''), value);
  });

  it('escapes quotes and backslashes inside a TXT string', () => {
    assert.equal(zoneLine({ name: 'a.example', type: 'TXT', text: 'say "hi" \\o/' }), 'a.example. IN TXT "say \\"hi\\" \\\\o/"');
  });
});
