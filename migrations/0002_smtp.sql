CREATE TABLE "greylist" (
	"client" text NOT NULL,
	"sender" text NOT NULL,
	"rcpt" text NOT NULL,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	"passed_at" timestamp with time zone,
	CONSTRAINT "greylist_client_sender_rcpt_pk" PRIMARY KEY("client","sender","rcpt")
);
--> statement-breakpoint
CREATE INDEX "greylist_last_seen_idx" ON "greylist" USING btree ("last_seen_at");