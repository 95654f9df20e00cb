-- A send in one statement (issue 15): the message, its first version, one queued delivery per
-- recipient, the recipients as known correspondents (protocol §6) and the copy in Sent, read \Seen.
-- Before, that was a transaction of eight statements and ten round trips (delivery/send.ts).
-- p_deliveries: [{"rcpt", "rcptDomain", "transport", "consent"}], recipients already unique.
CREATE FUNCTION pm_send_message(p_id text, p_mailbox uuid, p_sender text, p_subject text, p_msgid text, p_at timestamptz,
                                p_give_up timestamptz, p_raw bytea, p_blob uuid, p_size integer, p_sha256 text, p_deliveries jsonb)
  RETURNS integer LANGUAGE plpgsql AS $$
DECLARE sent uuid; n integer;
BEGIN
  INSERT INTO messages (id, mailbox_id, sender, subject, message_id_header, created_at, updated_at)
    VALUES (p_id, p_mailbox, p_sender, p_subject, p_msgid, p_at, p_at);
  INSERT INTO message_versions (message_id, version, raw, blob_id, size, sha256, created_at)
    VALUES (p_id, 1, p_raw, p_blob, p_size, p_sha256, p_at);
  INSERT INTO deliveries (message_id, rcpt, rcpt_domain, transport, state, version, notify_kind, consent, next_attempt_at, created_at, give_up_at)
    SELECT p_id, d->>'rcpt', d->>'rcptDomain', d->>'transport', 'queued', 1, 'new', d->>'consent', p_at, p_at, p_give_up
    FROM jsonb_array_elements(p_deliveries) AS d;
  GET DIAGNOSTICS n = ROW_COUNT;
  INSERT INTO correspondents (mailbox_id, address, source, expires_at)
    SELECT p_mailbox, d->>'rcpt', 'sent', NULL FROM jsonb_array_elements(p_deliveries) AS d
    ON CONFLICT (mailbox_id, address) DO UPDATE SET expires_at = NULL, source = 'sent';
  SELECT id INTO sent FROM folders WHERE mailbox_id = p_mailbox AND role = 'sent';
  IF sent IS NOT NULL THEN
    PERFORM pm_file_message(NULL, sent, NULL, p_id, '["\\Seen"]'::jsonb, p_at, p_size, p_sender, p_subject, p_msgid);
  END IF;
  RETURN n;
END $$;
