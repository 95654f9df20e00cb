import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPullmailError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { createMetrics } from '../metrics.ts';
import { createLimiterFactory } from '../store/rate-counters.ts';
import { clientKey, createLoginThrottle, type LoginAttempt } from './login-throttle.ts';

function throttle(client: number, account: number) {
  const metrics = createMetrics(() => undefined);
  const t = createLoginThrottle(
    { log: createLogger('silent'), metrics },
    { client: { count: client, seconds: 600 }, account: { count: account, seconds: 900 } },
    createLimiterFactory({ db: undefined as never, shared: false }),
  );
  return { t, metrics };
}

/** One attempt: `right` says whether the secret was right; returns what the door would answer. */
async function tryLogin(t: ReturnType<typeof throttle>['t'], a: Omit<LoginAttempt, 'door'>, right: boolean) {
  let checked = false;
  try {
    const r = await t.guard({ door: 'submission', ...a }, async () => ((checked = true), right ? 'ok' : undefined));
    return { answer: r ? 'ok' : 'bad', checked };
  } catch (err) {
    if (!isPullmailError(err, 'rate_limited')) throw err;
    return { answer: 'locked', wait: err.retryAfter, checked };
  }
}

describe('login throttle', () => {
  it('locks an account after its failures, from any client, without looking at the secret', async () => {
    const { t, metrics } = throttle(100, 3);
    for (const ip of ['192.0.2.1', '192.0.2.2', '198.51.100.3']) assert.equal((await tryLogin(t, { client: ip, account: 'amy@a.test' }, false)).answer, 'bad');
    const locked = await tryLogin(t, { client: '203.0.113.9', account: 'amy@a.test' }, true);
    assert.equal(locked.answer, 'locked', 'the right password is refused too: a guess cannot be confirmed');
    assert.equal(locked.checked, false);
    assert.ok(locked.wait! > 800 && locked.wait! <= 900, `waits out the account window (${locked.wait} s)`);
    assert.equal((await tryLogin(t, { client: '203.0.113.9', account: 'ann@a.test' }, true)).answer, 'ok', 'other accounts go on');
    const counted = (await metrics.registry.getSingleMetric('pullmail_login_failures_total')!.get()).values;
    assert.deepEqual(counted.map((v) => [v.labels.reason, v.value]).sort(), [['bad_credentials', 3], ['locked_out', 1]]);
  });

  it('locks a client address after its failures, whatever accounts it names', async () => {
    const { t } = throttle(3, 100);
    for (const acct of ['a@a.test', 'b@a.test', undefined]) assert.equal((await tryLogin(t, { client: '192.0.2.7', account: acct }, false)).answer, 'bad');
    assert.equal((await tryLogin(t, { client: '192.0.2.7', account: 'c@a.test' }, true)).answer, 'locked');
    assert.equal((await tryLogin(t, { client: '::ffff:192.0.2.7', account: 'c@a.test' }, true)).answer, 'locked', 'the same address, IPv4-mapped');
    assert.equal((await tryLogin(t, { client: '192.0.2.8', account: 'c@a.test' }, true)).answer, 'ok', 'a neighbour address is not locked');
  });

  it('forgets an account\'s failures after a success, but not the client\'s', async () => {
    const { t } = throttle(4, 2);
    const amy = { client: '192.0.2.1', account: 'amy@a.test' };
    assert.equal((await tryLogin(t, amy, false)).answer, 'bad');
    assert.equal((await tryLogin(t, amy, true)).answer, 'ok');
    assert.equal((await tryLogin(t, amy, false)).answer, 'bad', 'one failure since the success: not locked');
    assert.equal((await tryLogin(t, amy, true)).answer, 'ok');
    assert.equal((await tryLogin(t, amy, false)).answer, 'bad');
    assert.equal((await tryLogin(t, amy, false)).answer, 'bad', 'fourth failure of this client');
    assert.equal((await tryLogin(t, { client: '192.0.2.1', account: 'ann@a.test' }, true)).answer, 'locked', 'the client is locked: a success did not wipe its count');
  });

  it('counts IPv6 clients per /64', async () => {
    const { t } = throttle(2, 100);
    assert.equal((await tryLogin(t, { client: '2001:db8:1:2::1' }, false)).answer, 'bad');
    assert.equal((await tryLogin(t, { client: '2001:db8:1:2:ffff::9' }, false)).answer, 'bad');
    assert.equal((await tryLogin(t, { client: '2001:db8:1:2::77', account: 'a@a.test' }, true)).answer, 'locked');
    assert.equal((await tryLogin(t, { client: '2001:db8:1:3::1', account: 'a@a.test' }, true)).answer, 'ok', 'the next /64 is someone else');
  });
});

describe('clientKey', () => {
  const cases: [string | undefined, string][] = [
    ['192.0.2.10', '192.0.2.10'],
    ['::ffff:192.0.2.10', '192.0.2.10'], // a dual-stack socket reports IPv4 clients this way
    ['2001:db8::1', '2001:0db8:0000:0000::/64'],
    ['2001:db8:0:0:1::5', '2001:0db8:0000:0000::/64'], // same /64 written differently
    [undefined, 'local'], // in-process requests have no socket
  ];
  for (const [ip, key] of cases) it(`${ip} -> ${key}`, () => assert.equal(clientKey(ip), key));
});
