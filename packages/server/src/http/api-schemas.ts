// The answers of the user and admin API as zod schemas, for the OpenAPI document (http/openapi.ts).
// The wire types in @pullmail/client/wire stay the source the routes and the SDK are typed with;
// api-schemas.test.ts checks that each schema here infers exactly that type, and openapi.test.ts
// that real answers validate against the JSON Schema generated from it.
import {
  CHANGE_KINDS,
  DELIVERY_STATES,
  FIRST_CONTACT_MODES,
  FOLDER_ROLES,
  RULE_ACTIONS,
  VIAS,
} from '@pullmail/client/wire';
import { z } from 'zod';

/** Response schemas by component name; `z.toJSONSchema` turns each nested one into a `$ref`. */
export const responseSchemas = z.registry<{ id: string; description?: string }>();
const named = <T extends z.ZodType>(id: string, schema: T, description?: string): T => {
  responseSchemas.add(schema, description ? { id, description } : { id });
  return schema;
};

const timestamp = z.iso.datetime({ offset: true });
const via = z.enum(VIAS);

export const errorBody = named('Error', z.object({ error: z.string(), detail: z.string() }), 'Every refusal: a code from the closed list in docs/operator.md and a short detail.');
export const health = named('Health', z.object({ status: z.literal('ok') }));
export const openApi = named('OpenApiDocument', z.looseObject({ openapi: z.string(), info: z.looseObject({ title: z.string() }), paths: z.record(z.string(), z.unknown()) }));
export const me = named('Me', z.object({ address: z.string() }));

// --- admin ---
export const createdUser = named('CreatedUser', z.object({ address: z.string(), token: z.string() }));
export const adminUser = named('AdminUser', z.object({ address: z.string(), has_password: z.boolean(), admin: z.boolean(), disabled: z.boolean(), tokens: z.number().int(), created_at: timestamp }));
export const userList = named('UserList', z.object({ users: z.array(adminUser) }));
export const deletedUser = named('DeletedUser', z.object({ address: z.string(), deleted: z.literal(true) }));
export const passwordSet = named('PasswordSet', z.object({ address: z.string(), password_set: z.literal(true) }));
export const accountState = named('AccountState', z.object({ address: z.string(), disabled: z.boolean() }));
export const alias = named('Alias', z.object({ id: z.string(), address: z.string(), target: z.string() }));
export const aliasList = named('AliasList', z.object({ aliases: z.array(z.object({ id: z.string(), address: z.string(), target: z.string(), created_at: timestamp })) }));
export const deletedAlias = named('DeletedAlias', z.object({ id: z.string(), address: z.string(), target: z.string(), deleted: z.literal(true) }));
export const newToken = named('NewToken', z.object({ address: z.string(), token: z.string(), revoked: z.number().int() }));

// --- sending ---
export const deliverySummary = named('DeliverySummary', z.object({
  rcpt: z.string(),
  state: z.enum(DELIVERY_STATES),
  reason: z.string().optional(),
  challenge_url: z.string().optional(),
  fetched_at: timestamp.optional(),
}));
export const sendResponse = named('SendResponse', z.object({ id: z.string(), version: z.number().int(), deliveries: z.array(deliverySummary) }));
export const messageStatus = named('MessageStatus', z.object({
  id: z.string(),
  subject: z.string(),
  version: z.number().int(),
  created_at: timestamp,
  deliveries: z.array(deliverySummary),
}));
export const sentList = named('SentList', z.object({
  messages: z.array(z.object({ id: z.string(), subject: z.string(), version: z.number().int(), created_at: timestamp, recipients: z.array(z.string()) })),
  cursor: z.string().optional(),
}));
export const retractResponse = named('RetractResponse', z.object({
  results: z.array(z.object({ rcpt: z.string(), result: z.enum(['retracted', 'already_fetched']) })),
}));

// --- inbox ---
export const inboxEntry = named('InboxEntry', z.object({ id: z.string(), from: z.string(), subject: z.string(), received_at: timestamp, size: z.number().int(), via }));
export const inboxList = named('InboxList', z.object({ messages: z.array(inboxEntry), total: z.number().int(), cursor: z.string().optional() }));
const parsedParts = {
  headers: z.array(z.object({ name: z.string(), value: z.string() })),
  text: z.string().optional(),
  html: z.string().optional(),
  attachments: z.array(z.object({ filename: z.string(), contentType: z.string(), size: z.number().int() })),
};
export const parsedMessage = named('ParsedMessage', inboxEntry.extend(parsedParts));

// --- screening ---
export const heldRequest = named('HeldRequest', z.object({ id: z.string(), from: z.string(), subject: z.string(), size: z.number().int(), received_at: timestamp, via }));
export const requestList = named('RequestList', z.object({ requests: z.array(heldRequest) }));
export const requestAction = named('RequestAction', z.object({ id: z.string(), state: z.enum(['accepted', 'rejected', 'blocked']) }));
export const rule = named('Rule', z.object({ id: z.string(), action: z.enum(RULE_ACTIONS), pattern: z.string() }));
export const ruleList = named('RuleList', z.object({ rules: z.array(rule) }));
export const settings = named('Settings', z.object({ first_contact: z.enum(FIRST_CONTACT_MODES), challenge_question: z.string().nullable().optional() }));
export const consentTokenCreated = named('ConsentTokenCreated', z.object({
  id: z.string(),
  token: z.string(),
  sender: z.string().optional(),
  max_uses: z.number().int().optional(),
  expires_at: timestamp.optional(),
}));
export const consentTokenInfo = named('ConsentTokenInfo', z.object({
  id: z.string(),
  sender: z.string(),
  max_uses: z.number().int(),
  uses: z.number().int(),
  expires_at: timestamp,
  created_at: timestamp,
  revoked: z.boolean(),
}));
export const consentTokenList = named('ConsentTokenList', z.object({ tokens: z.array(consentTokenInfo) }));

// --- folders and mail (docs/mailbox.md) ---
const folderFields = {
  name: z.string(),
  role: z.enum(FOLDER_ROLES).nullable(),
  special_use: z.string().nullable(),
  uidvalidity: z.number().int(),
  uidnext: z.number().int(),
  highestmodseq: z.number().int(),
  subscribed: z.boolean(),
};
export const folderState = named('FolderState', z.object(folderFields), 'A folder without its counts, as a rename or subscription change answers.');
export const folder = named('Folder', z.object({ ...folderFields, total: z.number().int(), unseen: z.number().int() }));
export const folderList = named('FolderList', z.object({ folders: z.array(folder) }));
export const mailEntry = named('MailEntry', z.object({
  id: z.string(),
  folder: z.string(),
  uid: z.number().int(),
  modseq: z.number().int(),
  flags: z.array(z.string()),
  from: z.string(),
  subject: z.string(),
  received_at: timestamp,
  size: z.number().int(),
}));
export const mailList = named('MailList', z.object({ messages: z.array(mailEntry), total: z.number().int(), cursor: z.string().optional() }));
export const parsedMail = named('ParsedMail', mailEntry.extend({ via, ...parsedParts }));
export const mailChanges = named('MailChanges', z.object({
  changes: z.array(z.object({ id: z.number().int(), folder: z.string(), uid: z.number().int(), modseq: z.number().int(), kind: z.enum(CHANGE_KINDS) })),
  cursor: z.number().int(),
}));

// export and import (docs/operator.md "Export and import")
export const importedMessage = named('ImportedMessage', z.object({
  id: z.string(),
  result: z.enum(['added', 'duplicate']),
  ignored_flags: z.array(z.string()),
}), 'One message of an import: added, or already in that folder.');
