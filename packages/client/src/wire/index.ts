export * from './protocol.ts';
export * from './api.ts';
