// The SDK and the OpenAPI document agree (docs/api.md): each documented answer schema infers exactly
// the wire type the SDK (packages/client) returns, and each SDK request type is a body the route's
// schema accepts. The checks are types: `npm run typecheck` fails on a disagreement; the test run
// only confirms the file loads.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type * as wire from '@pullmail/client/wire';
import type { z } from 'zod';
import type { sendSchema } from '../mail/compose.ts';
import type * as api from './api-schemas.ts';
import type { createAlias, createUser, newToken, setPassword } from './routes/admin.ts';
import type { createSchema as consentTokenBody } from './routes/consent-tokens.ts';
import type { copySchema, createSchema as folderBody, mailPatchSchema } from './routes/folders.ts';
import type { ruleSchema, settingsSchema } from './routes/policy.ts';

/** true only when A and B are assignable both ways. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Answer<S extends z.ZodType> = z.output<S>;
/** What the SDK sends must be what the route takes. */
type Accepts<S extends z.ZodType, Sent> = [Sent] extends [z.input<S>] ? true : false;

const answers = {
  error: true satisfies Same<Answer<typeof api.errorBody>, wire.ErrorBody>,
  health: true satisfies Same<Answer<typeof api.health>, wire.HealthStatus>,
  me: true satisfies Same<Answer<typeof api.me>, wire.Me>,
  createdUser: true satisfies Same<Answer<typeof api.createdUser>, wire.CreateUserResponse>,
  userList: true satisfies Same<Answer<typeof api.userList>, wire.ListUsersResponse>,
  newToken: true satisfies Same<Answer<typeof api.newToken>, wire.NewTokenResponse>,
  sendResponse: true satisfies Same<Answer<typeof api.sendResponse>, wire.SendResponse>,
  messageStatus: true satisfies Same<Answer<typeof api.messageStatus>, wire.MessageStatus>,
  sentList: true satisfies Same<Answer<typeof api.sentList>, wire.SentList>,
  retract: true satisfies Same<Answer<typeof api.retractResponse>, wire.RetractResponse>,
  inboxList: true satisfies Same<Answer<typeof api.inboxList>, wire.InboxList>,
  parsedMessage: true satisfies Same<Answer<typeof api.parsedMessage>, wire.ParsedMessage>,
  requestList: true satisfies Same<Answer<typeof api.requestList>, wire.RequestList>,
  requestAction: true satisfies Same<Answer<typeof api.requestAction>, wire.RequestActionResponse>,
  rule: true satisfies Same<Answer<typeof api.rule>, wire.Rule>,
  ruleList: true satisfies Same<Answer<typeof api.ruleList>, wire.RuleList>,
  settings: true satisfies Same<Answer<typeof api.settings>, wire.Settings>,
  consentCreated: true satisfies Same<Answer<typeof api.consentTokenCreated>, wire.ConsentTokenCreated>,
  consentList: true satisfies Same<Answer<typeof api.consentTokenList>, wire.ConsentTokenList>,
  folder: true satisfies Same<Answer<typeof api.folder>, wire.Folder>,
  folderState: true satisfies Same<Answer<typeof api.folderState>, wire.FolderState>,
  folderList: true satisfies Same<Answer<typeof api.folderList>, wire.FolderList>,
  mailEntry: true satisfies Same<Answer<typeof api.mailEntry>, wire.MailEntry>,
  mailList: true satisfies Same<Answer<typeof api.mailList>, wire.MailList>,
  parsedMail: true satisfies Same<Answer<typeof api.parsedMail>, wire.ParsedMessage & wire.MailEntry>,
  changes: true satisfies Same<Answer<typeof api.mailChanges>, wire.MailChanges>,
  imported: true satisfies Same<Answer<typeof api.importedMessage>, wire.ImportedMessage>,
  alias: true satisfies Same<Answer<typeof api.alias>, wire.AdminAlias>,
  aliasList: true satisfies Same<Answer<typeof api.aliasList>, wire.ListAliasesResponse>,
};

const requests = {
  send: true satisfies Accepts<typeof sendSchema, wire.SendRequest>,
  createUser: true satisfies Accepts<typeof createUser, wire.CreateUserRequest>,
  newToken: true satisfies Accepts<typeof newToken, wire.NewTokenRequest>,
  setPassword: true satisfies Accepts<typeof setPassword, wire.SetPasswordRequest>,
  createAlias: true satisfies Accepts<typeof createAlias, wire.CreateAliasRequest>,
  rule: true satisfies Accepts<typeof ruleSchema, wire.RuleRequest>,
  settings: true satisfies Accepts<typeof settingsSchema, wire.SettingsUpdate>,
  consentToken: true satisfies Accepts<typeof consentTokenBody, wire.ConsentTokenRequest>,
  folder: true satisfies Accepts<typeof folderBody, { name: string }>,
  mailUpdate: true satisfies Accepts<typeof mailPatchSchema, wire.MailUpdate>,
  copy: true satisfies Accepts<typeof copySchema, { folder: string }>,
};

it('the SDK types and the documented schemas agree (checked by the type checker)', () => {
  assert.ok(Object.values({ ...answers, ...requests }).every(Boolean));
});
