// The README's examples run as written (issue 17): every command line calls the bins through npx
// (only the walkthrough, which puts them on PATH first, may not), and the first `user add` example works
// on the default configuration, domain localhost.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, childEnv, runProcess } from './harness/cli-process.ts';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/(<!-- walkthrough -->\n)?```sh\n([\s\S]*?)\n```/g)].filter((m) => !m[1]).map((m) => m[2]);

describe('README examples', () => {
  it('call pullmail and pullmail-server through npx', () => {
    const bare = blocks.flatMap((b) => b.split('\n')).filter((line) => /(^|[|(]\s*)pullmail(-server)?\s/.test(line.replace(/#.*$/, '')));
    assert.deepEqual(bare, []);
  });

  it('the first user add example works on the default configuration', { timeout: 120_000 }, async () => {
    const line = blocks.flatMap((b) => b.split('\n')).find((l) => l.startsWith('npx pullmail-server user add'));
    assert.ok(line);
    const dataDir = mkdtempSync(join(tmpdir(), 'pm-readme-'));
    try {
      const command = line.replace(/\s+#.*$/, '');
      const r = await runProcess('bash', ['-c', command], childEnv({ PULLMAIL_DATA_DIR: dataDir, PATH: process.env.PATH ?? '' }));
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^\{"address":"alice@localhost","token":"pm_[A-Za-z0-9_-]+"\}\n$/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
