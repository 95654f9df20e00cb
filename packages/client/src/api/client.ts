// The typed SDK: one method per call of the user and admin HTTP API (OPERATOR.md "HTTP API").
// Every method resolves with the server's JSON as is, or throws PullmailApiError (the node said no)
// or PullmailNetworkError (the node could not be reached).
import type {
  ConsentTokenCreated,
  ConsentTokenList,
  ConsentTokenRequest,
  CreateUserRequest,
  CreateUserResponse,
  Folder,
  FolderList,
  FolderState,
  HealthStatus,
  InboxEntry,
  InboxList,
  MailChanges,
  MailEntry,
  MailList,
  MailUpdate,
  Me,
  MessageStatus,
  PageQuery,
  ParsedMessage,
  RequestActionResponse,
  RequestList,
  RetractResponse,
  Rule,
  RuleList,
  RuleRequest,
  SendRequest,
  SendResponse,
  SentEntry,
  SentList,
  Settings,
  SettingsUpdate,
} from '../wire/index.ts';
import { createTransport, type CallOptions, type FetchLike, type Transport } from './transport.ts';

export interface PullmailClientOptions {
  /** The node, e.g. `https://mail.example.org` (the API lives under `/api/v1`). */
  baseUrl: string;
  /** The user's API token (from `pullmail-server user add` or the admin API). */
  token?: string;
  /** Bearer token for `/api/v1/admin/*`; only `createUser` uses it. */
  adminToken?: string;
  /** A fetch implementation; default Node's global fetch. undici's `fetch` works too. */
  fetch?: FetchLike;
  /** An undici Dispatcher (e.g. an Agent with extra CAs), passed to fetch as `dispatcher`. */
  dispatcher?: unknown;
  /** Time allowed per request, ms; default 30 000. */
  timeoutMs?: number;
  userAgent?: string;
}

type Raw = Uint8Array | string;

const RFC822 = 'message/rfc822';
const id = (v: string) => encodeURIComponent(v);
const page = (q: PageQuery = {}) => ({ limit: q.limit, cursor: q.cursor });

/** Every entry of a paginated list, newest first, fetching pages of `limit` as it goes. */
async function* pages<T>(fetchPage: (q: PageQuery) => Promise<{ messages: T[]; cursor?: string }>, query?: PageQuery): AsyncGenerator<T> {
  let cursor = query?.cursor;
  do {
    const p = await fetchPage({ limit: query?.limit, cursor });
    yield* p.messages;
    cursor = p.cursor;
  } while (cursor);
}

export class PullmailClient {
  readonly baseUrl: string;
  readonly #transport: Transport;
  readonly #token?: string;
  readonly #adminToken?: string;

  /** Throws TypeError when `baseUrl` is not an http(s) URL. */
  constructor(opts: PullmailClientOptions) {
    this.#transport = createTransport(opts);
    this.baseUrl = this.#transport.baseUrl;
    this.#token = opts.token;
    this.#adminToken = opts.adminToken;
  }

