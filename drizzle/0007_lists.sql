CREATE TABLE "lists" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "lists_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"user_id" text NOT NULL,
	"name" text NOT NULL,
	"color" text,
	"position" text collate "C" NOT NULL,
	"is_default" boolean DEFAULT false NOT NULL,
	"open_count" integer DEFAULT 0 NOT NULL,
	"completed_count" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "lists_name_length" CHECK (char_length("lists"."name") between 1 and 100),
	CONSTRAINT "lists_color_format" CHECK ("lists"."color" is null or "lists"."color" ~ '^#[0-9a-f]{6}$')
);
--> statement-breakpoint
-- Added nullable, filled below for the tasks that exist, then made NOT NULL.
ALTER TABLE "tasks" ADD COLUMN "list_id" integer;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "parent_id" integer;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "position" text collate "C";--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "outline" text collate "C";--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "subtask_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "completed_subtask_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "lists" ADD CONSTRAINT "lists_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "lists_user_name_key" ON "lists" USING btree ("user_id",lower("name"));--> statement-breakpoint
CREATE UNIQUE INDEX "lists_user_default_key" ON "lists" USING btree ("user_id") WHERE "lists"."is_default";--> statement-breakpoint
CREATE INDEX "lists_user_position_idx" ON "lists" USING btree ("user_id","position","id");--> statement-breakpoint
CREATE UNIQUE INDEX "lists_id_user_key" ON "lists" USING btree ("id","user_id");--> statement-breakpoint
-- Every user has its Inbox from the moment it exists, however the row is made (sign-up, an
-- external token, a direct insert).
CREATE FUNCTION "users_default_list"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "lists" ("user_id", "name", "position", "is_default") VALUES (NEW."id", 'Inbox', 'a0', true);
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER "users_default_list" AFTER INSERT ON "users" FOR EACH ROW EXECUTE FUNCTION "users_default_list"();--> statement-breakpoint
INSERT INTO "lists" ("user_id", "name", "position", "is_default", "created_at", "updated_at")
SELECT "id", 'Inbox', 'a0', true, "created_at", "created_at" FROM "users";--> statement-breakpoint
-- Existing tasks go to their owner's Inbox, top level, in the order they are listed today
-- (newest first): the n-th gets the fractional-indexing integer key "d" + n in four base-62
-- digits (room for 14,776,336 tasks per user), all valid keys of the same length.
UPDATE "tasks" SET "list_id" = "numbered"."list_id", "position" = "numbered"."position",
  "outline" = lpad("numbered"."list_id"::text, 10, '0') || '/' || "numbered"."position"
