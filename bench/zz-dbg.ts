import { connect } from 'node:net';
import { freePort } from '../test/harness/node.ts';
import { benchDatabase, startNodeProcess } from './lib/common.ts';
const database = await benchDatabase();
const smtpPort = await freePort();
const node = await startNodeProcess({ domain: 'b.test', databaseUrl: database.url, env: { PULLMAIL_SMTP_PORT: String(smtpPort), ...(process.env.XENV ? JSON.parse(process.env.XENV) : {}) } });
const bob = await node.addUser('bob@b.test');
await node.api('/api/v1/rules', { method: 'POST', token: bob, json: { action: 'allow', pattern: 'alice@legacy.test' } });
async function one() {
  const t0 = performance.now();
  const s = connect(smtpPort, '127.0.0.1');
  const steps = ['EHLO x.test\r\n', 'MAIL FROM:<alice@legacy.test>\r\n', 'RCPT TO:<bob@b.test>\r\n', 'DATA\r\n', 'From: <alice@legacy.test>\r\nSubject: x\r\n\r\nhello\r\n.\r\n', 'QUIT\r\n'];
  const times: string[] = [];
  let last = t0;
  await new Promise<void>((resolve) => {
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString();
      while (/^\d{3} .*\r\n/m.test(buf)) {
        const m = /^(?:\d{3}-.*\r\n)*\d{3} .*\r\n/.exec(buf)!;
        buf = buf.slice(m[0].length);
        const now = performance.now();
        times.push(`${m[0].slice(0, 3)}+${(now - last).toFixed(0)}`);
        last = now;
        const next = steps.shift();
        if (next) s.write(next);
      }
    });
    s.on('close', () => resolve());
  });
  return times.join(' ');
}
await one();
const t = performance.now();
const out = await Promise.all(Array.from({ length: 10 }, async () => { const r = []; for (let i = 0; i < 3; i++) r.push(await one()); return r; }));
console.log('30 msgs in', (performance.now() - t).toFixed(0), 'ms');
for (const r of out.slice(0, 4)) console.log(r.join(' || '));
await node.stop(); await database.drop();
