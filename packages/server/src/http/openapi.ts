// The OpenAPI 3.1 document of the user and admin API (docs/api.md), served at GET /api/v1/openapi.json.
// One entry per route in OPERATIONS names its request schema (the very zod schema the route validates
// with) and its answer (a schema of api-schemas.ts); zod's own z.toJSONSchema turns both into JSON
// Schema 2020-12, the dialect of OpenAPI 3.1. openapi.test.ts walks the hono app so that a route
// without an entry, or an entry without a route, fails the build.
import type { Hono } from 'hono';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { sendSchema } from '../mail/compose.ts';
import * as api from './api-schemas.ts';
import { createAlias, createUser, newToken, setPassword } from './routes/admin.ts';
import { createSchema as consentTokenBody } from './routes/consent-tokens.ts';
import { copySchema, createSchema as folderBody, folderPatchSchema, mailPatchSchema } from './routes/folders.ts';
import { ruleSchema, settingsSchema } from './routes/policy.ts';

/** An answer that is not JSON: bytes of this media type. */
interface Bytes {
  mediaType: string;
  description: string;
}
const RFC822: Bytes = { mediaType: 'message/rfc822', description: 'The message\'s exact bytes.' };
const TEXT: Bytes = { mediaType: 'text/plain', description: 'Text.' };
const MBOX: Bytes = { mediaType: 'application/mbox', description: 'Every folder but Requests as mboxrd; each message as stored, with X-Pullmail-Folder and X-Pullmail-Flags on top (docs/operator.md "Export and import").' };

interface QueryParam {
  schema: z.ZodType;
  description: string;
}

export interface Operation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** As the hono route is registered: `:id`, `:name{.+}` (a name that may hold `/`). */
  path: string;
  summary: string;
  /** Who may call: a user's API token, the admin token (PULLMAIL_ADMIN_TOKEN), or anyone. */
  auth: 'user' | 'admin' | 'none';
  /** The JSON body, the schema the route passes to readJson. */
  body?: z.ZodType;
  /** The body may be left out (the route then takes the defaults). */
  bodyOptional?: true;
  /** The body may (or, with 'only', must) be a message's exact bytes, `message/rfc822`. */
  rfc822?: true | 'only';
  query?: Record<string, QueryParam>;
  /** Success status; 200 by default. */
  status?: number;
  /** What success carries: a schema registered in api-schemas.ts (JSON), bytes of a media type, or nothing. */
  answer: z.ZodType | Bytes | null;
  /** Another success status with the same answer (an APPEND of a message already filed: 200). */
  alsoStatus?: number;
}

const page: Record<string, QueryParam> = {
  limit: { schema: z.int().min(1).max(200).default(50), description: 'Page size.' },
  cursor: { schema: z.string(), description: 'The `cursor` of the previous page.' },
};
const peek = { peek: { schema: z.enum(['1']), description: '`1` reads without setting \\Seen.' } };

