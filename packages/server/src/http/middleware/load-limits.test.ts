import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Hono } from 'hono';
import { PullmailError } from '../../errors.ts';
import { loadLimits } from './load-limits.ts';

describe('loadLimits', () => {
  it('refuses with unavailable past the notify cap and past the total, and lets requests in again as others end', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const app = new Hono();
    app.onError((err, c) => c.json({ error: (err as PullmailError).code }, err instanceof PullmailError && err.code === 'unavailable' ? 503 : 500));
    app.use('*', loadLimits({ maxInflight: 3, notifyMaxInflight: 1, notifyBodyMs: 10_000 }));
    app.post('/pm/v1/notify', async (c) => (await held, c.text('ok')));
    app.get('/x', async (c) => (await held, c.text('ok')));
    const status = async (p: Promise<Response> | Response) => (await p).status;

    const first = status(app.request('/pm/v1/notify', { method: 'POST' }));
    assert.equal(await status(app.request('/pm/v1/notify/batch', { method: 'POST' })), 503, 'the batch shares the notify cap');
    assert.equal(await status(app.request('/pm/v1/notify', { method: 'POST' })), 503);
    const others = [status(app.request('/x')), status(app.request('/x'))];
    assert.equal(await status(app.request('/x')), 503, 'a fourth in all');
    release();
    assert.deepEqual(await Promise.all([first, ...others]), [200, 200, 200]);
    assert.equal(await status(app.request('/pm/v1/notify', { method: 'POST' })), 200);
  });
});
