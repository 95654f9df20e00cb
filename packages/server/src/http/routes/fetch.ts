// GET /pm/v1/messages/:id (protocol §4): capability + proof, then the atomic fetch of protocol §5.
import { AUTH_SCHEME_CAP, HEADER_PROOF, HEADER_VERSION } from '@pullmail/client/wire';
import type { Hono } from 'hono';
import type { AppContext } from '../../context.ts';
import { serveFetch } from '../../delivery/serve-fetch.ts';
import { PullmailError } from '../../errors.ts';
import { storedBody } from '../body-stream.ts';

export function fetchRoutes(app: Hono, ctx: AppContext): void {
  app.get('/pm/v1/messages/:id', async (c) => {
    const id = c.req.param('id');
    const auth = c.req.header('authorization') ?? '';
    const cap = auth.startsWith(`${AUTH_SCHEME_CAP} `) ? auth.slice(AUTH_SCHEME_CAP.length + 1).trim() : '';
    const proof = c.req.header(HEADER_PROOF) ?? '';
    if (!cap) throw new PullmailError('bad_request', `missing Authorization: ${AUTH_SCHEME_CAP} <token>`, { httpStatus: 401 });
    if (!proof) throw new PullmailError('bad_request', `missing ${HEADER_PROOF} header`, { httpStatus: 401 });
    const served = await serveFetch(ctx, { id, cap, proof, url: `${ctx.publicUrl}/pm/v1/messages/${id}` });
    return c.body(storedBody(ctx, served.body), 200, {
      'content-type': 'message/rfc822',
      'content-length': String(served.body.size),
      [HEADER_VERSION]: String(served.version),
      'content-digest': `sha-256=:${served.digest}:`,
    });
  });
}
