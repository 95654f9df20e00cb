// `pullmail-server dns show <domain>` as an operator runs it (OPERATOR.md): the real CLI in a child process
// over an embedded PGlite data directory; every printed line is checked against the configuration and the
// domain's DKIM key as `dkim show` prints it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run } from './harness/cli-process.ts';

describe('pullmail-server dns show', { timeout: 120_000 }, () => {
  let dataDir: string;
  let env: Record<string, string>;

  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'pm-dns-'));
    env = {
      PULLMAIL_DATA_DIR: dataDir,
      PULLMAIL_DOMAINS: 'a.example,b.example',
      PULLMAIL_PUBLIC_URL: 'https://mail.host.example:8443',
      PULLMAIL_IMAP_PORT: '1143',
      PULLMAIL_SUBMISSION_PORT: '1587',
    };
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('prints every record the domain needs, one zone-file line each, with the key dkim show prints', async () => {
    const dkim = await run(['dkim', 'show', 'b.example'], env);
    assert.equal(dkim.code, 0, dkim.stderr);
    const dns = await run(['dns', 'show', 'B.Example'], env);
    assert.equal(dns.code, 0, dns.stderr);
    assert.ok(dns.stdout.endsWith('\n'));
    const lines = dns.stdout.slice(0, -1).split('\n');
    assert.deepEqual(lines, [
      'b.example. IN MX 10 mail.host.example.',
      '_pullmail.b.example. IN TXT "v=pm1; node=https://mail.host.example:8443/"',
      'b.example. IN TXT "v=spf1 mx -all"',
      dkim.stdout.trimEnd(),
      '_dmarc.b.example. IN TXT "v=DMARC1; p=quarantine; adkim=s; aspf=r"',
      'autoconfig.b.example. IN CNAME mail.host.example.',
      '_imap._tcp.b.example. IN SRV 0 1 1143 mail.host.example.',
      // PULLMAIL_IMAPS_PORT defaults to 0: RFC 6186 "not offered"
      '_imaps._tcp.b.example. IN SRV 0 0 0 .',
      '_submission._tcp.b.example. IN SRV 0 1 1587 mail.host.example.',
      '_submissions._tcp.b.example. IN SRV 0 0 0 .',
    ]);
    assert.match(lines[3], /^pm\d{6}\._domainkey\.b\.example\. IN TXT "v=DKIM1; k=rsa; p=[A-Za-z0-9+/]{100,}"/);
  });

  it('says "not offered" for a door whose port is 0', async () => {
    const dns = await run(['dns', 'show', 'a.example'], { ...env, PULLMAIL_SUBMISSION_PORT: '0', PULLMAIL_IMAP_PORT: '0' });
    assert.equal(dns.code, 0, dns.stderr);
    const srv = dns.stdout.split('\n').filter((l) => l.includes(' IN SRV '));
    assert.deepEqual(srv, [
      '_imap._tcp.a.example. IN SRV 0 0 0 .',
      '_imaps._tcp.a.example. IN SRV 0 0 0 .',
      '_submission._tcp.a.example. IN SRV 0 0 0 .',
      '_submissions._tcp.a.example. IN SRV 0 0 0 .',
    ]);
  });

  // .example is reserved (RFC 2606) and never delegated: whatever this machine's DNS does, NXDOMAIN or no
  // answer, none of the records can be found there
  it('--check says of each record that DNS does not have it, and exits 1', async () => {
    const shown = await run(['dns', 'show', 'a.example'], env);
    assert.equal(shown.code, 0, shown.stderr);
    const checked = await run(['dns', 'show', 'a.example', '--check'], env);
    assert.equal(checked.code, 1, checked.stderr);
    assert.equal(checked.stderr, 'pullmail-server: 10 of 10 records of a.example are not as DNS should answer them\n');
    const want = shown.stdout.trimEnd().split('\n');
    const got = checked.stdout.trimEnd().split('\n');
    assert.equal(got.length, want.length);
    got.forEach((line, i) => {
      const m = /^(missing|unanswered) +(.*?)(?:  \([A-Z_]+\))?$/.exec(line);
      assert.ok(m, line);
      assert.equal(m[2], want[i]);
    });
  });

  it('refuses a domain the node does not serve with one line naming PULLMAIL_DOMAINS', async () => {
    const dns = await run(['dns', 'show', 'c.example'], env);
    assert.equal(dns.code, 1);
    assert.equal(dns.stdout, '');
    assert.equal(dns.stderr, 'pullmail-server: c.example is not a domain of this node (PULLMAIL_DOMAINS)\n');
  });

  it('asks for a domain when none is given', async () => {
    const dns = await run(['dns', 'show'], env);
    assert.equal(dns.code, 1);
    assert.equal(dns.stderr, 'pullmail-server: dns show needs a domain\n');
  });
});
