import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { postgresTarget } from './db.ts';

describe('postgresTarget: a DATABASE_URL as postgres.js takes it', () => {
  it('takes a libpq-style ?host= (a socket directory or a name) out of the URL into the host option, and leaves every other URL as written', () => {
    const cases: [string, { url: string; host?: string }][] = [
      ['postgres://u:p@db:5432/pullmail', { url: 'postgres://u:p@db:5432/pullmail' }],
      ['postgres://u@db/pullmail?sslmode=require', { url: 'postgres://u@db/pullmail?sslmode=require' }],
      // several hosts (failover): the URL class cannot parse this, postgres.js can
      ['postgres://u:secret@h1:5432,h2:5433/pullmail', { url: 'postgres://u:secret@h1:5432,h2:5433/pullmail' }],
      ['postgres:///pullmail?host=/var/run/postgresql', { url: 'postgres:///pullmail', host: '/var/run/postgresql' }],
      ['postgresql://u@localhost:5433/pullmail?host=%2Frun%2Fpg&sslmode=disable', { url: 'postgresql://u@localhost:5433/pullmail?sslmode=disable', host: '/run/pg' }],
      ['postgres://u@localhost/pullmail?sslmode=disable&host=db.internal', { url: 'postgres://u@localhost/pullmail?sslmode=disable', host: 'db.internal' }],
    ];
    for (const [url, want] of cases) assert.deepEqual(postgresTarget(url), want, url);
  });
});
