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
-- follow every insert, delete, completion and move of a task in the same transaction. Each
-- change locks the counted row, so concurrent changes queue instead of losing an update.
-- A row already deleted (a list or a parent going away with its tasks) updates nothing.
CREATE FUNCTION "tasks_counts"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD."completed" = NEW."completed" AND OLD."list_id" = NEW."list_id"
     AND OLD."parent_id" IS NOT DISTINCT FROM NEW."parent_id" THEN
    RETURN NULL;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    UPDATE "lists" SET "open_count" = "open_count" - (NOT OLD."completed")::int,
      "completed_count" = "completed_count" - OLD."completed"::int
    WHERE "id" = OLD."list_id";
    IF OLD."parent_id" IS NOT NULL THEN
      UPDATE "tasks" SET "subtask_count" = "subtask_count" - 1,
        "completed_subtask_count" = "completed_subtask_count" - OLD."completed"::int
      WHERE "id" = OLD."parent_id";
    END IF;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    UPDATE "lists" SET "open_count" = "open_count" + (NOT NEW."completed")::int,
      "completed_count" = "completed_count" + NEW."completed"::int
    WHERE "id" = NEW."list_id";
    IF NEW."parent_id" IS NOT NULL THEN
      UPDATE "tasks" SET "subtask_count" = "subtask_count" + 1,
        "completed_subtask_count" = "completed_subtask_count" + NEW."completed"::int
      WHERE "id" = NEW."parent_id";
    END IF;
  END IF;
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER "tasks_counts" AFTER INSERT OR DELETE OR UPDATE OF "completed", "list_id", "parent_id" ON "tasks"
FOR EACH ROW EXECUTE FUNCTION "tasks_counts"();