CREATE TABLE "cri_answers" (
	"message_id" text NOT NULL,
	"rcpt" text NOT NULL,
	"response_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "cri_answers_message_id_rcpt_pk" PRIMARY KEY("message_id","rcpt")
);
--> statement-breakpoint
ALTER TABLE "challenges" ADD COLUMN "token_hash" text;--> statement-breakpoint
ALTER TABLE "cri_answers" ADD CONSTRAINT "cri_answers_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "challenges_token_idx" ON "challenges" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "messages_mailbox_message_id_idx" ON "messages" USING btree ("mailbox_id","message_id_header");