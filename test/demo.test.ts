// `npm run demo` as a newcomer runs it: two nodes in one process, the whole story, a clean stop. Checks
// every step and its outcome in order, plain text when not on a terminal, and that nothing is left behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function npmRunDemo(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !['FORCE_COLOR', 'NO_COLOR', 'PULLMAIL_DEMO_LOG_LEVEL'].includes(k)));
    const child = spawn('npm', ['run', '--silent', 'demo'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run demo', () => {
  it('is the root package script for scripts/demo.ts', () => {
    assert.equal(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.demo, 'node scripts/demo.ts');
  });

  it('walks through every step, prints what happened, and stops cleanly', async () => {
    const { code, stdout, stderr } = await npmRunDemo();
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.doesNotMatch(stdout, /\x1b\[/, 'no colour codes when stdout is not a terminal');
    assert.doesNotMatch(stdout, /✗/, 'no step failed');

    // each step, in order, with what it must have shown
    const steps: [string, RegExp[]][] = [
      ['Two nodes start on this machine', [/a\.test\s+http:\/\/127\.0\.0\.1:\d+\s+(\S+)\/a\.test \(PGlite\)/, /b\.test\s+http:\/\/127\.0\.0\.1:\d+/]],
      ['Three people get mailboxes', [/alice@a\.test\s+a\.test\s+pm_/, /bob@b\.test\s+b\.test/, /carol@b\.test\s+b\.test/]],
      ['alice writes to bob for the first time', [/: queued/, /✓ bob@b\.test: held: bob has never heard from alice/, /alice@a\.test\s+Hello from alice\s+\d+ B/, /bob's inbox: 0 messages/]],
      ['bob accepts the request', [/: accepted/, /✓ bob@b\.test: fetched: b\.test pulled the message from a\.test/, /│ Hi Bob! Lunch on Friday\?/]],
      ['alice writes again: no request this time', [/✓ bob@b\.test: fetched straight away/, /bob's inbox: 2 messages, 0 requests/]],
      ['alice retracts a message before it is fetched', [/✓ carol@b\.test: held/, /✓ alice retracts it: carol@b\.test retracted/, /✓ carol's request is gone/, /status for carol@b\.test: retracted/]],
      ['carol gives alice a consent token', [/✓ carol creates a token for alice@a\.test: 1 use/, /✓ carol@b\.test: fetched without a request: the token let alice in once/, /alice@a\.test\s+1\/1\s+\d{4}-\d\d-\d\d/, /✓ carol revokes it/]],
      ['The nodes stop', [/✓ both nodes stopped; the temporary data is removed/]],
    ];
    let at = 0;
    for (const [n, [title, facts]] of steps.entries()) {
      const heading = `\n${String(n + 1).padStart(2)}  ${title}\n`;
      const start = stdout.indexOf(heading, at);
      assert.ok(start >= 0, `step ${n + 1} "${title}" is printed after the previous one`);
      const next = stdout.indexOf(`\n${String(n + 2).padStart(2)}  `, start + heading.length);
      const section = stdout.slice(start, next < 0 ? undefined : next);
      for (const fact of facts) assert.match(section, fact, `step ${n + 1} "${title}"`);
      at = start + heading.length;
    }
    assert.match(stdout, /Done in \d+\.\d s\./);

    const dataDir = /a\.test\s+http:\/\/\S+\s+(\S+)\/a\.test \(PGlite\)/.exec(stdout)![1];
    assert.equal(existsSync(dataDir), false, 'the temporary data directory is gone');
  });
});
