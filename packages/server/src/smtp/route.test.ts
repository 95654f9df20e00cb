import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPullmailError } from '../errors.ts';
import { createFakeResolver } from '../peers/fake-resolver.ts';
import { smtpRoute } from './route.ts';

describe('outbound SMTP route', () => {
  const resolver = createFakeResolver({
    mx: {
      'x.test': [{ exchange: 'mx2.x.test', priority: 20 }, { exchange: 'mx1.x.test.', priority: 10 }],
      'nomail.test': [{ exchange: '.', priority: 0 }],
      'bare.test': [],
    },
  });

  it('uses the relay when one is configured, without DNS', async () => {
    const fake = createFakeResolver();
    assert.deepEqual(await smtpRoute('x.test', { relay: 'smtp://127.0.0.1:2526', resolver: fake }), [{ host: '127.0.0.1', port: 2526, secure: false, relay: true }]);
    assert.deepEqual(await smtpRoute('x.test', { relay: 'smtps://relay.test', resolver: fake }), [{ host: 'relay.test', port: 465, secure: true, relay: true }]);
    assert.deepEqual(fake.queries, []);
  });

  it('orders MX hosts by preference', async () => {
    assert.deepEqual((await smtpRoute('x.test', { resolver })).map((h) => h.host), ['mx1.x.test', 'mx2.x.test']);
  });

  it('falls back to the domain itself without MX records (implicit MX)', async () => {
    assert.deepEqual((await smtpRoute('bare.test', { resolver })).map((h) => `${h.host}:${h.port}`), ['bare.test:25']);
  });

  it('gives up for good on a null MX or a domain that does not exist', async () => {
    await assert.rejects(smtpRoute('nomail.test', { resolver }), (e: unknown) => isPullmailError(e, 'no_route') && !e.temporary);
    await assert.rejects(smtpRoute('gone.test', { resolver }), (e: unknown) => isPullmailError(e, 'no_route') && !e.temporary);
  });

  it('retries later when DNS itself fails', async () => {
    const broken = { ...resolver, resolveMx: async () => Promise.reject(Object.assign(new Error('timeout'), { code: 'ETIMEOUT' })) };
    await assert.rejects(smtpRoute('x.test', { resolver: broken }), (e: unknown) => isPullmailError(e, 'peer_unreachable') && e.temporary);
  });
});
