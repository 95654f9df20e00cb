// Node metadata and JWKS (protocol §1), served unauthenticated.
import { PROTOCOL_VERSION, type NodeMetadata } from '@pullmail/client/wire';
import { Hono } from 'hono';
import type { AppContext } from '../../context.ts';

export function wellKnownRoutes(ctx: AppContext): Hono {
  const app = new Hono();
  app.get('/.well-known/pullmail', (c) => {
    const base = ctx.publicUrl;
    const meta: NodeMetadata = {
      version: PROTOCOL_VERSION,
      domains: [...ctx.config.domains],
      notify: `${base}/pm/v1/notify`,
      jwks_uri: `${base}/.well-known/pullmail/jwks.json`,
      max_message_bytes: ctx.config.maxMessageBytes,
    };
    c.header('Cache-Control', 'public, max-age=300');
    return c.json(meta);
  });
  app.get('/.well-known/pullmail/jwks.json', async (c) => {
    // other processes of this node (one database) may have made or rotated keys: publish theirs too,
    // read again at most once a second however often the JWKS is asked for
    await ctx.keys.refresh(1000);
    c.header('Cache-Control', 'public, max-age=300');
    return c.json(ctx.keys.jwks());
  });
  return app;
}
