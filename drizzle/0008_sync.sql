CREATE TABLE "idempotency_keys" (
	"user_id" text NOT NULL,
	"key" text NOT NULL,
	"fingerprint" text NOT NULL,
	"status" integer,
	"headers" jsonb,
	"body" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "idempotency_keys_user_id_key_pk" PRIMARY KEY("user_id","key")
);
--> statement-breakpoint
CREATE TABLE "stream_tickets" (
	"ticket_hash" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	"used_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "tombstones" (
	"user_id" text NOT NULL,
	"kind" text NOT NULL,
	"entity_id" integer NOT NULL,
	"seq" integer NOT NULL,
	"reason" text NOT NULL,
	"deleted_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tombstones_user_id_kind_entity_id_pk" PRIMARY KEY("user_id","kind","entity_id"),
	CONSTRAINT "tombstones_kind" CHECK ("tombstones"."kind" in ('task', 'list')),
	CONSTRAINT "tombstones_reason" CHECK ("tombstones"."reason" in ('deleted', 'trashed', 'purged'))
);
--> statement-breakpoint
CREATE TABLE "trash" (
	"task_id" integer PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"list_id" integer NOT NULL,
	"parent_id" integer,
	"deleted_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"rows" jsonb NOT NULL
);
--> statement-breakpoint
-- Added nullable, numbered below for the rows that exist, then made NOT NULL.
ALTER TABLE "lists" ADD COLUMN "version" integer;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "version" integer;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "sync_seq" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "sync_horizon" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Each user's existing lists and tasks get versions 1, 2, 3, ... (lists first, each in id
-- order), and the user's counter the last of them: a first sync returns them in that order.
UPDATE "lists" SET "version" = "n"."version"
FROM (SELECT "id", row_number() OVER (PARTITION BY "user_id" ORDER BY "id")::int AS "version" FROM "lists") AS "n"
WHERE "lists"."id" = "n"."id";--> statement-breakpoint
UPDATE "tasks" SET "version" = "n"."version" + coalesce((SELECT count(*) FROM "lists" WHERE "lists"."user_id" = "n"."user_id"), 0)::int
FROM (SELECT "id", "user_id", row_number() OVER (PARTITION BY "user_id" ORDER BY "id")::int AS "version" FROM "tasks") AS "n"
WHERE "tasks"."id" = "n"."id";--> statement-breakpoint
UPDATE "users" SET "sync_seq" = (SELECT count(*) FROM "lists" WHERE "user_id" = "users"."id")::int
  + (SELECT count(*) FROM "tasks" WHERE "user_id" = "users"."id")::int;--> statement-breakpoint
ALTER TABLE "lists" ALTER COLUMN "version" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "tasks" ALTER COLUMN "version" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stream_tickets" ADD CONSTRAINT "stream_tickets_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tombstones" ADD CONSTRAINT "tombstones_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trash" ADD CONSTRAINT "trash_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idempotency_keys_expires_idx" ON "idempotency_keys" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "stream_tickets_expires_idx" ON "stream_tickets" USING btree ("expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "tombstones_user_seq_key" ON "tombstones" USING btree ("user_id","seq");--> statement-breakpoint
CREATE INDEX "tombstones_deleted_at_idx" ON "tombstones" USING btree ("deleted_at");--> statement-breakpoint
CREATE INDEX "trash_user_deleted_idx" ON "trash" USING btree ("user_id","deleted_at","task_id");--> statement-breakpoint
CREATE INDEX "trash_deleted_at_idx" ON "trash" USING btree ("deleted_at");--> statement-breakpoint
CREATE UNIQUE INDEX "lists_user_version_key" ON "lists" USING btree ("user_id","version");--> statement-breakpoint
CREATE UNIQUE INDEX "tasks_user_version_key" ON "tasks" USING btree ("user_id","version");--> statement-breakpoint
-- Draws the user's next change number. The first draw of a transaction takes the user's row
-- lock (FOR NO KEY UPDATE, held until commit) and reads the counter, so two transactions of one
-- user never commit in the opposite order of the numbers they drew: whatever a reader has seen
-- up to number N, nothing at or below N can still appear. Every writer that locks tasks or
-- lists of a user takes this lock first (lockUser / userTurn), so drawing here never waits
-- while holding a task's lock. Null when the user is being deleted.
--
-- The numbers drawn but not yet written back wait in the transaction-local setting
-- `todo.sync_pending` ({user id: last number}); `sync_flush`, after each statement, writes them
-- to users.sync_seq. Updating the users row once per row instead made one statement that
-- changes n rows of a user cost O(n^2): each update of a row already updated in the same
-- transaction walks the chain of its earlier versions.
CREATE FUNCTION "sync_next"("uid" text) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  "pending" jsonb := coalesce(nullif(current_setting('todo.sync_pending', true), ''), '{}')::jsonb;
  "s" integer := ("pending" ->> "uid")::integer;
