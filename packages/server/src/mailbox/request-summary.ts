// How a held first-contact request looks as a message in the Requests folder (docs/mailbox.md): a short
// text naming the sender, subject and size. Pure. The real body is never shown here; for pm1 it has not
// even been fetched (protocol §6), and mail held by the SMTP gateway stays unread until accepted.
export interface RequestFacts {
  id: string;
  sender: string;
  subject: string;
  size: number;
  receivedAt: Date;
  via: string | null;
}

const summaryId = (requestId: string) => `<request-${requestId}@pullmail.invalid>`;

/**
 * Whether a Message-ID field (as peekHeaders gives it) is a summary's: a copy of the Requests folder
 * taken over IMAP holds these, and importing one would file a stand-in for mail that is not here.
 */
export function isRequestSummaryId(messageId: string | null): boolean {
  return !!messageId && /^<request-[^<>@\s]+@pullmail\.invalid>$/.test(messageId);
}

/** RFC 5322 bytes (CRLF) of the summary; the same facts always give the same bytes. */
export function requestSummary(r: RequestFacts): Buffer {
  const subject = r.subject.replace(/[\r\n]+/g, ' ');
  const from = r.sender || 'MAILER-DAEMON';
  const lines = [
    `From: ${/^[\x20-\x7e]*$/.test(from) ? from : 'unknown-sender'}`,
    `Subject: =?UTF-8?B?${Buffer.from(subject).toString('base64')}?=`,
    `Date: ${r.receivedAt.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: ${summaryId(r.id)}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    'X-Pullmail-Request: held',
    '',
    `A first-contact request from ${from} is waiting for your decision.`,
    '',
    `Subject: ${subject}`,
    `Size:    ${r.size} bytes (${r.via === 'smtp' ? 'kept here, unread' : 'still on the sender\'s node'})`,
    '',
    'Move this message to INBOX to accept it (the message is then delivered),',
    'or delete it to reject it.',
    '',
  ];
  return Buffer.from(lines.join('\r\n'));
}
