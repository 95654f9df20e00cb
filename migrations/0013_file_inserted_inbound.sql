-- New inbound rows are filed once per INSERT statement instead of once per row: a batch of held
-- notifications (delivery/receive-batch.ts) or of SMTP copies (store/smtp-copies.ts) went through
-- pm_file_message row by row, ~110 µs each on PostgreSQL (issue 15). The rows of one statement are
-- numbered in one go: each folder's uid_next and highest_modseq move by the count, under the same row
-- lock pm_file_message takes, so uids still follow commit order within a folder. What the per-row
-- function did for an inserted row is unchanged: stored mail enters INBOX under the inbound row's id,
-- a held or challenged request enters Requests, each with a change journal line and a wake-up.
-- Updates (a request decided, a new version, a fetch stored) still go through pm_inbound_folders.
-- The folder a new inbound row is filed in, by its state (pm_inbound_folders' rule for an inserted row).
CREATE FUNCTION pm_inbound_folder_role(p_state text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_state = 'stored' THEN 'inbox' WHEN p_state IN ('held', 'challenged') THEN 'requests' END
$$;
--> statement-breakpoint
CREATE FUNCTION pm_inbound_folders_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- the folders in one order, so two statements filing into the same folders cannot wait on each
  -- other; within a mailbox Requests before INBOX, the order pm_inbound_folders takes them in when a
  -- request is accepted (it leaves Requests, then enters INBOX)
  PERFORM 1 FROM folders f WHERE f.id IN (
    SELECT f2.id FROM new_rows n JOIN folders f2 ON f2.mailbox_id = n.mailbox_id
     AND f2.role = pm_inbound_folder_role(n.state))
    ORDER BY f.mailbox_id, f.role = 'inbox', f.id FOR NO KEY UPDATE;
  WITH targets AS (
    SELECT n.id, n.mailbox_id, n.size, n.sender, n.subject, coalesce(n.stored_at, n.created_at) AS at,
           n.state = 'stored' AS to_inbox, f.id AS folder_id,
           row_number() OVER (PARTITION BY f.id ORDER BY n.created_at, n.id) AS k
    FROM new_rows n
    JOIN folders f ON f.mailbox_id = n.mailbox_id
     AND f.role = pm_inbound_folder_role(n.state)
  ), counted AS (
    SELECT folder_id, count(*) AS c FROM targets GROUP BY folder_id
  ), bumped AS (
    UPDATE folders f SET uid_next = f.uid_next + counted.c, highest_modseq = f.highest_modseq + counted.c
    FROM counted WHERE f.id = counted.folder_id
    RETURNING f.id, f.uid_next - counted.c AS first_uid, f.highest_modseq - counted.c AS base_modseq
  ), filed AS (
    INSERT INTO folder_messages (id, mailbox_id, folder_id, uid, modseq, flags, internal_date, size, inbound_id, message_id, sender, subject, message_id_header)
    SELECT CASE WHEN t.to_inbox THEN t.id ELSE gen_random_uuid() END, t.mailbox_id, t.folder_id, b.first_uid + t.k - 1, b.base_modseq + t.k,
           '[]'::jsonb, t.at, t.size, t.id, NULL, t.sender, t.subject, NULL
    FROM targets t JOIN bumped b ON b.id = t.folder_id
    RETURNING mailbox_id, folder_id, modseq, uid
  )
  INSERT INTO folder_changes (mailbox_id, folder_id, modseq, uid, kind)
  SELECT mailbox_id, folder_id, modseq, uid, 'added' FROM filed;
  PERFORM pg_notify('pullmail_mail', w.mailbox_id::text || ' ' || w.folder_id::text)
  FROM (SELECT DISTINCT n.mailbox_id, f.id AS folder_id FROM new_rows n JOIN folders f ON f.mailbox_id = n.mailbox_id AND f.role = pm_inbound_folder_role(n.state)) w;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER inbound_folders_inserted AFTER INSERT ON inbound REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION pm_inbound_folders_inserted();
--> statement-breakpoint
DROP TRIGGER inbound_folders ON inbound;
--> statement-breakpoint
CREATE TRIGGER inbound_folders AFTER UPDATE OF state, version ON inbound FOR EACH ROW EXECUTE FUNCTION pm_inbound_folders();