  #user(method: string, path: string, opts: CallOptions = {}) {
    return this.#transport.call(method, `/api/v1${path}`, { token: this.#token, ...opts });
  }

  #userJson<T>(method: string, path: string, opts: CallOptions = {}): Promise<T> {
    return this.#transport.json<T>(method, `/api/v1${path}`, { token: this.#token, ...opts });
  }

  /** `GET /healthz`: resolves when the node and its database answer (503 otherwise). */
  async health(): Promise<HealthStatus> {
    return this.#transport.json('GET', '/healthz');
  }

  // --- sending -----------------------------------------------------------------------------------

  /** Sends a message composed by the node from JSON; every recipient starts `queued`. */
  async send(message: SendRequest): Promise<SendResponse> {
    return this.#userJson('POST', '/messages', { json: message });
  }

  /** Sends RFC 5322 bytes as they are; `From` must be the user's own address, recipients come from To/Cc/Bcc. */
  async sendRaw(raw: Raw): Promise<SendResponse> {
    return this.#userJson('POST', '/messages', { body: raw, contentType: RFC822 });
  }

  /**
   * `sendRaw` with the message as a stream of bytes, uploaded chunked as it is produced, so a large
   * message is never held in memory (the node stores it as it arrives). An error thrown by the stream
   * aborts the upload and rejects with it.
   */
  async sendRawStream(raw: AsyncIterable<Uint8Array>): Promise<SendResponse> {
    return this.#userJson('POST', '/messages', { body: raw, contentType: RFC822 });
  }

  /** Per-recipient delivery state of a sent message, with `challenge_url` where a human must answer. */
  async status(messageId: string): Promise<MessageStatus> {
    return this.#userJson('GET', `/messages/${id(messageId)}`);
  }

  /** One page of sent messages, newest first; pass the returned `cursor` for the next page. */
  async sent(query?: PageQuery): Promise<SentList> {
    return this.#userJson('GET', '/sent', { query: page(query) });
  }

  /** Every sent message, newest first, fetching pages of `limit` as it goes. */
  iterateSent(query?: PageQuery): AsyncGenerator<SentEntry> {
    return pages((q) => this.sent(q), query);
  }

  /** Withdraws a message from every recipient who has not fetched it yet. */
  async retract(messageId: string): Promise<RetractResponse> {
    return this.#userJson('POST', `/messages/${id(messageId)}/retract`);
  }

  /**
   * Replaces the message with a new version for recipients who have not fetched it. The recipients
   * must stay the same; `PullmailApiError` 409 `conflict` when every recipient has fetched already.
   */
  async edit(messageId: string, message: SendRequest): Promise<SendResponse> {
    return this.#userJson('PUT', `/messages/${id(messageId)}`, { json: message });
  }

  /** `edit` with RFC 5322 bytes. */
  async editRaw(messageId: string, raw: Raw): Promise<SendResponse> {
    return this.#userJson('PUT', `/messages/${id(messageId)}`, { body: raw, contentType: RFC822 });
  }

  /** `editRaw` with the message as a stream (see `sendRawStream`). */
  async editRawStream(messageId: string, raw: AsyncIterable<Uint8Array>): Promise<SendResponse> {
    return this.#userJson('PUT', `/messages/${id(messageId)}`, { body: raw, contentType: RFC822 });
  }

  /** Who the token belongs to: `{address}`, the only From a raw message may carry. */
  async me(): Promise<Me> {
    return this.#userJson('GET', '/me');
  }

  // --- inbox -------------------------------------------------------------------------------------

  /** One page of the inbox, newest first, with the total count. */
  async inbox(query?: PageQuery): Promise<InboxList> {
    return this.#userJson('GET', '/inbox', { query: page(query) });
  }

  /** Every inbox entry, newest first. */
  iterateInbox(query?: PageQuery): AsyncGenerator<InboxEntry> {
    return pages((q) => this.inbox(q), query);
  }

  /** A received message parsed: headers, text, html and the attachment list. */
  async read(messageId: string): Promise<ParsedMessage> {
    return this.#userJson('GET', `/inbox/${id(messageId)}`);
  }

  /** The exact bytes of a received message. */
  async readRaw(messageId: string): Promise<Uint8Array> {
    return new Uint8Array(await (await this.#user('GET', `/inbox/${id(messageId)}/raw`)).arrayBuffer());
  }

  async deleteMessage(messageId: string): Promise<void> {
    await this.#user('DELETE', `/inbox/${id(messageId)}`);
  }

  // --- folders and flags (docs/mailbox.md) --------------------------------------------------------

  /** Every folder with its counts and IMAP counters, INBOX first. */
  async folders(): Promise<FolderList> {
    return this.#userJson('GET', '/folders');
  }

  async createFolder(name: string): Promise<Folder> {
    return this.#userJson('POST', '/folders', { json: { name } });
  }

  /** Renames a folder the user made (its subfolders move with it). */
  async renameFolder(name: string, newName: string): Promise<FolderState> {
    return this.#userJson('PATCH', `/folders/${id(name)}`, { json: { name: newName } });
  }

  /** Deletes a folder the user made, with the messages in it. */
  async deleteFolder(name: string): Promise<void> {
    await this.#user('DELETE', `/folders/${id(name)}`);
  }

  /** One page of a folder, newest first. */
  async folderMessages(folder: string, query?: PageQuery): Promise<MailList> {
    return this.#userJson('GET', `/folders/${id(folder)}/messages`, { query: page(query) });
  }

  /** Files RFC 5322 bytes in a folder (a draft, an archived message); a copy already there is returned as is. */
  /** @throws TypeError for a flag with a comma: `?flags=` is a comma list, and no keyword has one. */
  async appendMessage(folder: string, raw: Raw, flags: string[] = []): Promise<MailEntry> {
    const comma = flags.find((f) => f.includes(','));
    if (comma !== undefined) throw new TypeError(`${JSON.stringify(comma)} is not a flag: keywords have no comma`);
    return this.#userJson('POST', `/folders/${id(folder)}/messages`, { body: raw, contentType: RFC822, query: { flags: flags.join(',') || undefined } });
  }

  /** A filed message, parsed; marks it \Seen unless `peek`. */
  async readMail(entryId: string, opts: { peek?: boolean } = {}): Promise<ParsedMessage & MailEntry> {
    return this.#userJson('GET', `/mail/${id(entryId)}`, { query: { peek: opts.peek ? '1' : undefined } });
  }

  /** Changes flags and/or moves a filed message; resolves with it as it is now (a move gives it a new id and uid). */
  async updateMail(entryId: string, update: MailUpdate): Promise<MailEntry> {
    return this.#userJson('PATCH', `/mail/${id(entryId)}`, { json: update });
  }

  async deleteMail(entryId: string): Promise<void> {
    await this.#user('DELETE', `/mail/${id(entryId)}`);
  }

  /** What changed in the mailbox after journal position `since`; pass the returned `cursor` next time. */
  async changes(since = 0): Promise<MailChanges> {
    return this.#userJson('GET', '/changes', { query: { since: String(since) } });
  }

  // --- first-contact requests, rules, settings ---------------------------------------------------

  /** Held first-contact requests: who wants to reach the user, nothing fetched yet. */
  async requests(): Promise<RequestList> {
    return this.#userJson('GET', '/requests');
  }

  /** Fetches the held message now and allows its sender from then on. */
  async accept(requestId: string): Promise<RequestActionResponse> {
    return this.#userJson('POST', `/requests/${id(requestId)}/accept`);
  }

  /** Drops the request; the sender's status shows `rejected`. */
  async reject(requestId: string): Promise<RequestActionResponse> {
    return this.#userJson('POST', `/requests/${id(requestId)}/reject`);
  }

  /** Drops the request and adds a block rule for its sender. */
  async block(requestId: string): Promise<RequestActionResponse> {
    return this.#userJson('POST', `/requests/${id(requestId)}/block`);
  }

  async rules(): Promise<RuleList> {
    return this.#userJson('GET', '/rules');
  }

  /** Adds (or replaces) the rule for a pattern: an address `a@x.test` or a domain `@x.test`. */
  async addRule(rule: RuleRequest): Promise<Rule> {
    return this.#userJson('POST', '/rules', { json: rule });
  }

  async removeRule(ruleId: string): Promise<void> {
    await this.#user('DELETE', `/rules/${id(ruleId)}`);
  }

  async settings(): Promise<Settings> {
    return this.#userJson('GET', '/settings');
  }

  /** Changes only the fields given; a `challenge_question` needs its `challenge_answer`, `null` removes it. */
  async updateSettings(update: SettingsUpdate): Promise<Settings> {
    return this.#userJson('PUT', '/settings', { json: update });
  }

  // --- consent tokens ----------------------------------------------------------------------------

  /** Issues a token that lets `sender` reach the user `max_uses` times; the token is shown only here. */
  async createConsentToken(request: ConsentTokenRequest): Promise<ConsentTokenCreated> {
    return this.#userJson('POST', '/consent-tokens', { json: request });
  }

  async consentTokens(): Promise<ConsentTokenList> {
    return this.#userJson('GET', '/consent-tokens');
  }

  async revokeConsentToken(tokenId: string): Promise<void> {
    await this.#user('DELETE', `/consent-tokens/${id(tokenId)}`);
  }

  // --- admin -------------------------------------------------------------------------------------

  /** Creates a mailbox (needs `adminToken`); resolves with its API token, shown only here. */
  async createUser(request: CreateUserRequest): Promise<CreateUserResponse> {
    return this.#transport.json('POST', '/api/v1/admin/users', { token: this.#adminToken, json: request });
  }
}
