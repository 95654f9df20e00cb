// PULLMAIL_METRICS_TOKEN (issue 17): /metrics on a public listener answers only its bearer token.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startNode, type TestNode } from './harness/node.ts';

describe('/metrics with PULLMAIL_METRICS_TOKEN', () => {
  const token = 'scraper-token-0123456789abcdef';
  let node: TestNode;
  let open: TestNode;
  before(async () => {
    node = await startNode({ domain: 'a.test', env: { PULLMAIL_METRICS_TOKEN: token } });
    open = await startNode({ domain: 'b.test' });
  });
  after(async () => {
    await node.stop();
    await open.stop();
  });

  it('refuses no token and a wrong one with 401 naming the variable', async () => {
    for (const t of [undefined, 'wrong-token-wrong-token-wrong']) {
      const res = await node.api('/metrics', { token: t });
      assert.equal(res.status, 401);
      assert.match(((await res.json()) as { detail: string }).detail, /PULLMAIL_METRICS_TOKEN/);
    }
  });

  it('serves the metrics for the token', async () => {
    const res = await node.api('/metrics', { token });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /^# HELP /m);
  });

  it('stays open without the variable', async () => {
    assert.equal((await open.api('/metrics')).status, 200);
  });
});
