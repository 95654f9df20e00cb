// Folders and filed mail through app.request() (docs/mailbox.md), for input PostgreSQL text cannot
// hold (NUL, a lone surrogate): folder names are refused or name no folder, header text is stored
// with U+FFFD. The everyday behaviour is test/folders.test.ts, over real nodes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, TEST_ADMIN_TOKEN, type TestApp } from '../test-app.ts';

let t: TestApp;
let token: string;
let id: string;
before(async () => {
  t = await createTestApp();
  token = await t.addUser('u@a.test');
  assert.equal((await t.request('/api/v1/folders', { method: 'POST', token, json: { name: 'Mine' } })).status, 201);
  id = ((await (await append('INBOX', 'From: a@b.test\r\nSubject: hi\r\n\r\nx\r\n')).json()) as { id: string }).id;
});
after(() => t.close());

const append = (folder: string, raw: string) => t.request(`/api/v1/folders/${folder}/messages`, { method: 'POST', token, headers: { 'content-type': 'message/rfc822' }, body: raw });
const answer = async (res: Response) => ({ status: res.status, ...((await res.json()) as { error?: string; detail?: string; subject?: string }) });

describe('folder names PostgreSQL text cannot hold', () => {
  const names: [string, string, RegExp][] = [
    ['a NUL', 'a\u0000b', /contains a control character/],
    // it would be stored as U+FFFD: a folder under another name than the one asked for
    ['a lone surrogate', 'a\uD800b', /unpaired surrogate/],
  ];
  for (const [what, name, detail] of names) {
    it(`refuses creating or renaming to a name with ${what}, with 400 naming the problem`, async () => {
      for (const res of [
        await t.request('/api/v1/folders', { method: 'POST', token, json: { name } }),
        await t.request('/api/v1/folders/Mine', { method: 'PATCH', token, json: { name } }),
      ]) {
        const a = await answer(res);
        assert.equal(a.status, 400, JSON.stringify(a));
        assert.match(a.detail!, detail);
      }
    });
  }

  it('finds no folder under a name with a NUL, in the path or the body (404)', async () => {
    const cases: [string, Promise<Response>][] = [
      ['rename', t.request('/api/v1/folders/a%00b', { method: 'PATCH', token, json: { name: 'x' } })],
      ['subscribe', t.request('/api/v1/folders/a%00b', { method: 'PATCH', token, json: { subscribed: false } })],
      ['delete', t.request('/api/v1/folders/a%00b', { method: 'DELETE', token })],
      ['list', t.request('/api/v1/folders/a%00b/messages', { token })],
      ['append', append('a%00b', 'Subject: x\r\n\r\nx\r\n')],
      ['move', t.request(`/api/v1/mail/${id}`, { method: 'PATCH', token, json: { folder: 'a\u0000b' } })],
      ['copy', t.request(`/api/v1/mail/${id}/copy`, { method: 'POST', token, json: { folder: 'a\u0000b' } })],
    ];
    for (const [what, res] of cases) {
      const a = await answer(await res);
      assert.equal(a.status, 404, `${what}: ${JSON.stringify(a)}`);
      assert.equal(a.error, 'not_found', what);
    }
  });
});

describe('header text PostgreSQL text cannot hold', () => {
  it('files an appended message whose Subject has a NUL, the subject shown with U+FFFD and the bytes kept', async () => {
    const raw = 'From: a@b.test\r\nSubject: h\u0000i\r\n\r\nbody\r\n';
    const a = await answer(await append('Mine', raw));
    assert.equal(a.status, 201, JSON.stringify(a));
    assert.equal(a.subject, 'h\uFFFDi');
    const id = (a as { id?: string }).id;
    assert.equal(await (await t.request(`/api/v1/mail/${id}/raw`, { token })).text(), raw);
  });

  it('files a message whose Message-ID has a NUL as one without a Message-ID', async () => {
    const a = await answer(await append('Mine', 'From: a@b.test\r\nSubject: id\r\nMessage-ID: <a\u0000b@c.test>\r\n\r\nx\r\n'));
    assert.equal(a.status, 201, JSON.stringify(a));
  });

  it('imports such a message (admin), and refuses an import folder with a NUL with 400', async () => {
    const imported = (query: string, raw: string) =>
      t.request(`/api/v1/admin/users/u@a.test/messages${query}`, { method: 'POST', token: TEST_ADMIN_TOKEN, headers: { 'content-type': 'message/rfc822' }, body: raw });
    assert.equal((await imported('', 'From: a@b.test\r\nSubject: h\u0000i\r\nMessage-ID: <a\u0000b@c.test>\r\n\r\nx\r\n')).status, 201);
    const a = await answer(await imported('?folder=a%00b', 'From: a@b.test\r\nSubject: x\r\n\r\nx\r\n'));
    assert.equal(a.status, 400, JSON.stringify(a));
    assert.match(a.detail!, /contains a control character/);
  });
});
