-- Accounts that signed up here are marked, so that an issuer's token whose `sub` happens to be
-- (or was made to be) such an account's id cannot sign in as it. Existing rows: an account with
-- a password whose profile never came from a token's claims signed up here. (A user from an
-- external token that set a password here and whose tokens never carried a name or email is
-- counted as local too: it keeps its password login, and its issuer's tokens get a 401.)
ALTER TABLE "users" ADD COLUMN "local_account" boolean DEFAULT false NOT NULL;--> statement-breakpoint
UPDATE "users" SET "local_account" = true WHERE "password_hash" IS NOT NULL AND "profile_claims" IS NULL;
