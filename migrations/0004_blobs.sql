CREATE TABLE "blob_chunks" (
	"blob_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"data" "bytea" NOT NULL,
	CONSTRAINT "blob_chunks_blob_id_seq_pk" PRIMARY KEY("blob_id","seq")
);
--> statement-breakpoint
CREATE TABLE "blobs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"size" integer DEFAULT 0 NOT NULL,
	"sha256" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "message_versions" ALTER COLUMN "raw" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "inbound" ADD COLUMN "blob_id" uuid;--> statement-breakpoint
ALTER TABLE "message_versions" ADD COLUMN "blob_id" uuid;--> statement-breakpoint
ALTER TABLE "blob_chunks" ADD CONSTRAINT "blob_chunks_blob_id_blobs_id_fk" FOREIGN KEY ("blob_id") REFERENCES "public"."blobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "blobs_created_idx" ON "blobs" USING btree ("created_at");--> statement-breakpoint
ALTER TABLE "inbound" ADD CONSTRAINT "inbound_blob_id_blobs_id_fk" FOREIGN KEY ("blob_id") REFERENCES "public"."blobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "message_versions" ADD CONSTRAINT "message_versions_blob_id_blobs_id_fk" FOREIGN KEY ("blob_id") REFERENCES "public"."blobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "inbound_blob_idx" ON "inbound" USING btree ("blob_id") WHERE "inbound"."blob_id" is not null;--> statement-breakpoint
CREATE INDEX "message_versions_blob_idx" ON "message_versions" USING btree ("blob_id") WHERE "message_versions"."blob_id" is not null;