/** Every route of the user and admin API, and the few public ones beside it. Add one line per new route. */
export const OPERATIONS: Operation[] = [
  { method: 'get', path: '/api/v1/openapi.json', auth: 'none', summary: 'This document', answer: api.openApi },
  { method: 'get', path: '/healthz', auth: 'none', summary: 'Liveness: 200 when the database answers', answer: api.health },
  { method: 'get', path: '/metrics', auth: 'none', summary: 'Prometheus metrics (behind PULLMAIL_METRICS_TOKEN when set)', answer: TEXT },
  { method: 'get', path: '/api/v1/me', auth: 'user', summary: 'The mailbox the token opens', answer: api.me },
  // sending (docs/operator.md)
  { method: 'post', path: '/api/v1/messages', auth: 'user', summary: 'Send a message', body: sendSchema, rfc822: true, status: 201, answer: api.sendResponse },
  { method: 'get', path: '/api/v1/messages/:id', auth: 'user', summary: 'Delivery status of a sent message', answer: api.messageStatus },
  { method: 'put', path: '/api/v1/messages/:id', auth: 'user', summary: 'Edit a sent message before it is fetched (409 once every recipient fetched)', body: sendSchema, rfc822: true, answer: api.sendResponse },
  { method: 'post', path: '/api/v1/messages/:id/retract', auth: 'user', summary: 'Retract a sent message where not yet fetched', answer: api.retractResponse },
  { method: 'get', path: '/api/v1/sent', auth: 'user', summary: 'Sent messages, newest first', query: page, answer: api.sentList },
  // inbox
  { method: 'get', path: '/api/v1/inbox', auth: 'user', summary: 'Inbox, newest first', query: page, answer: api.inboxList },
  { method: 'get', path: '/api/v1/inbox/:id', auth: 'user', summary: 'An inbox message, parsed', answer: api.parsedMessage },
  { method: 'get', path: '/api/v1/inbox/:id/raw', auth: 'user', summary: 'An inbox message, exact bytes', answer: RFC822 },
  { method: 'delete', path: '/api/v1/inbox/:id', auth: 'user', summary: 'Delete an inbox message', status: 204, answer: null },
  // first-contact requests, rules, settings, consent tokens (protocol §6)
  { method: 'get', path: '/api/v1/requests', auth: 'user', summary: 'Held first-contact requests', answer: api.requestList },
  { method: 'post', path: '/api/v1/requests/:id/accept', auth: 'user', summary: 'Fetch the held message now and allow its sender', answer: api.requestAction },
  { method: 'post', path: '/api/v1/requests/:id/reject', auth: 'user', summary: 'Drop the request', answer: api.requestAction },
  { method: 'post', path: '/api/v1/requests/:id/block', auth: 'user', summary: 'Drop the request and block its sender', answer: api.requestAction },
  { method: 'get', path: '/api/v1/rules', auth: 'user', summary: 'Allow and block rules', answer: api.ruleList },
  { method: 'post', path: '/api/v1/rules', auth: 'user', summary: 'Add (or replace) the rule for an address or @domain', body: ruleSchema, status: 201, answer: api.rule },
  { method: 'delete', path: '/api/v1/rules/:id', auth: 'user', summary: 'Remove a rule', status: 204, answer: null },
  { method: 'get', path: '/api/v1/settings', auth: 'user', summary: 'First-contact settings', answer: api.settings },
  { method: 'put', path: '/api/v1/settings', auth: 'user', summary: 'Change first-contact settings (only the fields given)', body: settingsSchema, answer: api.settings },
  { method: 'post', path: '/api/v1/consent-tokens', auth: 'user', summary: 'Issue a consent token (shown only here)', body: consentTokenBody, status: 201, answer: api.consentTokenCreated },
  { method: 'get', path: '/api/v1/consent-tokens', auth: 'user', summary: 'Consent tokens issued (never the tokens themselves)', answer: api.consentTokenList },
  { method: 'delete', path: '/api/v1/consent-tokens/:id', auth: 'user', summary: 'Revoke a consent token', status: 204, answer: null },
  // folders, flags and the change journal (docs/mailbox.md)
  { method: 'get', path: '/api/v1/folders', auth: 'user', summary: 'Every folder with its counts, INBOX first', answer: api.folderList },
  { method: 'post', path: '/api/v1/folders', auth: 'user', summary: 'Create a folder', body: folderBody, status: 201, answer: api.folder },
  { method: 'patch', path: '/api/v1/folders/:name{.+}', auth: 'user', summary: 'Rename a folder or change its subscription', body: folderPatchSchema, answer: api.folderState },
  { method: 'delete', path: '/api/v1/folders/:name{.+}', auth: 'user', summary: 'Delete a folder the user made, with its messages', status: 204, answer: null },
  { method: 'get', path: '/api/v1/folders/:name{.+}/messages', auth: 'user', summary: 'A folder\'s messages, newest first', query: page, answer: api.mailList },
  { method: 'post', path: '/api/v1/folders/:name{.+}/messages', auth: 'user', summary: 'File a message\'s exact bytes in a folder (APPEND); a copy already there answers 200', rfc822: 'only', query: { flags: { schema: z.string(), description: 'Comma list of flags, e.g. `\\Seen,$Label1`.' } }, status: 201, alsoStatus: 200, answer: api.mailEntry },
  { method: 'get', path: '/api/v1/mail/:id', auth: 'user', summary: 'A filed message, parsed (sets \\Seen unless peek)', query: peek, answer: api.parsedMail },
  { method: 'get', path: '/api/v1/mail/:id/raw', auth: 'user', summary: 'A filed message, exact bytes (sets \\Seen unless peek)', query: peek, answer: RFC822 },
  { method: 'patch', path: '/api/v1/mail/:id', auth: 'user', summary: 'Change flags and/or move to another folder', body: mailPatchSchema, answer: api.mailEntry },
  { method: 'post', path: '/api/v1/mail/:id/copy', auth: 'user', summary: 'Copy to another folder', body: copySchema, status: 201, answer: api.mailEntry },
  { method: 'delete', path: '/api/v1/mail/:id', auth: 'user', summary: 'Delete a filed message', status: 204, answer: null },
  { method: 'get', path: '/api/v1/export', auth: 'user', summary: 'All of the user\'s mail as one mboxrd file, streamed', answer: MBOX },
  { method: 'get', path: '/api/v1/changes', auth: 'user', summary: 'The change journal after position `since`', query: { since: { schema: z.int().min(0).default(0), description: 'The `cursor` of the previous answer.' } }, answer: api.mailChanges },
  // admin
  { method: 'post', path: '/api/v1/admin/users', auth: 'admin', summary: 'Create a mailbox; its API token is shown only here', body: createUser, status: 201, answer: api.createdUser },
  { method: 'get', path: '/api/v1/admin/users', auth: 'admin', summary: 'Every mailbox', answer: api.userList },
  { method: 'delete', path: '/api/v1/admin/users/:address', auth: 'admin', summary: 'Delete a mailbox and its mail', answer: api.deletedUser },
  { method: 'put', path: '/api/v1/admin/users/:address/password', auth: 'admin', summary: 'Set a mailbox\'s password', body: setPassword, answer: api.passwordSet },
  {
    method: 'post', path: '/api/v1/admin/users/:address/messages', auth: 'admin', summary: 'Import one message into a mailbox (pullmail-server import); a copy already in that folder answers 200', rfc822: 'only',
    query: {
      folder: { schema: z.string(), description: 'The folder (made when missing); INBOX when left out.' },
      flags: { schema: z.string(), description: 'Comma list of flags, e.g. `\\Seen,$Label1`; ones IMAP cannot carry are left off.' },
      date: { schema: z.iso.datetime({ offset: true }), description: 'The internal date, ISO 8601.' },
    },
    status: 201, alsoStatus: 200, answer: api.importedMessage,
  },
  { method: 'post', path: '/api/v1/admin/users/:address/disable', auth: 'admin', summary: 'Disable an account: no door lets it in (its web sessions end); its mail still arrives', answer: api.accountState },
  { method: 'post', path: '/api/v1/admin/users/:address/enable', auth: 'admin', summary: 'Enable a disabled account again', answer: api.accountState },
  { method: 'post', path: '/api/v1/admin/aliases', auth: 'admin', summary: 'An alias (or, `@domain`, the domain\'s catch-all) delivering to an existing mailbox', body: createAlias, status: 201, answer: api.alias },
  { method: 'get', path: '/api/v1/admin/aliases', auth: 'admin', summary: 'Every alias and catch-all', answer: api.aliasList },
  { method: 'delete', path: '/api/v1/admin/aliases/:id', auth: 'admin', summary: 'Remove an alias', answer: api.deletedAlias },
  { method: 'post', path: '/api/v1/admin/users/:address/token', auth: 'admin', summary: 'A new API token (the others are revoked unless keep_others)', body: newToken, bodyOptional: true, status: 201, answer: api.newToken },
];

