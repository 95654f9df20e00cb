CREATE TABLE "folder_changes" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"mailbox_id" uuid NOT NULL,
	"folder_id" uuid NOT NULL,
	"modseq" bigint NOT NULL,
	"uid" bigint NOT NULL,
	"kind" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "folder_messages" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"mailbox_id" uuid NOT NULL,
	"folder_id" uuid NOT NULL,
	"uid" bigint NOT NULL,
	"modseq" bigint NOT NULL,
	"flags" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"internal_date" timestamp with time zone NOT NULL,
	"size" integer NOT NULL,
	"inbound_id" uuid,
	"message_id" text,
	"raw" "bytea",
	"blob_id" uuid,
	"sha256" text,
	"sender" text DEFAULT '' NOT NULL,
	"subject" text DEFAULT '' NOT NULL,
	"message_id_header" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "folders" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"mailbox_id" uuid NOT NULL,
	"name" text NOT NULL,
	"role" text,
	"special_use" text,
	"uid_validity" bigint DEFAULT (floor(random() * 2147483646) + 1)::bigint NOT NULL,
	"uid_next" bigint DEFAULT 1 NOT NULL,
	"highest_modseq" bigint DEFAULT 1 NOT NULL,
	"subscribed" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "folder_changes" ADD CONSTRAINT "folder_changes_mailbox_id_mailboxes_id_fk" FOREIGN KEY ("mailbox_id") REFERENCES "public"."mailboxes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "folder_changes" ADD CONSTRAINT "folder_changes_folder_id_folders_id_fk" FOREIGN KEY ("folder_id") REFERENCES "public"."folders"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "folder_messages" ADD CONSTRAINT "folder_messages_mailbox_id_mailboxes_id_fk" FOREIGN KEY ("mailbox_id") REFERENCES "public"."mailboxes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "folder_messages" ADD CONSTRAINT "folder_messages_folder_id_folders_id_fk" FOREIGN KEY ("folder_id") REFERENCES "public"."folders"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "folder_messages" ADD CONSTRAINT "folder_messages_inbound_id_inbound_id_fk" FOREIGN KEY ("inbound_id") REFERENCES "public"."inbound"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "folder_messages" ADD CONSTRAINT "folder_messages_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "folder_messages" ADD CONSTRAINT "folder_messages_blob_id_blobs_id_fk" FOREIGN KEY ("blob_id") REFERENCES "public"."blobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "folders" ADD CONSTRAINT "folders_mailbox_id_mailboxes_id_fk" FOREIGN KEY ("mailbox_id") REFERENCES "public"."mailboxes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "folder_changes_mailbox_idx" ON "folder_changes" USING btree ("mailbox_id","id");--> statement-breakpoint
