// The webmail in a real browser (docs/web.md): headless Chromium against two HTTPS nodes, found by the
// names OPERATOR.md "Web UI" fixes. Sign-in and out, a send between the nodes held as a first contact,
// edited by the sender, accepted by the recipient while the sender watches its state change live,
// a retract, reading and moving, consent tokens, a hostile HTML mail that runs no script and loads no
// remote image until asked (counted on a loopback server), and forms refused without their CSRF token.
// Writes screenshots of the main screens to docs/screenshots/. PGlite, and PostgreSQL with DATABASE_URL.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './harness/browser.ts';
import { startNodes, type TestNode } from './harness/node.ts';
import { waitFor } from './harness/wait.ts';

const SHOTS = new URL('../docs/screenshots/', import.meta.url);

describe('webmail in Chromium', () => {
  let a: TestNode;
  let b: TestNode;
  let browser: Browser;
  let aliceToken: string;
  const contexts: BrowserContext[] = [];
  // the "remote" side of hostile mail: counts what a message could make the browser fetch
  const hits: string[] = [];
  let remote: Server;
  let remoteUrl: string;

  before(async () => {
    [a, b] = await startNodes([{ domain: 'a.test', https: true }, { domain: 'b.test', https: true }]);
    aliceToken = await a.addUser('alice@a.test', 'alice-password');
    await b.addUser('bob@b.test', 'bob-password');
    await b.addUser('carol@b.test', 'carol-password');
    remote = createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url === '/evil.html') {
        // another site posting a form into bob's session
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(`<form id="f" method="post" action="${b.url}/mail/rules"><input name="pattern" value="@evil.example"><input name="action" value="allow"></form><script>document.getElementById('f').submit()</script>`);
        return;
      }
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg==', 'base64'));
    });
    await new Promise<void>((r) => remote.listen(0, '127.0.0.1', r));
    remoteUrl = `http://127.0.0.1:${(remote.address() as AddressInfo).port}`;
    browser = await launchChromium();
    mkdirSync(SHOTS, { recursive: true });
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    remote?.close();
    await a?.stop();
    await b?.stop();
  });

  /** A fresh browser profile (cookies of its own) on a 1000×700 screen; the nodes' test CA is not in it. */
  async function newPage(viewport = { width: 1000, height: 700 }): Promise<Page> {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport });
    contexts.push(context);
    return context.newPage();
  }

  async function signIn(page: Page, node: TestNode, address: string, password: string): Promise<void> {
    await page.goto(`${node.url}/`);
    await page.getByLabel('Address', { exact: true }).fill(address);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
  }

  const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
  const shot = (page: Page, name: string) => page.screenshot({ path: new URL(`${name}.png`, SHOTS).pathname });

  async function compose(page: Page, to: string, subject: string, text: string): Promise<void> {
    await nav(page, 'Compose').click();
    await page.getByLabel('To', { exact: true }).fill(to);
    await page.getByLabel('Subject', { exact: true }).fill(subject);
    await page.getByLabel('Message', { exact: true }).fill(text);
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.getByRole('heading', { name: subject, exact: true }).waitFor();
  }

  /** The delivery state word shown beside a recipient on a sent message page. */
  const stateOf = (page: Page, rcpt: string) => page.locator('ul.recipients li', { hasText: rcpt }).locator('.state');

  it('signs in, refuses a wrong password, signs out', async () => {
    const page = await newPage();
    await page.goto(`${b.url}/`);
    assert.equal(new URL(page.url()).pathname, '/mail/sign-in');
    await shot(page, 'sign-in');
    await page.getByLabel('Address', { exact: true }).fill('bob@b.test');
    await page.getByLabel('Password', { exact: true }).fill('not the password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'do not match' }).waitFor();
    await signIn(page, b, 'bob@b.test', 'bob-password');
    for (const name of ['Inbox', 'Requests', 'Sent', 'Compose', 'Rules', 'Consent tokens', 'Settings', 'Sign out']) assert.equal(await nav(page, name).count(), 1, name);
    await nav(page, 'Sign out').click();
    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    await page.goto(`${b.url}/mail/settings`);
    assert.equal(new URL(page.url()).pathname, '/mail/sign-in');
  });

  it('sends between the nodes: held as a first contact, edited, then accepted while the sender watches it become fetched', async () => {
    const alice = await newPage();
    await signIn(alice, a, 'alice@a.test', 'alice-password');
    await compose(alice, 'bob@b.test', 'Dinner on Friday?', 'Shall we try the new place?');
    // the page updates by itself (htmx polling): queued → held, no reload
    await waitFor('held', async () => (await stateOf(alice, 'bob@b.test').textContent()) === 'held');
    await alice.getByRole('button', { name: 'Edit', exact: true }).click();
    assert.equal(await alice.getByLabel('To', { exact: true }).inputValue(), 'bob@b.test');
    assert.match(await alice.getByLabel('Message', { exact: true }).inputValue(), /new place/);
    await alice.getByLabel('Subject', { exact: true }).fill('Dinner on Saturday?');
    await alice.getByLabel('Message', { exact: true }).fill('Friday does not work for me after all. Saturday?');
    await alice.getByRole('button', { name: 'Send', exact: true }).click();
    await alice.getByRole('heading', { name: 'Dinner on Saturday?', exact: true }).waitFor();
    await waitFor('held again', async () => (await stateOf(alice, 'bob@b.test').textContent()) === 'held');
    assert.equal(await alice.getByRole('button', { name: 'Retract', exact: true }).count(), 1);

    const bob = await newPage();
    await signIn(bob, b, 'bob@b.test', 'bob-password');
    await nav(bob, 'Requests').click();
    const request = bob.getByRole('listitem').filter({ hasText: 'alice@a.test' });
    await waitFor('the edited request', async () => (await request.getByRole('heading', { name: 'Dinner on Saturday?' }).count()) === 1 || (await bob.reload(), false));
    assert.match(await request.textContent() ?? '', /verified: signed by a\.test/);
    for (const name of ['Accept', 'Reject', 'Block']) assert.equal(await request.getByRole('button', { name, exact: true }).count(), 1);
    await shot(bob, 'requests');
    await request.getByRole('button', { name: 'Accept', exact: true }).click();
    await bob.getByRole('status').filter({ hasText: 'Accepted' }).waitFor();

    // alice's page, untouched since, turns to fetched and drops Retract and Edit
    await waitFor('fetched', async () => (await stateOf(alice, 'bob@b.test').textContent()) === 'fetched', 20_000);
    await alice.reload();
    assert.equal(await alice.getByRole('button', { name: 'Retract', exact: true }).count(), 0);
    assert.equal(await alice.getByRole('button', { name: 'Edit', exact: true }).count(), 0);
    await shot(alice, 'sent-message');

    await nav(bob, 'Inbox').click();
    await waitFor('the message in the inbox', async () => (await bob.getByRole('link', { name: 'Dinner on Saturday?' }).count()) === 1 || (await bob.reload(), false));
    await shot(bob, 'inbox');
    await bob.getByRole('link', { name: 'Dinner on Saturday?' }).click();
    await bob.getByText('Saturday?', { exact: false }).first().waitFor();
    assert.match(await bob.locator('pre.text').textContent() ?? '', /Friday does not work for me/);
    await shot(bob, 'message');
    // move it to Archive
    await bob.getByLabel('Move to', { exact: true }).selectOption('Archive');
    await bob.getByRole('button', { name: 'Move', exact: true }).click();
    await bob.getByRole('status').filter({ hasText: 'Moved to Archive' }).waitFor();
    await nav(bob, 'Inbox').click();
    await bob.getByRole('navigation', { name: 'Folders' }).getByRole('link', { name: 'Archive' }).click();
    assert.equal(await bob.getByRole('link', { name: 'Dinner on Saturday?' }).count(), 1);
    await nav(bob, 'Inbox').click();
    assert.equal(await bob.getByRole('link', { name: 'Dinner on Saturday?' }).count(), 0);
  });

  it('retracts a message before it is fetched: the recipient never gets it', async () => {
    const alice = await newPage();
    await signIn(alice, a, 'alice@a.test', 'alice-password');
    await compose(alice, 'carol@b.test', 'Sent too soon', 'This was not meant for you.');
    await waitFor('held', async () => (await stateOf(alice, 'carol@b.test').textContent()) === 'held');
    await alice.getByRole('button', { name: 'Retract', exact: true }).click();
    await alice.getByRole('status').filter({ hasText: 'Retracted' }).waitFor();
    assert.equal(await stateOf(alice, 'carol@b.test').textContent(), 'retracted');
    assert.equal(await alice.getByRole('button', { name: 'Edit', exact: true }).count(), 0);
    const carol = await newPage();
    await signIn(carol, b, 'carol@b.test', 'carol-password');
    await nav(carol, 'Requests').click();
    await waitFor('the request gone', async () => (await carol.getByText('No one is waiting.').count()) === 1 || (await carol.reload(), false));
  });

  it('creates a consent token shown once and revokes it', async () => {
    const bob = await newPage();
    await signIn(bob, b, 'bob@b.test', 'bob-password');
    await nav(bob, 'Consent tokens').click();
    await bob.getByLabel('Sender address or @domain', { exact: true }).fill('@shop.example');
    await bob.getByLabel('Uses', { exact: true }).fill('3');
    await bob.getByRole('button', { name: 'Create token', exact: true }).click();
    const token = (await bob.locator('#new-token').textContent()) ?? '';
    assert.equal(token.split('.').length, 3);
    const row = bob.getByRole('row').filter({ hasText: '@shop.example' });
    assert.match(await row.textContent() ?? '', /3 of 3/);
    await shot(bob, 'consent-tokens');
    await nav(bob, 'Consent tokens').click();
    assert.equal(await bob.getByText(token).count(), 0, 'shown only once');
    await row.getByRole('button', { name: 'Revoke the token for @shop.example' }).click();
    await bob.getByRole('status').filter({ hasText: 'Token revoked' }).waitFor();
    assert.match(await bob.getByRole('row').filter({ hasText: '@shop.example' }).textContent() ?? '', /revoked/);
    await nav(bob, 'Settings').click();
    await bob.getByRole('heading', { name: 'Settings', exact: true }).waitFor();
    await shot(bob, 'settings');
  });

  it('shows hostile HTML without running its script or loading its remote image, until asked', async () => {
    // bob accepted alice above: her mail goes straight to his inbox
    const html = `<p id="hello">Hello Bob</p><img src="${remoteUrl}/pixel.png" alt="">`
      + `<img src="x" onerror="fetch('${remoteUrl}/onerror');document.body.dataset.owned='1'">`
      + `<script>fetch('${remoteUrl}/script');document.body.dataset.owned='1';parent.document.title='owned'</script>`
      + `<div style="background:url(${remoteUrl}/css.png)">styled</div>`;
    const res = await a.api('/api/v1/messages', { method: 'POST', token: aliceToken, json: { to: ['bob@b.test'], subject: 'A totally normal newsletter', html } });
    assert.equal(res.status, 201);
    const bob = await newPage();
    await signIn(bob, b, 'bob@b.test', 'bob-password');
    await waitFor('the newsletter', async () => (await bob.getByRole('link', { name: 'A totally normal newsletter' }).count()) === 1 || (await bob.reload(), false));
    await bob.getByRole('link', { name: 'A totally normal newsletter' }).click();
    const frame = bob.frameLocator('iframe[title="Message content"]');
    await frame.locator('#hello').waitFor();
    // the page's load event comes after its frames' (their images loaded or refused, their scripts run or not)
    await bob.waitForLoadState('load');
    assert.equal(await frame.locator('body').getAttribute('data-owned'), null);
    assert.notEqual(await bob.title(), 'owned');
    assert.equal(hits.length, 0, hits.join(', '));
    await bob.getByText('Remote content in this message is blocked').waitFor();

    // the counter works: asked to, the browser loads the remote image (and still runs no script)
    await bob.getByRole('link', { name: 'Show remote content' }).click();
    await waitFor('the remote image', async () => hits.includes('/pixel.png'));
    await bob.waitForLoadState('load');
    await bob.frameLocator('iframe[title="Message content"]').locator('#hello').waitFor();
    assert.equal(await bob.frameLocator('iframe[title="Message content"]').locator('body').getAttribute('data-owned'), null);
    assert.ok(!hits.includes('/script') && !hits.includes('/onerror'), hits.join(','));
  });

  it('refuses forms without the session CSRF token, from another site or forged on the page', async () => {
    const bob = await newPage();
    await signIn(bob, b, 'bob@b.test', 'bob-password');
    // another site auto-submits a form at bob's node
    await bob.goto(`${remoteUrl}/evil.html`);
    await bob.waitForURL(`${b.url}/mail/rules`);
    // (the Lax cookie does not even go along with a cross-site POST; the Origin check refuses it first)
    await bob.getByRole('heading', { name: 'This form was refused' }).waitFor();
    // a form on our own page with its token replaced
    await bob.goto(`${b.url}/mail/rules`);
    await bob.getByLabel('Sender address or @domain', { exact: true }).fill('@forged.example');
    await bob.locator('form[action="/mail/rules"] input[name=csrf]').evaluate((el: HTMLInputElement) => { el.value = 'forged'; });
    await bob.getByRole('button', { name: 'Add rule', exact: true }).click();
    await bob.getByRole('heading', { name: 'This form was refused' }).waitFor();
    await bob.goto(`${b.url}/mail/rules`);
    const rules = await bob.locator('main').textContent() ?? '';
    assert.ok(!rules.includes('@evil.example') && !rules.includes('@forged.example'), rules);
    await shot(bob, 'rules');
  });

  it('fits a phone screen', async () => {
    const bob = await newPage({ width: 390, height: 760 });
    await signIn(bob, b, 'bob@b.test', 'bob-password');
    await nav(bob, 'Compose').click();
    const overflow = await bob.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 1, `page wider than the screen by ${overflow}px`);
    await shot(bob, 'phone-compose');
  });
});