/** Whether `path` is excused by `u`: that path, or under it (`/mail/` covers `/mail` too). */
export function excused(u: { prefix: string; exact?: true }, path: string): boolean {
  if (u.exact) return path === u.prefix;
  return path.startsWith(u.prefix) || path === u.prefix.replace(/\/$/, '');
}

/**
 * Routes outside the document, each with the reason. Everything under /api/v1 must be in OPERATIONS;
 * openapi.test.ts fails on any other route not matched here.
 */
export const UNDOCUMENTED: { prefix: string; why: string; exact?: true }[] = [
  { prefix: '/', exact: true, why: 'redirects a browser to the webmail, /mail/' },
  { prefix: '/assets/', why: 'the web UI\'s static files (pinned htmx, the style sheet), named by version or digest' },
  { prefix: '/pm/v1/', why: 'pm1, the protocol between nodes: signed JWS bodies, specified in docs/protocol.md' },
  { prefix: '/.well-known/', why: 'node metadata and keys for peers (docs/protocol.md) and mail-client autoconfig' },
  { prefix: '/mail/', why: 'the webmail (HTML forms, session cookie) and Thunderbird autoconfig XML at /mail/config-v1.1.xml' },
  { prefix: '/admin/', why: 'the admin web UI (HTML forms, session cookie); its API is /api/v1/admin, documented' },
  { prefix: '/challenge/', why: 'the human challenge page, HTML for senders' },
];

