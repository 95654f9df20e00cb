// A send over the size limit is told the limit in the sender's terms (issue 17): the largest attachment
// that fits and the variable, whether the composed message or the request body itself is too large.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startNode, type TestNode } from './harness/node.ts';

describe('size limit in the sender\'s terms', () => {
  let node: TestNode;
  let token: string;
  before(async () => {
    node = await startNode({ domain: 'a.test', env: { PULLMAIL_MAX_MESSAGE_BYTES: '1048576' } });
    token = await node.addUser('alice@a.test');
  });
  after(() => node.stop());

  const send = (bytes: number) =>
    node.api('/api/v1/messages', {
      method: 'POST',
      token,
      json: { to: ['bob@a.test'], subject: 'big', text: 'see attached', attachments: [{ filename: 'a.bin', contentType: 'application/octet-stream', content: Buffer.alloc(bytes, 7).toString('base64') }] },
    });

  for (const [what, bytes] of [['an attachment that grows past the limit as base64', 900_000], ['a request body past the limit itself', 1_200_000]] as const) {
    it(what, async () => {
      const res = await send(bytes);
      assert.equal(res.status, 413);
      const body = (await res.json()) as { error: string; detail: string };
      assert.equal(body.error, 'too_large');
      assert.match(body.detail, /the limit is 1048576 bytes, 1 MB \(PULLMAIL_MAX_MESSAGE_BYTES\), so the largest attachment that fits is about 0\.72 MB/);
    });
  }

  it('takes the largest attachment it names', async () => {
    const res = await send(Math.floor(0.72 * 1_048_576));
    assert.equal(res.status, 201, await res.text());
  });
});
