// Domains and their DNS records, and the DKIM keys: the same records as `pullmail-server dns show`
// (dns-records.ts), from the node's real keys and settings. A domain's DKIM key is made on first use,
// as dns show makes it.
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppContext } from '../../context.ts';
import { domainRecords, zoneLine, type DnsRecord } from '../../dns-records.ts';
import { dkimKey, dkimRecord } from '../../smtp/dkim.ts';
import { ADMIN, adminPage, type AdminEnv } from './frame.ts';

function value(r: DnsRecord): string {
  switch (r.type) {
    case 'MX': return `${r.priority} ${r.exchange}`;
    case 'TXT': return r.text;
    case 'CNAME': return r.target;
    case 'A': case 'AAAA': return r.address;
    case 'SRV': return `${r.priority} ${r.weight} ${r.port} ${r.target}`;
  }
}

export function domainRoutes(app: Hono<AdminEnv>, ctx: AppContext): void {
  const keys = () => Promise.all(ctx.config.domains.map(async (domain) => ({ domain, key: await dkimKey(ctx.db, domain, new Date(ctx.now())) })));

  app.get('/domains', async (c) => {
    const sections = (await keys()).map(({ domain, key }) => {
      const records = domainRecords({ ...ctx.config, publicUrl: ctx.publicUrl, domain, dkim: dkimRecord(key) });
      return html`<section class="card" aria-labelledby="d-${domain}"><h2 id="d-${domain}">${domain}</h2>
<table class="list"><caption class="visually-hidden">DNS records of ${domain}</caption><thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Value</th></tr></thead><tbody>
${records.map((r) => html`<tr><td>${r.name}</td><td>${r.type}</td><td class="token">${value(r)}</td></tr>`)}</tbody></table>
<details><summary>As zone-file lines</summary><pre class="token">${records.map((r) => `${zoneLine(r)}\n`).join('')}</pre></details></section>`;
    });
    const body = html`<section class="card"><h1>Domains</h1><p class="muted">The mail domains this node serves (<code>PULLMAIL_DOMAINS</code>) and every DNS record each needs. <code>pullmail-server dns show &lt;domain&gt; --check</code> compares them with what DNS answers.</p></section>${sections}`;
    return c.html(adminPage(c, { title: 'Domains', current: `${ADMIN}/domains`, body }));
  });

  app.get('/dkim', async (c) => {
    const rows = (await keys()).map(({ domain, key }) => {
      const record = dkimRecord(key);
      return html`<tr><td>${domain}</td><td>${key.selector}</td><td>${record.name}</td><td class="token">${record.value}</td></tr>`;
    });
    const body = html`<section class="card" aria-labelledby="dkim-h"><h1 id="dkim-h">DKIM keys</h1>
<p class="muted">Mail to legacy (SMTP) domains is signed with its sender domain's key; publish each public key as a TXT record at its name.</p>
<table class="list"><caption class="visually-hidden">DKIM keys by domain</caption><thead><tr><th scope="col">Domain</th><th scope="col">Selector</th><th scope="col">Record name</th><th scope="col">Public key record</th></tr></thead><tbody>${rows}</tbody></table></section>`;
    return c.html(adminPage(c, { title: 'DKIM keys', current: `${ADMIN}/dkim`, body }));
  });
}