CREATE INDEX "folder_changes_created_idx" ON "folder_changes" USING btree ("created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "folder_messages_folder_uid_idx" ON "folder_messages" USING btree ("folder_id","uid");--> statement-breakpoint
CREATE INDEX "folder_messages_folder_date_idx" ON "folder_messages" USING btree ("folder_id","internal_date");--> statement-breakpoint
CREATE INDEX "folder_messages_inbound_idx" ON "folder_messages" USING btree ("inbound_id") WHERE "folder_messages"."inbound_id" is not null;--> statement-breakpoint
CREATE INDEX "folder_messages_message_idx" ON "folder_messages" USING btree ("message_id") WHERE "folder_messages"."message_id" is not null;--> statement-breakpoint
CREATE INDEX "folder_messages_blob_idx" ON "folder_messages" USING btree ("blob_id") WHERE "folder_messages"."blob_id" is not null;--> statement-breakpoint
CREATE INDEX "folder_messages_mailbox_msgid_idx" ON "folder_messages" USING btree ("mailbox_id","message_id_header");--> statement-breakpoint
CREATE UNIQUE INDEX "folders_mailbox_name_idx" ON "folders" USING btree ("mailbox_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "folders_mailbox_role_idx" ON "folders" USING btree ("mailbox_id","role") WHERE "folders"."role" is not null;--> statement-breakpoint
-- Written by hand below this line (docs/mailbox.md): the folders every mailbox has, the journal, the
-- trigger that files received and held mail, and the move of existing mail into the new folders.
CREATE FUNCTION pm_default_folders(p_mailbox uuid) RETURNS void LANGUAGE sql AS $$
  INSERT INTO folders (mailbox_id, name, role, special_use)
  VALUES (p_mailbox, 'INBOX', 'inbox', NULL), (p_mailbox, 'Sent', 'sent', '\Sent'), (p_mailbox, 'Drafts', 'drafts', '\Drafts'),
         (p_mailbox, 'Trash', 'trash', '\Trash'), (p_mailbox, 'Junk', 'junk', '\Junk'), (p_mailbox, 'Archive', 'archive', '\Archive'),
         (p_mailbox, 'Requests', 'requests', NULL)
  ON CONFLICT DO NOTHING
$$;
--> statement-breakpoint
CREATE FUNCTION pm_mailbox_folders() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pm_default_folders(NEW.id);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER mailboxes_folders AFTER INSERT ON mailboxes FOR EACH ROW EXECUTE FUNCTION pm_mailbox_folders();
--> statement-breakpoint
-- One journal line and one wake-up for listeners in any process (delivered when the transaction commits).
CREATE FUNCTION pm_mail_change(p_mailbox uuid, p_folder uuid, p_modseq bigint, p_uid bigint, p_kind text) RETURNS void LANGUAGE sql AS $$
  INSERT INTO folder_changes (mailbox_id, folder_id, modseq, uid, kind) VALUES (p_mailbox, p_folder, p_modseq, p_uid, p_kind);
  SELECT pg_notify('pullmail_mail', p_mailbox::text || ' ' || p_folder::text);
$$;
--> statement-breakpoint
-- Files a message in a folder under the next uid; the folder row is locked until commit, so uids are
-- handed out in commit order within a folder.
-- `p_id` names the entry (null: a new uuid); received mail filed in INBOX keeps the id of its inbound row,
-- the id the API has always shown for it (and the id of the request it was, once accepted).
CREATE FUNCTION pm_file_message(p_id uuid, p_folder uuid, p_inbound uuid, p_message text, p_flags jsonb, p_date timestamptz, p_size integer,
                                p_sender text, p_subject text, p_msgid text) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE f record; new_id uuid;
BEGIN
  UPDATE folders SET uid_next = uid_next + 1, highest_modseq = highest_modseq + 1 WHERE id = p_folder
    RETURNING mailbox_id, uid_next - 1 AS uid, highest_modseq AS modseq INTO f;
  INSERT INTO folder_messages (id, mailbox_id, folder_id, uid, modseq, flags, internal_date, size, inbound_id, message_id, sender, subject, message_id_header)
    VALUES (coalesce(p_id, gen_random_uuid()), f.mailbox_id, p_folder, f.uid, f.modseq, p_flags, p_date, p_size, p_inbound, p_message, p_sender, p_subject, p_msgid)
    RETURNING id INTO new_id;
  PERFORM pm_mail_change(f.mailbox_id, p_folder, f.modseq, f.uid, 'added');
  RETURN new_id;
END $$;
--> statement-breakpoint
-- Received mail enters INBOX when it is stored; a held or challenged request is shown in Requests
-- while it waits (a new version replaces it there) and leaves Requests when it is decided.
CREATE FUNCTION pm_inbound_folders() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  was text := CASE WHEN TG_OP = 'UPDATE' THEN OLD.state END;
  was_held boolean := coalesce(was IN ('held', 'challenged'), false);
  is_held boolean := NEW.state IN ('held', 'challenged');
  replaced boolean := TG_OP = 'UPDATE' AND was_held AND is_held AND OLD.version <> NEW.version;
  e record; m bigint; target uuid; entry_id uuid;
BEGIN
  IF (was_held AND NOT is_held) OR replaced THEN
    FOR e IN DELETE FROM folder_messages fm USING folders f
             WHERE fm.inbound_id = NEW.id AND f.id = fm.folder_id AND f.role = 'requests'
             RETURNING fm.folder_id, fm.uid LOOP
      UPDATE folders SET highest_modseq = highest_modseq + 1 WHERE id = e.folder_id RETURNING highest_modseq INTO m;
      PERFORM pm_mail_change(NEW.mailbox_id, e.folder_id, m, e.uid, 'removed');
    END LOOP;
  END IF;
  IF NEW.state = 'stored' AND was IS DISTINCT FROM 'stored' THEN
    SELECT id INTO target FROM folders WHERE mailbox_id = NEW.mailbox_id AND role = 'inbox';
    entry_id := NEW.id;
  ELSIF is_held AND (NOT was_held OR replaced) THEN
    SELECT id INTO target FROM folders WHERE mailbox_id = NEW.mailbox_id AND role = 'requests';
  END IF;
  IF target IS NOT NULL THEN
    PERFORM pm_file_message(entry_id, target, NEW.id, NULL, '[]'::jsonb, coalesce(NEW.stored_at, NEW.created_at), NEW.size, NEW.sender, NEW.subject, NULL);
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER inbound_folders AFTER INSERT OR UPDATE OF state, version ON inbound FOR EACH ROW EXECUTE FUNCTION pm_inbound_folders();
--> statement-breakpoint
-- Existing mail: every mailbox gets its folders; stored mail goes to INBOX, held requests to Requests,
-- sent mail to Sent, each folder numbered in order of arrival.
SELECT pm_default_folders(id) FROM mailboxes;
--> statement-breakpoint
INSERT INTO folder_messages (id, mailbox_id, folder_id, uid, modseq, flags, internal_date, size, inbound_id, sender, subject)
SELECT CASE WHEN f.role = 'inbox' THEN i.id ELSE gen_random_uuid() END, i.mailbox_id, f.id, row_number() OVER (PARTITION BY f.id ORDER BY coalesce(i.stored_at, i.created_at), i.id), 1,
       '[]'::jsonb, coalesce(i.stored_at, i.created_at), i.size, i.id, i.sender, i.subject
FROM inbound i JOIN folders f ON f.mailbox_id = i.mailbox_id
  AND f.role = CASE WHEN i.state = 'stored' THEN 'inbox' WHEN i.state IN ('held', 'challenged') THEN 'requests' END
WHERE i.deleted_at IS NULL AND (i.state IN ('held', 'challenged') OR i.raw IS NOT NULL OR i.blob_id IS NOT NULL);
--> statement-breakpoint
INSERT INTO folder_messages (mailbox_id, folder_id, uid, modseq, flags, internal_date, size, message_id, sender, subject, message_id_header)
SELECT m.mailbox_id, f.id, row_number() OVER (PARTITION BY f.id ORDER BY m.created_at, m.id), 1,
       '["\\Seen"]'::jsonb, m.created_at, v.size, m.id, m.sender, m.subject, m.message_id_header
FROM messages m JOIN message_versions v ON v.message_id = m.id AND v.version = m.version
  JOIN folders f ON f.mailbox_id = m.mailbox_id AND f.role = 'sent';
--> statement-breakpoint
UPDATE folders f SET uid_next = s.n + 1, highest_modseq = 2
FROM (SELECT folder_id, max(uid) AS n FROM folder_messages GROUP BY folder_id) s WHERE s.folder_id = f.id;
