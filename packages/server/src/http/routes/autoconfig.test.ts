import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { autoconfigXml, mailEndpoints } from './autoconfig.ts';

describe('autoconfig', () => {
  const table: [string, Parameters<typeof mailEndpoints>[0], ReturnType<typeof mailEndpoints>][] = [
    ['plain on loopback without TLS', { imapPort: 2143, imapsPort: 0, submissionPort: 2587 }, { imap: { port: 2143, socketType: 'plain' }, submission: { port: 2587, socketType: 'plain' } }],
    ['STARTTLS once TLS is set', { imapPort: 143, imapsPort: 0, submissionPort: 587, tls: { cert: 'c', key: 'k' } }, { imap: { port: 143, socketType: 'STARTTLS' }, submission: { port: 587, socketType: 'STARTTLS' } }],
    ['implicit TLS preferred when offered', { imapPort: 143, imapsPort: 993, submissionPort: 587, tls: { cert: 'c', key: 'k' } }, { imap: { port: 993, socketType: 'SSL' }, submission: { port: 587, socketType: 'STARTTLS' } }],
    ['doors that are off are not named', { imapPort: 0, imapsPort: 0, submissionPort: 0 }, { imap: null, submission: null }],
  ];
  for (const [name, config, want] of table) it(name, () => assert.deepEqual(mailEndpoints(config), want));

  it('names the servers and escapes what it is given', () => {
    const doc = autoconfigXml('a<b.test', 'mail.a.test', mailEndpoints({ imapPort: 143, imapsPort: 993, submissionPort: 587, tls: { cert: 'c', key: 'k' } }));
    assert.match(doc, /<incomingServer type="imap">\s*<hostname>mail\.a\.test<\/hostname>\s*<port>993<\/port>\s*<socketType>SSL<\/socketType>/);
    assert.match(doc, /<outgoingServer type="smtp">[\s\S]*<port>587<\/port>/);
    assert.match(doc, /<domain>a&#60;b\.test<\/domain>/);
    assert.ok(!doc.includes('a<b'));
  });
});
