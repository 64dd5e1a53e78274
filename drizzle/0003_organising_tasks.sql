CREATE TYPE "public"."task_priority" AS ENUM('low', 'medium', 'high');--> statement-breakpoint
DROP INDEX "tasks_user_created_idx";--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "priority" "task_priority" DEFAULT 'medium' NOT NULL;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "tags" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "tag_keys" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "due_date" date;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "due_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "due_sort" timestamp (3) with time zone GENERATED ALWAYS AS (coalesce(due_at, due_date::timestamp at time zone 'UTC')) STORED;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "completed_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "search" "tsvector" GENERATED ALWAYS AS (to_tsvector('english', title || ' ' || coalesce(description, '')) || to_tsvector('simple', title || ' ' || coalesce(description, ''))) STORED NOT NULL;--> statement-breakpoint
CREATE INDEX "tasks_user_updated_idx" ON "tasks" USING btree ("user_id","updated_at","id");--> statement-breakpoint
CREATE INDEX "tasks_user_title_idx" ON "tasks" USING btree ("user_id",lower("title") collate "C","id");--> statement-breakpoint
CREATE INDEX "tasks_user_due_idx" ON "tasks" USING btree ("user_id","due_sort","id");--> statement-breakpoint
CREATE INDEX "tasks_user_priority_idx" ON "tasks" USING btree ("user_id","priority","id");--> statement-breakpoint
CREATE INDEX "tasks_user_completed_at_idx" ON "tasks" USING btree ("user_id","completed_at","id");--> statement-breakpoint
CREATE INDEX "tasks_user_open_due_idx" ON "tasks" USING btree ("user_id","due_sort") WHERE not "tasks"."completed";--> statement-breakpoint
CREATE INDEX "tasks_tag_keys_idx" ON "tasks" USING gin ("tag_keys") WITH (fastupdate=false);--> statement-breakpoint
CREATE INDEX "tasks_search_idx" ON "tasks" USING gin ("search") WITH (fastupdate=false);--> statement-breakpoint
CREATE INDEX "tasks_user_created_idx" ON "tasks" USING btree ("user_id","created_at","id");--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_due_one_kind" CHECK ("tasks"."due_date" is null or "tasks"."due_at" is null);--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_tags_count" CHECK (cardinality("tasks"."tags") <= 20 and cardinality("tasks"."tag_keys") = cardinality("tasks"."tags"));--> statement-breakpoint
-- Tasks completed before completion times were kept: their last change is the best guess.
UPDATE "tasks" SET "completed_at" = "updated_at" WHERE "completed";--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_completed_at" CHECK ("tasks"."completed" = ("tasks"."completed_at" is not null));