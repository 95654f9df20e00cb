import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from './log.ts';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
  return { log: createLogger('info', stream as never), lines };
}

describe('logger', () => {
  it('redacts credentials', () => {
    const { log, lines } = capture();
    log.info({ token: 'pm_secret', headers: { authorization: 'Bearer pm_secret', 'pm-proof': 'eyJproof' }, user: { password: 'hunter22' } }, 'x');
    assert.doesNotMatch(lines.join(''), /pm_secret|eyJproof|hunter22/);
  });

  it('drops SQL parameters from database errors', () => {
    const { log, lines } = capture();
    // a message body among the parameters has line breaks of its own
    const params = 'Subject: SECRET-SUBJECT\r\n\r\nSECRET-BODY-BYTES\n    at not-a-frame';
    const err = Object.assign(new Error(`Failed query: insert into x values ($1)\nparams: ${params}`), { params: [params], query: 'insert into x values ($1)' });
    log.error({ err: Object.assign(new Error('outer'), { cause: err }) }, 'db failed');
    const line = lines.join('');
    assert.doesNotMatch(line, /SECRET-/);
    assert.match(line, /insert into x/);
    assert.match(line, /log\.test\.ts/, 'the stack frames stay');
  });
});
