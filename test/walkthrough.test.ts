// The README's two-node walkthrough, run word for word (issue 17): the block after
// `<!-- walkthrough -->` goes to bash as it stands, in the clone, and must end with bob's inbox
// holding alice's message. Needs bash, curl and jq, as the README says.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, childEnv } from './harness/cli-process.ts';

/** The shell block that follows the marker in README.md. */
export function walkthroughBlock(readme: string): string {
  const m = /<!-- walkthrough -->\n```sh\n([\s\S]*?)\n```/.exec(readme);
  assert.ok(m, 'README.md has a walkthrough block');
  return m[1];
}

describe('README two-node walkthrough', { timeout: 240_000 }, () => {
  it('runs as written: two nodes, users added while they run, a message pulled', async () => {
    const script = walkthroughBlock(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    const home = mkdtempSync(join(tmpdir(), 'pm-walk-'));
    // the client's saved login must not come from the machine running the test
    const env = childEnv({ XDG_CONFIG_HOME: home, HOME: home, NO_COLOR: '1' });
    const child = spawn('bash', ['-e', '-c', script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      // 'exit', not 'close': a node left running by a failed step would hold the pipes open
      child.once('exit', resolve);
    });
    // a failed step leaves its background nodes: end the whole process group
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
    rmSync(home, { recursive: true, force: true });
    assert.equal(code, 0, `stdout:\n${stdout}\nstderr:\n${stderr}`);
    assert.match(stdout, /allow\s+alice@a\.test/i, stdout);
    assert.match(stdout, /bob@b\.test\s+fetched/, stdout);
    assert.match(stdout, /alice@a\.test\s+Hello/, stdout);
  });
});
