// Public entry point of @pullmail/client: the typed SDK and the wire shapes shared with the server.
export * from './api/index.ts';
export * from './wire/index.ts';