BEGIN
  IF "s" IS NULL THEN
    SELECT "sync_seq" INTO "s" FROM "users" WHERE "id" = "uid" FOR NO KEY UPDATE;
    IF "s" IS NULL THEN
      RETURN NULL;
    END IF;
  END IF;
  "s" := "s" + 1;
  PERFORM set_config('todo.sync_pending', jsonb_set("pending", ARRAY["uid"], to_jsonb("s"))::text, true);
  RETURN "s";
END
$$;--> statement-breakpoint
-- After every statement on tasks, lists or tombstones: the numbers it drew go to the users'
-- counters, and each user gets one notification (Postgres folds equal payloads within a
-- transaction and delivers them at commit). Only after a statement the client sent: the
-- statements triggers run for it (counts, tombstones) are done by then, so one update of the
-- user's row covers them all, however many rows they touched.
CREATE FUNCTION "sync_flush"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  "pending" text := current_setting('todo.sync_pending', true);
  "entry" record;
BEGIN
  IF pg_trigger_depth() > 1 OR "pending" IS NULL OR "pending" = '' OR "pending" = '{}' THEN
    RETURN NULL;
  END IF;
  PERFORM set_config('todo.sync_pending', '{}', true);
  FOR "entry" IN SELECT "key", "value" FROM jsonb_each_text("pending"::jsonb) LOOP
    UPDATE "users" SET "sync_seq" = greatest("sync_seq", "entry"."value"::integer) WHERE "id" = "entry"."key";
    PERFORM pg_notify('todo_changes', "entry"."key");
  END LOOP;
  RETURN NULL;
END
$$;--> statement-breakpoint
-- Every insert or update of a task or list gives it the next version of its owner; an insert
-- (a restore) clears the tombstone of the same id.
CREATE FUNCTION "sync_version"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW."version" := coalesce("sync_next"(NEW."user_id"), OLD."version");
  -- (Only restores have one: the check keeps a DELETE statement off every other insert.)
  IF TG_OP = 'INSERT' AND EXISTS (
    SELECT 1 FROM "tombstones" WHERE "user_id" = NEW."user_id" AND "kind" = TG_ARGV[0] AND "entity_id" = NEW."id"
  ) THEN
    DELETE FROM "tombstones" WHERE "user_id" = NEW."user_id" AND "kind" = TG_ARGV[0] AND "entity_id" = NEW."id";
  END IF;
  RETURN NEW;
