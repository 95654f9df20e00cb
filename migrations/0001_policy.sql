CREATE TABLE "challenges" (
	"id" text PRIMARY KEY NOT NULL,
	"mailbox_id" uuid NOT NULL,
	"sender" text NOT NULL,
	"inbound_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"solved_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "consent" text;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "pow" jsonb;--> statement-breakpoint
ALTER TABLE "mailboxes" ADD COLUMN "challenge_question" text;--> statement-breakpoint
ALTER TABLE "mailboxes" ADD COLUMN "challenge_answer_hash" text;--> statement-breakpoint
ALTER TABLE "challenges" ADD CONSTRAINT "challenges_mailbox_id_mailboxes_id_fk" FOREIGN KEY ("mailbox_id") REFERENCES "public"."mailboxes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "challenges" ADD CONSTRAINT "challenges_inbound_id_inbound_id_fk" FOREIGN KEY ("inbound_id") REFERENCES "public"."inbound"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "challenges_mailbox_sender_idx" ON "challenges" USING btree ("mailbox_id","sender");