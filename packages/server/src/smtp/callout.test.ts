import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createFakeResolver } from '../peers/fake-resolver.ts';
import { createSenderCallout, NEGATIVE_TTL_MS, POSITIVE_TTL_MS, PROBE_WINDOW_MS, PROBES_PER_WINDOW } from './callout.ts';
import { ProbeUnreachable, type ProbeResult } from './smtp-probe.ts';

/** A callout over a fake clock and a fake probe: `answers` by address, `down` hosts unreachable. */
function setup(answers: Record<string, ProbeResult['verdict']>, down: string[] = []) {
  let now = 1_800_000_000_000;
  const probes: string[] = [];
  const resolver = createFakeResolver({
    mx: {
      'x.test': [{ exchange: 'mx2.x.test', priority: 20 }, { exchange: 'mx1.x.test', priority: 10 }],
      'null.test': [{ exchange: '.', priority: 0 }],
    },
  });
  const callout = createSenderCallout({
    resolver,
    port: 2526,
    ehloName: 'mx.b.test',
    now: () => now,
    async probe(host, port, address) {
      probes.push(`${host}:${port} ${address}`);
      await new Promise((r) => setImmediate(r));
      if (down.includes(host)) throw new ProbeUnreachable(`${host}: ECONNREFUSED`);
      return { verdict: answers[address] ?? 'refused', detail: '250 or 550' };
    },
  });
  return { callout, probes, advance: (ms: number) => (now += ms) };
}

describe('sender callout cache and limits', () => {
  it('probes the best MX on the configured port, and remembers a positive answer for a day', async () => {
    const { callout, probes, advance } = setup({ 'amy@x.test': 'exists' });
    assert.deepEqual(await callout.check('amy@x.test'), { verdict: 'exists', detail: '250 or 550', cached: false });
    assert.deepEqual(probes, ['mx1.x.test:2526 amy@x.test']);
    advance(POSITIVE_TTL_MS - 1);
    assert.equal((await callout.check('amy@x.test')).cached, true);
    advance(1);
    assert.equal((await callout.check('amy@x.test')).cached, false, 'asked again after a day');
    assert.equal(probes.length, 2);
  });

  it('remembers a refusal for a shorter time', async () => {
    const { callout, probes, advance } = setup({});
    assert.equal((await callout.check('ghost@x.test')).verdict, 'refused');
    advance(NEGATIVE_TTL_MS - 1);
    assert.deepEqual(await callout.check('ghost@x.test'), { verdict: 'refused', detail: '250 or 550', cached: true });
    advance(1);
    await callout.check('ghost@x.test');
    assert.equal(probes.length, 2);
    assert.ok(NEGATIVE_TTL_MS < POSITIVE_TTL_MS);
  });

  it('tries the next MX when one cannot be reached; all down is unknown and not remembered', async () => {
    const one = setup({ 'amy@x.test': 'exists' }, ['mx1.x.test']);
    assert.equal((await one.callout.check('amy@x.test')).verdict, 'exists');
    assert.deepEqual(one.probes, ['mx1.x.test:2526 amy@x.test', 'mx2.x.test:2526 amy@x.test']);
    const both = setup({ 'amy@x.test': 'exists' }, ['mx1.x.test', 'mx2.x.test']);
    assert.equal((await both.callout.check('amy@x.test')).verdict, 'unknown');
    assert.equal((await both.callout.check('amy@x.test')).cached, false, 'an impossible check is tried again');
  });

  it('cannot check domains without mail hosts (no such domain, null MX)', async () => {
    const { callout, probes } = setup({});
    assert.equal((await callout.check('a@nowhere.test')).verdict, 'unknown');
    assert.equal((await callout.check('a@null.test')).verdict, 'unknown');
    assert.deepEqual(probes, []);
  });

  it('asks once for concurrent checks of one address', async () => {
    const { callout, probes } = setup({ 'amy@x.test': 'exists' });
    const answers = await Promise.all([callout.check('amy@x.test'), callout.check('amy@x.test'), callout.check('amy@x.test')]);
    assert.deepEqual(answers.map((a) => a.verdict), ['exists', 'exists', 'exists']);
    assert.equal(probes.length, 1);
  });

  it(`probes one domain at most ${PROBES_PER_WINDOW} times a window, then answers unknown without probing`, async () => {
    const { callout, probes, advance } = setup({});
    for (let i = 0; i < PROBES_PER_WINDOW; i++) assert.equal((await callout.check(`u${i}@x.test`)).verdict, 'refused');
    const limited = await callout.check('late@x.test');
    assert.equal(limited.verdict, 'unknown');
    assert.match(limited.detail, /too many probes/);
    assert.equal(probes.length, PROBES_PER_WINDOW);
    advance(PROBE_WINDOW_MS);
    assert.equal((await callout.check('late@x.test')).verdict, 'refused');
  });
});
