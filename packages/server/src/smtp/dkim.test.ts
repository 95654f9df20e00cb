// DKIM signatures made by signMessage verify with mailauth, and over-sign From, Subject, To, Date and
// Message-ID (RFC 6376 §5.4.2, §8.15): the same field put on top of the signed message fails them.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { dkimVerify } from 'mailauth';
import { createFakeResolver } from '../peers/fake-resolver.ts';
import { dkimRecord, signMessage, type DkimKey } from './dkim.ts';

const MESSAGE = [
  'From: Alice <alice@a.test>', 'To: bob@legacy.test', 'Subject: the  quarterly\r\n  numbers', 'Date: Tue, 01 Dec 2026 10:00:00 +0000',
  'Message-ID: <m1@a.test>', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '',
  'Hello Bob,  \t', '', 'the numbers are fine.', '', '',
].join('\r\n');

describe('signMessage', () => {
  const keys: Record<string, DkimKey> = {};
  let resolver: ReturnType<typeof createFakeResolver>;
  before(() => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    keys.rsa = { domain: 'a.test', selector: 'rsa1', privateKey: rsa };
    keys.ed25519 = { domain: 'a.test', selector: 'ed1', privateKey: ed };
    const txt: Record<string, string[][]> = {};
    for (const k of Object.values(keys)) txt[dkimRecord(k).name] = [[dkimRecord(k).value]];
    resolver = createFakeResolver({ txt });
  });

  async function verdict(raw: Buffer): Promise<string> {
    const { results } = await dkimVerify(raw, { resolver: async (name: string, type: string) => resolver.resolve(name, type) as never });
    assert.equal(results.length, 1);
    return results[0].status.result;
  }

  for (const type of ['rsa', 'ed25519']) {
    it(`a ${type} signature verifies with mailauth, and lists the over-signed fields once more than they occur`, async () => {
      const signed = await signMessage(Buffer.from(MESSAGE, 'latin1'), keys[type], new Date('2026-12-01T10:00:00Z'));
      assert.equal(await verdict(signed), 'pass');
      const h = /\bh=([^;]+);/.exec(signed.toString('latin1').replace(/\r\n\t/g, ''))![1].toLowerCase().split(':');
      for (const f of ['from', 'subject', 'to', 'date', 'message-id']) assert.equal(h.filter((x) => x === f).length, 2, f);
      assert.equal(h.filter((x) => x === 'mime-version').length, 1, 'not over-signed: mime-version');
    });
  }

  const prepended: [field: string, why: string][] = [
    ['Subject: Urgent: wire the money', 'a second Subject a reader would see first'],
    ['From: ceo@a.test', 'a second From'],
    ['To: everyone@legacy.test', 'a second To'],
    ['Date: Wed, 02 Dec 2026 10:00:00 +0000', 'a second Date'],
    ['Message-ID: <other@a.test>', 'a second Message-ID'],
  ];
  for (const [field, why] of prepended) {
    it(`fails once ${why} is put on top`, async () => {
      const signed = await signMessage(Buffer.from(MESSAGE, 'latin1'), keys.rsa, new Date());
      const [sig, ...rest] = signed.toString('latin1').split(/\r\n(?=[^\t ])/);
      // the forger keeps the signature on top and slips the field in below it
      assert.notEqual(await verdict(Buffer.from([sig, field, ...rest].join('\r\n'), 'latin1')), 'pass');
    });
  }

  it('control: a field nobody signs, put on top, leaves the signature valid', async () => {
    const signed = await signMessage(Buffer.from(MESSAGE, 'latin1'), keys.rsa, new Date());
    assert.equal(await verdict(Buffer.concat([Buffer.from('Received: from relay.example by mx.legacy.test\r\n'), signed])), 'pass');
  });

  it('refuses a message without a From field', async () => {
    await assert.rejects(signMessage(Buffer.from('Subject: x\r\n\r\nhi\r\n'), keys.rsa, new Date()), /no From/);
  });
});