END
$$;--> statement-breakpoint
-- A deleted task or list leaves a tombstone. Its reason is the transaction's
-- `todo.delete_reason` ('trashed' when the trash takes it), else 'deleted'.
CREATE FUNCTION "sync_tombstone"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  "s" integer := "sync_next"(OLD."user_id");
BEGIN
  IF "s" IS NULL THEN
    RETURN NULL;
  END IF;
  INSERT INTO "tombstones" ("user_id", "kind", "entity_id", "seq", "reason")
  VALUES (OLD."user_id", TG_ARGV[0], OLD."id", "s", coalesce(nullif(current_setting('todo.delete_reason', true), ''), 'deleted'))
  ON CONFLICT ("user_id", "kind", "entity_id")
  DO UPDATE SET "seq" = excluded."seq", "reason" = excluded."reason", "deleted_at" = excluded."deleted_at";
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER "tasks_sync_version" BEFORE INSERT OR UPDATE ON "tasks" FOR EACH ROW EXECUTE FUNCTION "sync_version"('task');--> statement-breakpoint
CREATE TRIGGER "lists_sync_version" BEFORE INSERT OR UPDATE ON "lists" FOR EACH ROW EXECUTE FUNCTION "sync_version"('list');--> statement-breakpoint
CREATE TRIGGER "tasks_sync_tombstone" AFTER DELETE ON "tasks" FOR EACH ROW EXECUTE FUNCTION "sync_tombstone"('task');--> statement-breakpoint
CREATE TRIGGER "lists_sync_tombstone" AFTER DELETE ON "lists" FOR EACH ROW EXECUTE FUNCTION "sync_tombstone"('list');--> statement-breakpoint
CREATE TRIGGER "tasks_sync_flush" AFTER INSERT OR UPDATE OR DELETE ON "tasks" FOR EACH STATEMENT EXECUTE FUNCTION "sync_flush"();--> statement-breakpoint
CREATE TRIGGER "lists_sync_flush" AFTER INSERT OR UPDATE OR DELETE ON "lists" FOR EACH STATEMENT EXECUTE FUNCTION "sync_flush"();--> statement-breakpoint
CREATE TRIGGER "tombstones_sync_flush" AFTER INSERT OR UPDATE OR DELETE ON "tombstones" FOR EACH STATEMENT EXECUTE FUNCTION "sync_flush"();--> statement-breakpoint
-- A new user's Inbox is made by a trigger on users (drizzle/0007_lists.sql): its number is written back here.
CREATE TRIGGER "users_sync_flush" AFTER INSERT ON "users" FOR EACH STATEMENT EXECUTE FUNCTION "sync_flush"();--> statement-breakpoint
-- The counts of lists and parents after an update (drizzle/0007_lists.sql) without joining the
-- two transition tables: Postgres has no statistics on them and joined them in a nested loop,
-- so one statement that updated n tasks took O(n^2) (20,000 tasks: minutes). Each row counts
-- out where it was and in where it is now; rows that kept their list, parent and completion
-- cancel out, and only non-zero differences are written.
CREATE OR REPLACE FUNCTION "tasks_counts_update"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Its own updates of parents that change nothing come back here with no rows: stop there.
  IF NOT EXISTS (SELECT 1 FROM "new_rows") THEN
    RETURN NULL;
  END IF;
  UPDATE "lists" SET "open_count" = "open_count" + "d"."open", "completed_count" = "completed_count" + "d"."done"
  FROM (
    SELECT "list_id", sum("open")::int AS "open", sum("done")::int AS "done"
    FROM (
      SELECT "list_id", -(NOT "completed")::int AS "open", -"completed"::int AS "done" FROM "old_rows"
      UNION ALL
      SELECT "list_id", (NOT "completed")::int, "completed"::int FROM "new_rows"
    ) AS "x" GROUP BY "list_id"
  ) AS "d"
  WHERE "lists"."id" = "d"."list_id" AND ("d"."open" <> 0 OR "d"."done" <> 0);
  UPDATE "tasks" SET "subtask_count" = "subtask_count" + "d"."children",
    "completed_subtask_count" = "completed_subtask_count" + "d"."done"
  FROM (
    SELECT "parent_id", sum("open" + "done")::int AS "children", sum("done")::int AS "done"
    FROM (
      SELECT "parent_id", -(NOT "completed")::int AS "open", -"completed"::int AS "done" FROM "old_rows"
      UNION ALL
      SELECT "parent_id", (NOT "completed")::int, "completed"::int FROM "new_rows"
    ) AS "x" WHERE "parent_id" IS NOT NULL GROUP BY "parent_id"
  ) AS "d"
  WHERE "tasks"."id" = "d"."parent_id" AND ("d"."children" <> 0 OR "d"."done" <> 0);
  RETURN NULL;
END
$$;
