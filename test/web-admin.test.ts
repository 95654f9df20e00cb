// The admin UI in a real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core,
// never a downloaded browser): an admin signs in with the admin token, creates a user and an alias,
// and that user then signs in to the webmail. Writes docs/screenshots/admin-users.png on the way.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium } from './harness/browser.ts';
import { ROOT } from './harness/cli-process.ts';
import { ADMIN_TOKEN, startNode, type TestNode } from './harness/node.ts';

describe('admin UI in Chromium', { timeout: 120_000 }, () => {
  let node: TestNode;
  let browser: Browser;

  before(async () => {
    // a missing browser fails the run, it never skips
    browser = await launchChromium();
    node = await startNode({ domain: 'a.test' });
  });
  after(async () => {
    await browser?.close();
    await node?.stop();
  });

  it('admin signs in with the token, creates a user, and the user signs in to the webmail', async () => {
    const admin = await browser.newContext({ viewport: { width: 1000, height: 620 } });
    const page = await admin.newPage();
    const errors: string[] = [];
    // CSP refusals and script errors show up on the console; failed loads as responses (the favicon we do not serve aside)
    page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text()); });
    page.on('response', (r) => { if (r.status() >= 400 && new URL(r.url()).pathname !== '/favicon.ico') errors.push(`${r.status()} ${r.url()}`); });

    await page.goto(`${node.url}/admin/`);
    assert.equal(new URL(page.url()).pathname, '/admin/sign-in');
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in with the token' }).click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();

    await page.getByLabel('Address', { exact: true }).fill('carol@a.test');
    await page.getByLabel('Password', { exact: true }).fill('carol sign-in pw');
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('status').filter({ hasText: 'Created carol@a.test.' }).waitFor();
    await page.getByRole('cell', { name: 'carol@a.test', exact: true }).waitFor();

    await page.getByRole('link', { name: 'Aliases' }).click();
    await page.getByLabel('Alias address or @domain').fill('help@a.test');
    await page.getByLabel('Target mailbox').fill('carol@a.test');
    await page.getByRole('button', { name: 'Add alias' }).click();
    await page.getByRole('button', { name: 'Delete the alias help@a.test' }).waitFor();

    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await page.screenshot({ path: join(ROOT, 'docs/screenshots/admin-users.png') });
    assert.deepEqual(errors, [], 'no console errors, no failed loads');

    // the new user, in a browser of their own
    const mail = await (await browser.newContext()).newPage();
    await mail.goto(`${node.url}/mail/`);
    await mail.getByLabel('Address').fill('carol@a.test');
    await mail.getByLabel('Password').fill('carol sign-in pw');
    await mail.getByRole('button', { name: 'Sign in' }).click();
    await mail.getByRole('link', { name: 'Inbox' }).waitFor();
    assert.equal(new URL(mail.url()).pathname, '/mail/');

    // the admin's cookie is not a webmail session, and the user's is not an admin one
    await page.goto(`${node.url}/mail/`);
    assert.equal(new URL(page.url()).pathname, '/mail/sign-in');
    await mail.goto(`${node.url}/admin/users`);
    assert.equal(new URL(mail.url()).pathname, '/admin/sign-in');

    // disabled, the user is signed out of the webmail and cannot sign in again
    await page.goto(`${node.url}/admin/users`);
    await page.getByRole('button', { name: 'Disable carol@a.test' }).click();
    await page.getByRole('button', { name: 'Enable carol@a.test' }).waitFor();
    await mail.goto(`${node.url}/mail/`);
    assert.equal(new URL(mail.url()).pathname, '/mail/sign-in');
    await mail.getByLabel('Address').fill('carol@a.test');
    await mail.getByLabel('Password').fill('carol sign-in pw');
    await mail.getByRole('button', { name: 'Sign in' }).click();
    await mail.getByRole('alert').filter({ hasText: 'do not match' }).waitFor();
  });
});
