import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { peekHeaders } from '../mail/header-peek.ts';
import { isRequestSummaryId, requestSummary } from './request-summary.ts';

describe('isRequestSummaryId', () => {
  it('knows the Message-ID of a summary', () => {
    const raw = requestSummary({ id: '0b6f3c1e-8d4a-4a57-9f0e-2c1d5e7a9b11', sender: 'ann@a.test', subject: 'hi', size: 10, receivedAt: new Date(0), via: 'pm1' });
    assert.equal(isRequestSummaryId(peekHeaders(raw).messageId), true);
  });
  const others: (string | null)[] = [null, '<m1@z.test>', '<request-1@pullmail.example>', '<request-@pullmail.invalid>', '<x-request-1@pullmail.invalid>'];
  for (const id of others) it(`not ${id}`, () => assert.equal(isRequestSummaryId(id), false));
});
