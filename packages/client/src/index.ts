// Public entry point of @pullmail/client: the wire shapes shared with the server.
export * from './wire/index.ts';
