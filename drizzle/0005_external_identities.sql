-- Emails are unique among accounts that sign in with a password only. A user known only
-- through an issuer's tokens keeps the address its issuer gives it (for display), even when a
-- password account owns that address: they are separate accounts, never linked by email.
-- Users that were given no email because of such a collision get it with their next token.
DROP INDEX "users_email_lower_key";--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "profile_claims" text;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "profile_claims_at" timestamp (3) with time zone;--> statement-breakpoint
CREATE UNIQUE INDEX "users_password_email_key" ON "users" USING btree (lower(normalize("email", NFC))) WHERE "users"."password_hash" is not null;
