import { sql } from 'drizzle-orm'
import { boolean, check, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core'

// Millisecond precision: what JavaScript dates and JSON carry, so a timestamp read back and
// put into a pagination cursor compares exactly equal to the stored one.
const instant = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: 'date' })

export const users = pgTable(
  'users',
  {
    id: text('id').primaryKey(),
    email: text('email'),
    name: text('name'),
    /** argon2id; null for users known only through external tokens (they cannot log in yet). */
    passwordHash: text('password_hash'),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('users_email_lower_key').on(sql`lower(${t.email})`),
    check('users_id_length', sql`char_length(${t.id}) between 1 and 255`),
  ],
)

export const tasks = pgTable(
  'tasks',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    title: text('title').notNull(),
    description: text('description'),
    completed: boolean('completed').notNull().default(false),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (t) => [
    // Serves the list: one user's tasks, newest first, keyset-paginated on (created_at, id).
    index('tasks_user_created_idx').on(t.userId, t.createdAt.desc(), t.id.desc()),
    check('tasks_title_length', sql`char_length(${t.title}) between 1 and 255`),
    check('tasks_description_length', sql`${t.description} is null or char_length(${t.description}) <= 1000`),
  ],
)

/** A sign-in: the family of refresh tokens that rotate from one login. */
export const sessions = pgTable(
  'sessions',
  {
    id: uuid('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: instant('created_at').notNull().defaultNow(),
    revokedAt: instant('revoked_at'),
  },
  (t) => [index('sessions_user_idx').on(t.userId)],
)

/** Refresh tokens, stored only as SHA-256 hashes; `used_at` marks a rotated one. */
export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    sessionId: uuid('session_id')
      .notNull()
      .references(() => sessions.id, { onDelete: 'cascade' }),
    createdAt: instant('created_at').notNull().defaultNow(),
    expiresAt: instant('expires_at').notNull(),
    usedAt: instant('used_at'),
  },
  (t) => [index('refresh_tokens_session_idx').on(t.sessionId)],
)

/**
 * Failed logins per key (`email:...` or `address:...`) in a fixed window. In Postgres, so the
 * limit holds across every instance of the API.
 */
export const loginFailures = pgTable(
  'login_failures',
  {
    key: text('key').primaryKey(),
    failures: integer('failures').notNull(),
    windowStart: instant('window_start').notNull(),
  },
  // Serves the clean-up of windows long past, which runs on every login attempt.
  (t) => [index('login_failures_window_idx').on(t.windowStart)],
)

export const schema = { users, tasks, sessions, refreshTokens, loginFailures }
export type UserRow = typeof users.$inferSelect
export type TaskRow = typeof tasks.$inferSelect