FROM (
  SELECT "t"."id", "l"."id" AS "list_id", 'd' || (
    SELECT string_agg(substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', ("n" / (62 ^ "k")::int) % 62 + 1, 1), '' ORDER BY "k" DESC)
    FROM generate_series(0, 3) AS "k"
  ) COLLATE "C" AS "position"
  FROM (
    SELECT "id", "user_id", (row_number() OVER (PARTITION BY "user_id" ORDER BY "created_at" DESC, "id" DESC) - 1)::int AS "n"
    FROM "tasks"
  ) AS "t"
  JOIN "lists" AS "l" ON "l"."user_id" = "t"."user_id" AND "l"."is_default"
) AS "numbered"
WHERE "tasks"."id" = "numbered"."id";--> statement-breakpoint
UPDATE "lists" SET "open_count" = "c"."open", "completed_count" = "c"."done"
FROM (
  SELECT "list_id", (count(*) FILTER (WHERE NOT "completed"))::int AS "open", (count(*) FILTER (WHERE "completed"))::int AS "done"
  FROM "tasks" GROUP BY "list_id"
) AS "c"
WHERE "lists"."id" = "c"."list_id";--> statement-breakpoint
ALTER TABLE "tasks" ALTER COLUMN "list_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "tasks" ALTER COLUMN "position" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "tasks" ALTER COLUMN "outline" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_parent_id_tasks_id_fk" FOREIGN KEY ("parent_id") REFERENCES "public"."tasks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_list_id_user_id_lists_id_user_id_fk" FOREIGN KEY ("list_id","user_id") REFERENCES "public"."lists"("id","user_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- A task inserted without a list (by anything that knows nothing of lists) goes to its owner's
-- default list; without a position (only writes that bypass the API), key "a0", ties broken by
-- id. The outline always follows from the parent's (or the list's) and the position.
CREATE FUNCTION "tasks_defaults"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW."list_id" IS NULL THEN
    SELECT "id" INTO NEW."list_id" FROM "lists" WHERE "user_id" = NEW."user_id" AND "is_default";
  END IF;
  NEW."position" := coalesce(NEW."position", 'a0');
  NEW."outline" := coalesce(
    (SELECT "outline" FROM "tasks" WHERE "id" = NEW."parent_id"),
    lpad(NEW."list_id"::text, 10, '0')
  ) || '/' || NEW."position";
  RETURN NEW;
END
$$;--> statement-breakpoint
CREATE TRIGGER "tasks_defaults" BEFORE INSERT ON "tasks" FOR EACH ROW EXECUTE FUNCTION "tasks_defaults"();--> statement-breakpoint
CREATE INDEX "tasks_user_outline_idx" ON "tasks" USING btree ("user_id","outline","id");--> statement-breakpoint
CREATE INDEX "tasks_list_outline_idx" ON "tasks" USING btree ("list_id","outline","id");--> statement-breakpoint
CREATE INDEX "tasks_parent_outline_idx" ON "tasks" USING btree ("parent_id","outline","id");--> statement-breakpoint
CREATE INDEX "tasks_siblings_idx" ON "tasks" USING btree ("list_id","parent_id","position");--> statement-breakpoint
-- The counts on lists (open, completed) and on parent tasks (direct subtasks, completed ones)
-- follow every insert, delete, completion and move of tasks in the same transaction. Triggers
-- per statement, from its transition tables: one update per list or parent touched, however
-- many rows the statement changed (per-row triggers would update one list row once per task,
-- which grows quadratically in one transaction). Each update locks the counted row, so
-- concurrent changes queue instead of losing one. A row already deleted (a list or a parent
-- going away with its tasks) updates nothing.
CREATE FUNCTION "tasks_counts_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "lists" SET "open_count" = "open_count" + "d"."open", "completed_count" = "completed_count" + "d"."done"
  FROM (
    SELECT "list_id", sum("open")::int AS "open", sum("done")::int AS "done"
    FROM (SELECT "list_id", "parent_id", (NOT "completed")::int AS "open", "completed"::int AS "done" FROM "new_rows") AS "x" GROUP BY "list_id"
  ) AS "d"
  WHERE "lists"."id" = "d"."list_id" AND ("d"."open" <> 0 OR "d"."done" <> 0);
  UPDATE "tasks" SET "subtask_count" = "subtask_count" + "d"."children",
    "completed_subtask_count" = "completed_subtask_count" + "d"."done"
  FROM (
    SELECT "parent_id", sum("open" + "done")::int AS "children", sum("done")::int AS "done"
    FROM (SELECT "list_id", "parent_id", (NOT "completed")::int AS "open", "completed"::int AS "done" FROM "new_rows") AS "x" WHERE "parent_id" IS NOT NULL GROUP BY "parent_id"
  ) AS "d"
  WHERE "tasks"."id" = "d"."parent_id" AND ("d"."children" <> 0 OR "d"."done" <> 0);
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE FUNCTION "tasks_counts_delete"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "lists" SET "open_count" = "open_count" + "d"."open", "completed_count" = "completed_count" + "d"."done"
  FROM (
    SELECT "list_id", sum("open")::int AS "open", sum("done")::int AS "done"
    FROM (SELECT "list_id", "parent_id", -(NOT "completed")::int AS "open", -"completed"::int AS "done" FROM "old_rows") AS "x" GROUP BY "list_id"
  ) AS "d"
  WHERE "lists"."id" = "d"."list_id" AND ("d"."open" <> 0 OR "d"."done" <> 0);
  UPDATE "tasks" SET "subtask_count" = "subtask_count" + "d"."children",
    "completed_subtask_count" = "completed_subtask_count" + "d"."done"
  FROM (
    SELECT "parent_id", sum("open" + "done")::int AS "children", sum("done")::int AS "done"
    FROM (SELECT "list_id", "parent_id", -(NOT "completed")::int AS "open", -"completed"::int AS "done" FROM "old_rows") AS "x" WHERE "parent_id" IS NOT NULL GROUP BY "parent_id"
  ) AS "d"
  WHERE "tasks"."id" = "d"."parent_id" AND ("d"."children" <> 0 OR "d"."done" <> 0);
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE FUNCTION "tasks_counts_update"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Most updates change none of the three (and the count updates below are updates too).
  IF NOT EXISTS (SELECT 1 FROM "old_rows" AS "o" JOIN "new_rows" AS "n" ON "n"."id" = "o"."id"
      WHERE "o"."completed" <> "n"."completed" OR "o"."list_id" <> "n"."list_id" OR "o"."parent_id" IS DISTINCT FROM "n"."parent_id") THEN
    RETURN NULL;
  END IF;
  UPDATE "lists" SET "open_count" = "open_count" + "d"."open", "completed_count" = "completed_count" + "d"."done"
  FROM (
    SELECT "list_id", sum("open")::int AS "open", sum("done")::int AS "done"
    FROM (SELECT "o"."list_id", "o"."parent_id", -(NOT "o"."completed")::int AS "open", -"o"."completed"::int AS "done"
      FROM "old_rows" AS "o" JOIN "new_rows" AS "n" ON "n"."id" = "o"."id"
      WHERE "o"."completed" <> "n"."completed" OR "o"."list_id" <> "n"."list_id" OR "o"."parent_id" IS DISTINCT FROM "n"."parent_id"
      UNION ALL
      SELECT "n"."list_id", "n"."parent_id", (NOT "n"."completed")::int, "n"."completed"::int
      FROM "old_rows" AS "o" JOIN "new_rows" AS "n" ON "n"."id" = "o"."id"
      WHERE "o"."completed" <> "n"."completed" OR "o"."list_id" <> "n"."list_id" OR "o"."parent_id" IS DISTINCT FROM "n"."parent_id") AS "x" GROUP BY "list_id"
  ) AS "d"
  WHERE "lists"."id" = "d"."list_id" AND ("d"."open" <> 0 OR "d"."done" <> 0);
  UPDATE "tasks" SET "subtask_count" = "subtask_count" + "d"."children",
    "completed_subtask_count" = "completed_subtask_count" + "d"."done"
  FROM (
    SELECT "parent_id", sum("open" + "done")::int AS "children", sum("done")::int AS "done"
    FROM (SELECT "o"."list_id", "o"."parent_id", -(NOT "o"."completed")::int AS "open", -"o"."completed"::int AS "done"
      FROM "old_rows" AS "o" JOIN "new_rows" AS "n" ON "n"."id" = "o"."id"
      WHERE "o"."completed" <> "n"."completed" OR "o"."list_id" <> "n"."list_id" OR "o"."parent_id" IS DISTINCT FROM "n"."parent_id"
      UNION ALL
      SELECT "n"."list_id", "n"."parent_id", (NOT "n"."completed")::int, "n"."completed"::int
      FROM "old_rows" AS "o" JOIN "new_rows" AS "n" ON "n"."id" = "o"."id"
      WHERE "o"."completed" <> "n"."completed" OR "o"."list_id" <> "n"."list_id" OR "o"."parent_id" IS DISTINCT FROM "n"."parent_id") AS "x" WHERE "parent_id" IS NOT NULL GROUP BY "parent_id"
  ) AS "d"
  WHERE "tasks"."id" = "d"."parent_id" AND ("d"."children" <> 0 OR "d"."done" <> 0);
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER "tasks_counts_insert" AFTER INSERT ON "tasks" REFERENCING NEW TABLE AS "new_rows"
FOR EACH STATEMENT EXECUTE FUNCTION "tasks_counts_insert"();--> statement-breakpoint
CREATE TRIGGER "tasks_counts_delete" AFTER DELETE ON "tasks" REFERENCING OLD TABLE AS "old_rows"
FOR EACH STATEMENT EXECUTE FUNCTION "tasks_counts_delete"();--> statement-breakpoint
CREATE TRIGGER "tasks_counts_update" AFTER UPDATE ON "tasks" REFERENCING OLD TABLE AS "old_rows" NEW TABLE AS "new_rows"
FOR EACH STATEMENT EXECUTE FUNCTION "tasks_counts_update"();