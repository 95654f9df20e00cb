import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IMPORTED_REQUESTS_FOLDER, maildirFlags, maildirFolder } from './maildir.ts';

describe('maildirFolder', () => {
  const table: [string, string | undefined][] = [
    ['.Sent', 'Sent'],
    ['.Archive.2024', 'Archive/2024'],
    ['.Entw&APw-rfe', 'Entwürfe'],
    ['.INBOX', 'INBOX'],
    ['.inbox', 'INBOX'],
    // Dovecot's INBOX/x: pullmail has no folders under INBOX, the user looks for x
    ['.INBOX.x', 'x'],
    ['.INBOX.Lists.node', 'Lists/node'],
    ['.Inbox.Receipts', 'Receipts'],
    // pullmail's Requests shows held first-contact requests only; another server's Requests is mail
    ['.Requests', IMPORTED_REQUESTS_FOLDER],
    ['.Requests.2024', `${IMPORTED_REQUESTS_FOLDER}/2024`],
    ['.INBOX.Requests', IMPORTED_REQUESTS_FOLDER],
    ['.requests', 'requests'],
    ['.Archive.Requests', 'Archive/Requests'],
    // not folders
    ['cur', undefined],
    ['.', undefined],
    ['..', undefined],
    ['.a..b', undefined],
    ['.INBOX.', undefined],
  ];
  for (const [dir, folder] of table) it(`${dir} → ${folder}`, () => assert.equal(maildirFolder(dir), folder));
});

describe('maildirFlags', () => {
  const table: [string, string[]][] = [
    ['1700000001.M1P1.host:2,FS', ['\\Flagged', '\\Seen']],
    ['1700000001.M1P1.host!2,RT', ['\\Answered', '\\Deleted']],
    ['1700000001.M1P1.host;2,DP', ['\\Draft', '$Forwarded']],
    ['1700000001.M1P1.host:2,ab', ['$Important', 'Work']],
    // a letter without a keyword line is nothing
    ['1700000001.M1P1.host:2,Sz', ['\\Seen']],
    ['1700000001.M1P1.host', []],
  ];
  for (const [name, flags] of table) it(name, () => assert.deepEqual(maildirFlags(name, ['$Important', 'Work']), flags));
});
