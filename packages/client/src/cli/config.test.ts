// Where the CLI's URL and token come from: flags > environment > config file, and the file itself.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { configPath, maskToken, readConfigFile, resolveConfig, writeConfigFile, type ConfigEnv } from './config.ts';
import { UsageError } from './exit-codes.ts';

const home = mkdtempSync(join(tmpdir(), 'pm-cli-config-'));
const where = (env: Record<string, string> = {}, platform: NodeJS.Platform = 'linux'): ConfigEnv => ({ env, homedir: home, platform });

describe('configPath', () => {
  const cases: [string, ConfigEnv, string][] = [
    ['XDG_CONFIG_HOME wins', where({ XDG_CONFIG_HOME: '/x' }), '/x/pullmail/config.json'],
    ['else ~/.config', where(), join(home, '.config/pullmail/config.json')],
    ['APPDATA on Windows', where({ APPDATA: '/appdata' }, 'win32'), join('/appdata', 'pullmail', 'config.json')],
    // APPDATA means nothing elsewhere
    ['APPDATA ignored on Linux', where({ APPDATA: '/appdata' }), join(home, '.config/pullmail/config.json')],
  ];
  for (const [name, w, path] of cases) it(name, () => assert.equal(configPath(w), path));
});

describe('resolveConfig', () => {
  const xdg = mkdtempSync(join(tmpdir(), 'pm-cli-xdg-'));
  writeConfigFile(join(xdg, 'pullmail', 'config.json'), { url: 'https://file.test', token: 'file-token' });

  it('flags beat the environment, which beats the file', () => {
    const all = resolveConfig({ url: 'https://flag.test', token: 'flag-token' }, where({ XDG_CONFIG_HOME: xdg, PULLMAIL_URL: 'https://env.test', PULLMAIL_TOKEN: 'env-token' }));
    assert.deepEqual([all.url, all.token, all.sources], ['https://flag.test', 'flag-token', { url: 'flag', token: 'flag' }]);
    const env = resolveConfig({}, where({ XDG_CONFIG_HOME: xdg, PULLMAIL_URL: 'https://env.test', PULLMAIL_TOKEN: 'env-token' }));
    assert.deepEqual([env.url, env.token, env.sources], ['https://env.test', 'env-token', { url: 'env', token: 'env' }]);
    const mixed = resolveConfig({ token: 'flag-token' }, where({ XDG_CONFIG_HOME: xdg }));
    assert.deepEqual([mixed.url, mixed.token, mixed.sources], ['https://file.test', 'flag-token', { url: 'file', token: 'flag' }]);
  });

  it('empty environment values count as unset', () => {
    const r = resolveConfig({}, where({ XDG_CONFIG_HOME: xdg, PULLMAIL_URL: '', PULLMAIL_TOKEN: '' }));
    assert.deepEqual(r.sources, { url: 'file', token: 'file' });
  });

  it('a missing file is no error; nothing is set', () => {
    const r = resolveConfig({}, where({ XDG_CONFIG_HOME: join(xdg, 'nowhere') }));
    assert.deepEqual([r.url, r.token, r.sources], [undefined, undefined, {}]);
  });

  it('does not read the file when flags and environment give everything', () => {
    const broken = mkdtempSync(join(tmpdir(), 'pm-cli-broken-'));
    writeConfigFile(join(broken, 'pullmail', 'config.json'), {});
    writeFileSync(join(broken, 'pullmail', 'config.json'), '{not json');
    assert.doesNotThrow(() => resolveConfig({ url: 'https://f.test' }, where({ XDG_CONFIG_HOME: broken, PULLMAIL_TOKEN: 't' })));
    assert.throws(() => resolveConfig({}, where({ XDG_CONFIG_HOME: broken })), UsageError);
  });
});

describe('the config file', () => {
  it('is written readable by the owner only, and read back', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'pm-cli-w-')), 'deep', 'pullmail', 'config.json');
    writeConfigFile(path, { url: 'https://n.test', token: 'secret' });
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(readConfigFile(path), { url: 'https://n.test', token: 'secret' });
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { url: 'https://n.test', token: 'secret' });
  });

  const bad: [string, string, RegExp][] = [
    ['not JSON', '{url:', /is not valid JSON/],
    ['an array', '[]', /must hold a JSON object/],
    ['a number for the token', '{"token":5}', /"token" must be a string/],
  ];
  for (const [name, text, message] of bad) {
    it(`refuses ${name}`, () => {
      const path = join(mkdtempSync(join(tmpdir(), 'pm-cli-bad-')), 'config.json');
      writeFileSync(path, text);
      assert.throws(() => readConfigFile(path), (err: unknown) => err instanceof UsageError && message.test(err.message));
    });
  }
});

describe('maskToken', () => {
  it('shows only the start', () => assert.equal(maskToken('pm_abcdefghijklmnop'), 'pm_abc…op'));
  // a short token would be shown almost whole
  it('hides short tokens entirely', () => assert.equal(maskToken('abc'), '****'));
});
