// For route tests of the web UI through app.request(): a tiny browser that keeps cookies, reads the
// CSRF field of the page it got, and posts forms as a same-origin browser would. Exported for tests.
import type { TestApp } from '../http/test-app.ts';

export interface WebClient {
  cookies: Map<string, string>;
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  /** Posts `fields` (plus the CSRF token of the last page read, unless given) as a form. */
  post(path: string, fields: Record<string, string>, opts?: { headers?: Record<string, string>; multipart?: FormData }): Promise<Response>;
  /** The csrf field of the last HTML page read. */
  csrf: string | undefined;
  /** Signs in through the form, then reads a page so `csrf` is the new session's token. */
  signIn(address: string, password: string): Promise<Response>;
}

export function webClient(t: TestApp): WebClient {
  const cookies = new Map<string, string>();
  const origin = new URL(t.ctx.publicUrl).origin;
  const client: WebClient = {
    cookies,
    csrf: undefined,
    async get(path, headers = {}) {
      const res = await send(path, { method: 'GET', headers: { 'sec-fetch-site': 'same-origin', ...headers } });
      const type = res.headers.get('content-type') ?? '';
      if (type.startsWith('text/html')) {
        const text = await res.clone().text();
        const m = /name="csrf" value="([^"]+)"/.exec(text) ?? /name="csrf-token" content="([^"]+)"/.exec(text);
        if (m) client.csrf = m[1];
      }
      return res;
    },
    async post(path, fields, opts = {}) {
      let body: BodyInit;
      const headers: Record<string, string> = { origin, 'sec-fetch-site': 'same-origin', ...opts.headers };
      if (opts.multipart) {
        body = opts.multipart;
        if (!opts.multipart.has('csrf') && client.csrf) opts.multipart.set('csrf', client.csrf);
      } else {
        body = new URLSearchParams({ ...(client.csrf ? { csrf: client.csrf } : {}), ...fields });
        headers['content-type'] = 'application/x-www-form-urlencoded';
      }
      return send(path, { method: 'POST', headers, body });
    },
    async signIn(address, password) {
      await client.get('/mail/sign-in');
      const res = await client.post('/mail/sign-in', { address, password });
      // the sign-in form's token is not the session's: read one from a page of the session
      if (res.status === 303) await client.get('/mail/settings');
      return res;
    },
  };
  async function send(path: string, init: { method: string; headers: Record<string, string>; body?: BodyInit }): Promise<Response> {
    const cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await t.app.request(`${t.ctx.publicUrl}${path}`, { ...init, headers: { ...init.headers, ...(cookie ? { cookie } : {}) } });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (!value || /max-age=0/i.test(line)) cookies.delete(name);
      else cookies.set(name, value);
    }
    return res;
  }
  return client;
}
