import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createGuessLimits } from './guess-limits.ts';

describe('guess limits of the human challenge page', () => {
  it('locks a page after its wrong answers, whichever address sent them', async () => {
    const g = createGuessLimits({ page: { attempts: 3, seconds: 600 }, client: { attempts: 10, seconds: 600 } });
    for (const [i, ip] of ['192.0.2.1', '192.0.2.2', '192.0.2.3'].entries()) {
      assert.equal(await g.lockedFor('pageA', ip), 0, `attempt ${i + 1} is open`);
      await g.countWrong('pageA', ip);
    }
    const wait = await g.lockedFor('pageA', '192.0.2.9');
    assert.ok(wait > 0 && wait <= 600, `pageA is locked for a fresh address too (${wait} s)`);
    assert.equal(await g.lockedFor('pageB', '192.0.2.9'), 0, 'another page is not');
  });

  it('locks an address after its wrong answers, whichever pages it tried', async () => {
    const g = createGuessLimits({ page: { attempts: 5, seconds: 60 }, client: { attempts: 2, seconds: 60 } });
    await g.countWrong('p1', '198.51.100.7');
    await g.countWrong('p2', '198.51.100.7');
    assert.ok((await g.lockedFor('p3', '198.51.100.7')) > 0, 'a third page is locked for that address');
    assert.equal(await g.lockedFor('p3', '198.51.100.8'), 0, 'but open for another address');
  });
});
