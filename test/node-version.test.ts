// Node.js older than 22.19 is refused with one line saying what is needed (issue 17): the check itself,
// and the two commands and `npm test`'s pre-script run as a user runs them, on a Node that reports 20.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MINIMUM_NODE, nodeVersionProblem } from '../packages/client/bin/node-version.js';
import { ROOT, childEnv, runProcess } from './harness/cli-process.ts';

// a preload that makes this Node report an old version, as Node 20 would
const AS_NODE_20 = `data:text/javascript,Object.defineProperty(process.versions,"node",{value:"20.11.1"})`;

describe('nodeVersionProblem', () => {
  for (const [version, ok] of [
    ['22.19.0', true],
    ['v22.23.3', true],
    ['23.0.0', true],
    ['24.1.0', true],
    ['22.18.9', false], // type stripping works, but undici@8 and mailauth need 22.19
    ['20.20.2', false], // no type stripping: ERR_UNKNOWN_FILE_EXTENSION ".ts"
    ['v18.0.0', false],
  ] as const) {
    it(`${version} is ${ok ? 'accepted' : 'refused'}`, () => {
      const problem = nodeVersionProblem(version);
      if (ok) assert.equal(problem, undefined);
      else assert.match(problem ?? '', new RegExp(`needs Node\\.js 22\\.19 or newer, this is ${version.replace(/\./g, '\\.')}: install`));
    });
  }

  it('says the minimum the engines field says', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
    assert.equal(pkg.engines.node, `>=${MINIMUM_NODE}`);
  });
});

describe('on an older Node', () => {
  for (const [what, script] of [
    ['pullmail-server', 'packages/server/bin/pullmail-server.js'],
    ['pullmail', 'packages/client/bin/pullmail.js'],
    ['the npm pre-scripts check', 'packages/client/bin/node-version.js'],
  ]) {
    it(`${what} exits 1 with one line naming the version needed and how to get it`, async () => {
      const r = await runProcess(process.execPath, ['--import', AS_NODE_20, join(ROOT, script), '--help'], childEnv({}));
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      const lines = r.stderr.split('\n').filter(Boolean);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], /^pullmail needs Node\.js 22\.19 or newer, this is 20\.11\.1: install Node 22 from https:\/\/nodejs\.org/);
    });
  }

  it('lets the current Node through to the command', async () => {
    const r = await runProcess(process.execPath, [join(ROOT, 'packages/server/bin/pullmail-server.js'), '--help'], childEnv({}));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^usage: pullmail-server/);
  });
});
