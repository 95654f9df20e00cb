export * from './protocol.ts';
export * from './api.ts';
export * from './mailbox.ts';
