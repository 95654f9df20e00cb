// `pullmail send` with a large attachment, as a user runs it: the real CLI in a child process writes
// the MIME message itself and streams it to a real node, so its peak memory (VmHWM, read by the child
// itself as it exits) stays well under the size of the file; the recipients get the exact bytes, and a
// Bcc recipient gets the message without a Bcc field for the others to see.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { simpleParser } from 'mailparser';
import { fetch as undiciFetch } from 'undici';
import { PullmailClient, type FetchLike } from '../packages/client/src/index.ts';
import { startNode, type TestNode } from './harness/node.ts';
import { waitFor } from './harness/wait.ts';

const CLI = fileURLToPath(new URL('../packages/client/src/cli/main.ts', import.meta.url));
const MB = 1024 * 1024;
const FILE_BYTES = 30 * MB;
/** Far under the 288 MB the CLI used when it held the attachment (the CLI alone takes ~95 MB on Node 22). */
const MAX_RSS = 120 * MB;
/** What the big file may add to the peak of the same send with a tiny file: holding it once would add 30 MB. */
const MAX_GROWTH = FILE_BYTES / 2;

const dir = mkdtempSync(join(tmpdir(), 'pm-cli-stream-'));
// loaded into the CLI with --import: on exit it writes the process's peak resident size (VmHWM, kB)
const PRELOAD = join(dir, 'peak-rss.mjs');
writeFileSync(
  PRELOAD,
  `import { readFileSync, writeFileSync } from 'node:fs';
process.on('exit', () => writeFileSync(process.env.PM_PEAK_FILE, /VmHWM:\\s*(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]));
`,
);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  peakBytes: number;
}

function runCli(args: string[], env: Record<string, string>): Promise<Run> {
  const peakFile = join(dir, `peak-${randomBytes(4).toString('hex')}`);
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PULLMAIL_')));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', PRELOAD, CLI, ...args], { cwd: dir, env: { ...clean, ...env, PM_PEAK_FILE: peakFile }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr, peakBytes: Number(readFileSync(peakFile, 'utf8')) * 1024 }));
  });
}

describe('pullmail send streams a large attachment', () => {
  let node: TestNode;
  const tokens: Record<string, string> = {};
  const sdk = (address: string) => new PullmailClient({ baseUrl: node.url, token: tokens[address], fetch: undiciFetch as unknown as FetchLike, dispatcher: node.server.ctx.fetcher.dispatcher });
  const rawFor = async (address: string, subject: string): Promise<Buffer> => {
    const entry = await waitFor(`"${subject}" in ${address}'s inbox`, async () => (await sdk(address).inbox()).messages.find((m) => m.subject === subject), 60_000);
    return Buffer.from(await sdk(address).readRaw(entry.id));
  };

  before(async () => {
    node = await startNode({ domain: 'a.test', env: { PULLMAIL_MAX_MESSAGE_BYTES: String(64 * MB) } });
    for (const address of ['alice@a.test', 'bob@a.test', 'carol@a.test', 'dan@a.test']) tokens[address] = await node.addUser(address);
    // bob and carol take first messages without asking, so they arrive in the inbox; dan holds them
    for (const address of ['bob@a.test', 'carol@a.test']) await sdk(address).updateSettings({ first_contact: 'fetch' });
  });
  after(async () => {
    await node?.stop();
  });

  it('a 30 MB file: the CLI stays under 120 MB, To and Bcc get the exact bytes, nobody sees the Bcc', async (t) => {
    const data = randomBytes(FILE_BYTES);
    writeFileSync(join(dir, 'big.bin'), data);
    writeFileSync(join(dir, 'small.bin'), data.subarray(0, 1000));
    const env = { PULLMAIL_URL: node.url, PULLMAIL_TOKEN: tokens['alice@a.test'] };
    const small = await runCli(['send', '--to', 'bob@a.test', '-s', 'Small file', '-m', 'see attached', '-a', 'small.bin', '--json'], env);
    assert.equal(small.code, 0, small.stderr);
    const r = await runCli(['send', '--to', 'bob@a.test', '--bcc', 'carol@a.test', '-s', 'Big file', '-m', 'see attached', '-a', 'big.bin', '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    const sent = JSON.parse(r.stdout) as { deliveries: { rcpt: string; state: string }[] };
    assert.deepEqual(sent.deliveries.map((d) => d.rcpt).sort(), ['bob@a.test', 'carol@a.test']);
    const peak = `the CLI peaked at ${(r.peakBytes / MB).toFixed(1)} MB for a ${FILE_BYTES / MB} MB file, ${(small.peakBytes / MB).toFixed(1)} MB for 1000 bytes`;
    t.diagnostic(peak);
    assert.ok(r.peakBytes < MAX_RSS, peak);
    assert.ok(r.peakBytes - small.peakBytes < MAX_GROWTH, peak);

    for (const address of ['bob@a.test', 'carol@a.test']) {
      const raw = await rawFor(address, 'Big file');
      assert.doesNotMatch(raw.subarray(0, raw.indexOf('\r\n\r\n')).toString('latin1'), /^bcc:/im, `${address} sees a Bcc field`);
      const parsed = await simpleParser(raw);
      assert.equal(parsed.from?.text, 'alice@a.test');
      assert.equal(parsed.text?.trim(), 'see attached');
      assert.equal(parsed.attachments.length, 1);
      const [att] = parsed.attachments;
      assert.equal(att.filename, 'big.bin');
      assert.equal(att.contentType, 'application/octet-stream');
      assert.ok(att.content.equals(data), `${address} got different attachment bytes`);
    }
  });

  it('edit with an attachment streams the new version, which the recipient then gets', async () => {
    const env = { PULLMAIL_URL: node.url, PULLMAIL_TOKEN: tokens['alice@a.test'] };
    writeFileSync(join(dir, 'v1.txt'), 'first version\n');
    const v2 = randomBytes(200_000);
    writeFileSync(join(dir, 'v2.bin'), v2);
    const sent = await runCli(['send', '--to', 'dan@a.test', '-s', 'Versions', '-m', 'one', '-a', 'v1.txt', '--json'], env);
    assert.equal(sent.code, 0, sent.stderr);
    const { id } = JSON.parse(sent.stdout) as { id: string };
    await waitFor('the request for dan', async () => (await sdk('dan@a.test').requests()).requests.find((r) => r.subject === 'Versions'));
    const edited = await runCli(['edit', id, '--to', 'dan@a.test', '-m', 'two', '-a', 'v2.bin', '--json'], env);
    assert.equal(edited.code, 0, edited.stderr);
    assert.equal((JSON.parse(edited.stdout) as { version: number }).version, 2);
    const request = await waitFor('the request for dan', async () => (await sdk('dan@a.test').requests()).requests.find((r) => r.subject === 'Versions'));
    await sdk('dan@a.test').accept(request.id);
    const parsed = await simpleParser(await rawFor('dan@a.test', 'Versions'));
    assert.equal(parsed.text?.trim(), 'two');
    assert.equal(parsed.attachments.length, 1);
    assert.equal(parsed.attachments[0].filename, 'v2.bin');
    assert.ok(parsed.attachments[0].content.equals(v2));
  });
});
