// The typed SDK over the user and admin HTTP API.
export { PullmailClient, type PullmailClientOptions } from './client.ts';
export { PullmailApiError, PullmailNetworkError, type ApiErrorCode, type NetworkErrorCode } from './errors.ts';
export { normalizeBaseUrl, type FetchInit, type FetchLike, type FetchResponseLike } from './transport.ts';
