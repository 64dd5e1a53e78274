DROP INDEX "users_email_lower_key";--> statement-breakpoint
-- Emails now compare in Unicode normal form C as well as without case. Accounts whose emails
-- differ only in form (NFC "josé", NFD "jose" + U+0301) would break the new unique index: one
-- keeps the address (an account with a password first, as it logs in with it; then the oldest),
-- the others keep their row, tasks and sessions but lose the address (email becomes null), so
-- password login reaches only the account that kept it.
UPDATE "users" SET "email" = NULL, "updated_at" = now()
WHERE "id" IN (
  SELECT "id" FROM (
    SELECT "id", row_number() OVER (
      PARTITION BY lower(normalize("email", NFC))
      ORDER BY "password_hash" IS NULL, "created_at", "id"
    ) AS "rank"
    FROM "users" WHERE "email" IS NOT NULL
  ) AS "ranked"
  WHERE "rank" > 1
);--> statement-breakpoint
-- Stored as new ones are: in normal form C.
UPDATE "users" SET "email" = normalize("email", NFC), "updated_at" = now()
WHERE "email" IS NOT NULL AND "email" <> normalize("email", NFC);--> statement-breakpoint
CREATE UNIQUE INDEX "users_email_lower_key" ON "users" USING btree (lower(normalize("email", NFC)));
