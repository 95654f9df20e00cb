ALTER TABLE "mailboxes" ADD COLUMN "admin" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "mailboxes" ADD COLUMN "disabled_at" timestamp with time zone;