// The SSRF guard on SMTP out (issue 12): MX delivery and the sender callout never connect to a
// loopback or other non-public address unless allowed (PULLMAIL_ALLOW_PRIVATE_PEERS), whether the host
// is an address literal or a name resolving to one. A counting server on 127.0.0.1 shows whether a
// connection was made at all.
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { isPullmailError } from '../errors.ts';
import { sendToHop } from './send-smtp.ts';
import { probeAddress, ProbeUnreachable } from './smtp-probe.ts';

describe('SMTP out refuses non-public addresses', () => {
  let server: Server;
  let port: number;
  let connections = 0;
  before(async () => {
    // answers every connection with a refusal: enough to tell "connected" from "never tried"
    server = createServer((s) => {
      connections++;
      s.end('554 5.7.1 no service here\r\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => void server.close());
  beforeEach(() => {
    connections = 0;
  });

  const mail = { from: 'alice@a.test', to: 'bob@x.test', raw: Buffer.from('Subject: x\r\n\r\nhi\r\n') };
  // an MX record is the remote domain owner's to write: each of these points at our own machine
  const hosts: [host: string, why: string][] = [
    ['127.0.0.1', 'loopback literal'],
    ['localhost', 'a name resolving to loopback'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
  ];
  for (const [host, why] of hosts) {
    it(`MX delivery to ${host} (${why}) is refused without a connection`, async () => {
      await assert.rejects(
        sendToHop({ host, port, secure: false, relay: false }, mail, { ehloName: 'a.test', timeoutMs: 5_000 }),
        (err: unknown) => isPullmailError(err, 'private_address') && !err.temporary,
      );
      assert.equal(connections, 0);
    });

    it(`the sender callout to ${host} (${why}) is refused without a connection`, async () => {
      await assert.rejects(probeAddress(host, port, 'bob@x.test', { ehloName: 'b.test', timeoutMs: 5_000 }), (err: unknown) => err instanceof ProbeUnreachable && /private/.test(err.message));
      assert.equal(connections, 0);
    });
  }

  it('control: with allowPrivate, or to the configured relay, the connection is made', async () => {
    await assert.rejects(sendToHop({ host: '127.0.0.1', port, secure: false, relay: false }, mail, { ehloName: 'a.test', timeoutMs: 5_000, allowPrivate: true }));
    await assert.rejects(sendToHop({ host: 'localhost', port, secure: false, relay: true }, mail, { ehloName: 'a.test', timeoutMs: 5_000 }));
    const probed = await probeAddress('127.0.0.1', port, 'bob@x.test', { ehloName: 'b.test', timeoutMs: 5_000, allowPrivate: true });
    assert.equal(probed.verdict, 'unknown');
    assert.equal(connections, 3);
  });
});