/** `/api/v1/folders/:name{.+}` → `/api/v1/folders/{name}`, with the parameters in order (`{.+}`: may hold `/`). */
export function openApiPath(honoPath: string): { path: string; params: { name: string; slashes: boolean }[] } {
  const params: { name: string; slashes: boolean }[] = [];
  const path = honoPath.replace(/:(\w+)(\{[^}]*\})?/g, (_, name: string, pattern?: string) => (params.push({ name, slashes: pattern === '{.+}' }), `{${name}}`));
  return { path, params };
}

const uri = (id: string) => `#/components/schemas/${id}`;
// components carry no $schema/$id of their own: the document's dialect is JSON Schema 2020-12
function bare(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _s, $id: _i, ...rest } = schema;
  return rest;
}
const inputSchema = (s: z.ZodType) => bare(z.toJSONSchema(s, { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>);

function answerRef(op: Operation, schema: z.ZodType): Record<string, unknown> {
  const meta = api.responseSchemas.get(schema);
  if (!meta) throw new Error(`${op.method} ${op.path}: its answer must be a schema registered in api-schemas.ts`);
  return { $ref: uri(meta.id) };
}

function operationObject(op: Operation, params: { name: string; slashes: boolean }[]): Record<string, unknown> {
  const parameters = [
    ...params.map(({ name, slashes }) => ({ name, in: 'path', required: true, schema: { type: 'string' }, ...(slashes ? { description: 'May hold `/` (a subfolder).' } : {}) })),
    ...Object.entries(op.query ?? {}).map(([name, q]) => ({ name, in: 'query', required: false, description: q.description, schema: inputSchema(q.schema) })),
  ];
  const content: Record<string, unknown> = {};
  if (op.body) content['application/json'] = { schema: inputSchema(op.body) };
  if (op.rfc822) content['message/rfc822'] = { schema: { type: 'string', contentMediaType: 'message/rfc822' } };
  const success = (): Record<string, unknown> => {
    if (op.answer === null) return { description: 'Done; no body.' };
    if ('mediaType' in op.answer) return { description: op.answer.description, content: { [op.answer.mediaType]: { schema: { type: 'string' } } } };
    return { description: 'OK', content: { 'application/json': { schema: answerRef(op, op.answer) } } };
  };
  const responses: Record<string, unknown> = { [String(op.status ?? 200)]: success() };
  if (op.alsoStatus) responses[String(op.alsoStatus)] = success();
  responses.default = { description: 'Refused: `{error, detail}`', content: { 'application/json': { schema: { $ref: uri('Error') } } } };
  return {
    operationId: `${op.method}${openApiPath(op.path).path.replace(/\{(\w+)\}/g, 'By_$1').replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
    summary: op.summary,
    ...(op.auth === 'none' ? { security: [] } : { security: [{ [op.auth === 'admin' ? 'adminToken' : 'userToken']: [] }] }),
    ...(parameters.length ? { parameters } : {}),
    ...(Object.keys(content).length ? { requestBody: { required: !op.bodyOptional, content } } : {}),
    responses,
  };
}

/** The whole document; `serverUrl` is the node's public URL. Throws on an entry whose answer has no component name. */
export function openApiDocument(serverUrl: string, operations: Operation[] = OPERATIONS): Record<string, unknown> {
  const { schemas } = z.toJSONSchema(api.responseSchemas, { target: 'draft-2020-12', io: 'output', uri }) as { schemas: Record<string, Record<string, unknown>> };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const { path, params } = openApiPath(op.path);
    (paths[path] ??= {})[op.method] = operationObject(op, params);
  }
  return {
    openapi: '3.1.1',
    info: {
      title: 'pullmail user and admin API',
      version: '1',
      description: 'JSON in and out. Errors are `{"error": code, "detail": text}`. See docs/operator.md and docs/mailbox.md.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: serverUrl }],
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(schemas).map(([id, s]) => [id, bare(s)])),
      securitySchemes: {
        userToken: { type: 'http', scheme: 'bearer', description: 'A mailbox\'s API token (`pullmail-server user add`).' },
        adminToken: { type: 'http', scheme: 'bearer', description: 'PULLMAIL_ADMIN_TOKEN.' },
      },
    },
  };
}

/** Mounts GET /api/v1/openapi.json: no token needed, the document names no secret. */
export function openApiRoutes(app: Hono, ctx: AppContext): void {
  let doc: string | undefined;
  app.get('/api/v1/openapi.json', (c) => {
    doc ??= JSON.stringify(openApiDocument(ctx.publicUrl));
    return c.body(doc, 200, { 'content-type': 'application/json' });
  });
}
