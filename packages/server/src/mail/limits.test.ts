import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatMegabytes, largestAttachmentBytes, tooLargeDetail } from './limits.ts';

describe('largestAttachmentBytes', () => {
  for (const [max, attachment] of [
    [26_214_400, 19_153_683], // the default 25 MB: an attachment of about 18.2 MB fits
    [4096, 0], // nothing but headroom
    [0, 0], // never negative
  ]) {
    it(`${max} → ${attachment}`, () => assert.equal(largestAttachmentBytes(max), attachment));
  }
  it('an attachment of that size, base64 with CRLF every 76 characters, fits', () => {
    const max = 26_214_400;
    const encoded = Math.ceil(largestAttachmentBytes(max) / 3) * 4;
    assert.ok(encoded + Math.ceil(encoded / 76) * 2 + 4096 <= max);
  });
});

describe('formatMegabytes and tooLargeDetail', () => {
  for (const [bytes, text] of [[26_214_400, '25 MB'], [27_368_995, '26.1 MB'], [1_572_864, '1.5 MB']] as const) {
    it(`${bytes} → ${text}`, () => assert.equal(formatMegabytes(bytes), text));
  }
  it('names the limit, its variable and the largest attachment', () => {
    assert.equal(
      tooLargeDetail(27_368_995, 26_214_400),
      'the message is 26.1 MB (27368995 bytes); the limit is 26214400 bytes, 25 MB (PULLMAIL_MAX_MESSAGE_BYTES), so the largest attachment that fits is about 18.2 MB (attachments grow by a third as base64)',
    );
    assert.match(tooLargeDetail(undefined, 26_214_400), /^the message is larger than the limit; /);
  });
});
