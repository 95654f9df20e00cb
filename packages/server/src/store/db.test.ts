import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { postgresTarget } from './db.ts';

describe('postgresTarget: a DATABASE_URL as postgres.js takes it', () => {
  it('turns a libpq-style ?host=/dir into the socket directory and leaves every other URL as it is', () => {
    const cases: [string, { url: string; host?: string }][] = [
      ['postgres://u:p@db:5432/pullmail', { url: 'postgres://u:p@db:5432/pullmail' }],
      ['postgres://u@db/pullmail?sslmode=require', { url: 'postgres://u@db/pullmail?sslmode=require' }],
      ['postgres:///pullmail?host=/var/run/postgresql', { url: 'postgres:///pullmail', host: '/var/run/postgresql' }],
      ['postgresql://u@localhost:5433/pullmail?host=%2Frun%2Fpg&sslmode=disable', { url: 'postgresql://u@localhost:5433/pullmail?sslmode=disable', host: '/run/pg' }],
      // a host that is not a directory is a name: postgres.js reads it from the URL's host part
      ['postgres://u@localhost/pullmail?host=db', { url: 'postgres://u@localhost/pullmail?host=db' }],
    ];
    for (const [url, want] of cases) assert.deepEqual(postgresTarget(url), want, url);
  });
});
