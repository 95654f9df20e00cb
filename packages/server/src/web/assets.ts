// Static files of the web UI, served from memory at versioned paths with a year-long cache: htmx from
// its npm package (pinned in package.json, never a CDN) and our one stylesheet. A new htmx version or a
// changed stylesheet gets a new path, so a cached old copy is never used.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Hono } from 'hono';

const require = createRequire(import.meta.url);

export interface Asset {
  path: string;
  type: string;
  body: Buffer;
}

function load(): { htmx: Asset; css: Asset } {
  const htmxVersion = (require('htmx.org/package.json') as { version: string }).version;
  const htmxBody = readFileSync(require.resolve('htmx.org/dist/htmx.min.js'));
  const cssBody = readFileSync(new URL('./assets/web.css', import.meta.url));
  const cssHash = createHash('sha256').update(cssBody).digest('hex').slice(0, 12);
  return {
    htmx: { path: `/assets/htmx-${htmxVersion}/htmx.min.js`, type: 'text/javascript; charset=utf-8', body: htmxBody },
    css: { path: `/assets/web-${cssHash}.css`, type: 'text/css; charset=utf-8', body: cssBody },
  };
}

/** The asset paths templates link to; read once per process. */
export const assets = load();

export function assetRoutes(app: Hono): void {
  for (const a of Object.values(assets)) {
    app.get(a.path, (c) => c.body(new Uint8Array(a.body), 200, {
      'content-type': a.type,
      'cache-control': 'public, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
    }));
  }
}
