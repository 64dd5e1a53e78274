CREATE TABLE "calendar_keys" (
	"user_id" text PRIMARY KEY NOT NULL,
	"key_hash" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "calendar_keys_key_hash_unique" UNIQUE("key_hash")
);
--> statement-breakpoint
CREATE TABLE "reminders" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "reminders_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"user_id" text NOT NULL,
	"task_id" integer NOT NULL,
	"at" timestamp (3) with time zone,
	"before" text,
	"fire_at" timestamp (3) with time zone,
	"fired_at" timestamp (3) with time zone,
	"late" boolean DEFAULT false NOT NULL,
	"acknowledged_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "reminders_one_kind" CHECK (("reminders"."at" is null) <> ("reminders"."before" is null))
);
--> statement-breakpoint
ALTER TABLE "calendar_keys" ADD CONSTRAINT "calendar_keys_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reminders" ADD CONSTRAINT "reminders_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "reminders_task_idx" ON "reminders" USING btree ("task_id","user_id","id");--> statement-breakpoint
CREATE INDEX "reminders_user_fired_idx" ON "reminders" USING btree ("user_id","fired_at","id");--> statement-breakpoint
CREATE INDEX "reminders_pending_idx" ON "reminders" USING btree ("fire_at") WHERE "reminders"."fired_at" is null and "reminders"."fire_at" is not null;--> statement-breakpoint
-- When a reminder fires for its task as the task is now: an `at` reminder at its instant, a
-- `before` one that long before the due instant (an exact duration: a day is 86,400 seconds,
-- whatever the session's time zone); never while the task is completed, nor a `before` one
-- without a due instant.
CREATE FUNCTION "reminder_time"("at" timestamptz, "before" text, "completed" boolean, "due_at" timestamptz)
RETURNS timestamptz LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN "completed" THEN NULL
    WHEN "at" IS NOT NULL THEN "at"
    ELSE "due_at" - make_interval(secs => extract(epoch FROM "before"::interval))
  END
$$;--> statement-breakpoint
-- A task's reminders follow it. After its due instant or completion changed, or it came back
-- from the trash (an insert), each reminder whose time moved is armed again, its fired and
-- acknowledged state cleared, if that time is still to come; otherwise it is left unarmed
-- (`fire_at` null). So completing disarms, reopening re-arms the ones still ahead, and a
-- recurring task's next occurrence re-arms its `before` reminders. Trashing a task disarms the
-- reminders that have not fired (they come back with it); any other delete drops them.
CREATE FUNCTION "reminders_follow_task"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF current_setting('todo.delete_reason', true) = 'trashed' THEN
      UPDATE "reminders" SET "fire_at" = NULL
      WHERE "task_id" = OLD."id" AND "user_id" = OLD."user_id" AND "fired_at" IS NULL AND "fire_at" IS NOT NULL;
    ELSE
      DELETE FROM "reminders" WHERE "task_id" = OLD."id" AND "user_id" = OLD."user_id";
    END IF;
    RETURN NULL;
  END IF;
  UPDATE "reminders" SET
    "fire_at" = CASE WHEN "reminder_time"("at", "before", NEW."completed", NEW."due_at") > now()
                THEN "reminder_time"("at", "before", NEW."completed", NEW."due_at") END,
    "fired_at" = NULL, "late" = false, "acknowledged_at" = NULL
  WHERE "task_id" = NEW."id" AND "user_id" = NEW."user_id"
    AND "reminder_time"("at", "before", NEW."completed", NEW."due_at") IS DISTINCT FROM "fire_at";
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER "tasks_reminders_insert" AFTER INSERT ON "tasks" FOR EACH ROW EXECUTE FUNCTION "reminders_follow_task"();--> statement-breakpoint
CREATE TRIGGER "tasks_reminders_update" AFTER UPDATE OF "due_at", "completed" ON "tasks" FOR EACH ROW
  WHEN (OLD."due_at" IS DISTINCT FROM NEW."due_at" OR OLD."completed" <> NEW."completed")
  EXECUTE FUNCTION "reminders_follow_task"();--> statement-breakpoint
CREATE TRIGGER "tasks_reminders_delete" AFTER DELETE ON "tasks" FOR EACH ROW EXECUTE FUNCTION "reminders_follow_task"();
