import { sql } from 'drizzle-orm'
import {
  type AnyPgColumn,
  boolean,
  check,
  customType,
  date,
  foreignKey,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core'
import type { StoredRecurrence } from '../modules/tasks/recurrence'
import { emailKey } from './email-key'
import { instantFromText } from './timestamps'

// Millisecond precision: what JavaScript dates and JSON carry, so a timestamp read back and
// put into a pagination cursor compares exactly equal to the stored one. Read with
// `instantFromText`: Drizzle's own reading moves years below 100 by 1,900 or 2,000 years.
const instant = (name: string) => {
  const builder = timestamp(name, { withTimezone: true, precision: 3, mode: 'date' })
  // `build` is Drizzle's (internal) hook that makes the column of a table from its builder.
  type Built = { mapFromDriverValue(value: unknown): unknown }
  const internal = builder as unknown as { build(table: unknown): Built }
  const build = internal.build.bind(builder)
  internal.build = (table) => {
    const column = build(table)
    column.mapFromDriverValue = (value) => (typeof value === 'string' ? instantFromText(value) : value)
    return column
  }
  return builder
}

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
    /**
     * For users whose profile comes from an issuer's tokens: a digest of the `name` and `email`
     * claims last applied, and the `iat` of that token. A token changes the profile only when
     * its claims differ from these and it is not older (see createUserProvisioner).
     */
    profileClaims: text('profile_claims'),
    profileClaimsAt: instant('profile_claims_at'),
    /**
     * Signed up here (POST /api/auth/register), with an id this API chose. An issuer's token
     * (JWKS) never signs in as such an account, whatever its `sub` says: the issuer's word is
     * trusted for its own users only. False for users first seen in a token.
     */
    localAccount: boolean('local_account').notNull().default(false),
    /**
     * The user's change counter: every write to one of the user's tasks or lists draws the next
     * value (the `sync_next` function, drizzle/0008_sync.sql) as that row's `version`, or as a
     * tombstone's `seq`. Drawing it updates this row, which holds the row lock until commit, so
     * one user's writes commit in the order of the numbers they drew: the change feed is gapless.
     */
    syncSeq: integer('sync_seq').notNull().default(0),
    /** Tombstones at or below this counter value were purged: an older sync token is a 410. */
    syncHorizon: integer('sync_horizon').notNull().default(0),
  },
  (t) => [
    // One password login per address, compared as `normaliseEmail` does (case and Unicode
    // form). Users known only through an issuer's tokens may show an address a password
    // account owns: they are separate accounts (see the README, "External identities").
    uniqueIndex('users_password_email_key').on(emailKey(t.email)).where(sql`${t.passwordHash} is not null`),
    check('users_id_length', sql`char_length(${t.id}) between 1 and 255`),
  ],
)

// Fractional-index keys (see src/modules/tasks/positions.ts) compare bytewise, whatever the
// server's locale.
const orderKey = customType<{ data: string }>({ dataType: () => 'text collate "C"' })

/**
 * A user's lists. Exactly one per user is the default ("Inbox", made by a trigger on `users`
 * insert, whoever creates the user). The counts are kept by triggers on `tasks`.
 */
export const lists = pgTable(
  'lists',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    color: text('color'),
    position: orderKey('position').notNull(),
    isDefault: boolean('is_default').notNull().default(false),
    openCount: integer('open_count').notNull().default(0),
    completedCount: integer('completed_count').notNull().default(0),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
    /** The owner's change counter when the list last changed (set by a trigger; see users.syncSeq). */
    version: integer('version')
      .notNull()
      .$defaultFn(() => sql`0`),
  },
  (t) => [
    uniqueIndex('lists_user_name_key').on(t.userId, sql`lower(${t.name})`),
    uniqueIndex('lists_user_default_key').on(t.userId).where(sql`${t.isDefault}`),
    index('lists_user_position_idx').on(t.userId, t.position, t.id),
    uniqueIndex('lists_user_version_key').on(t.userId, t.version),
    // Lets tasks reference (list, owner) together, so a task can never sit in another user's list.
    uniqueIndex('lists_id_user_key').on(t.id, t.userId),
    check('lists_name_length', sql`char_length(${t.name}) between 1 and 100`),
    check('lists_color_format', sql`${t.color} is null or ${t.color} ~ '^#[0-9a-f]{6}$'`),
  ],
)

/** Declared in order of importance, so the enum's own ordering sorts low < medium < high. */
export const taskPriority = pgEnum('task_priority', ['low', 'medium', 'high'])

// Only ever written by Postgres (a generated column) and read by `@@`; never selected.
const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' })

// Every document carries English stems (so "meetings" finds "meeting") and the plain lower-cased
// words (so a partial last word can match as a prefix, and stop words still match).
const searchDocument = sql.raw(
  `to_tsvector('english', title || ' ' || coalesce(description, '')) || to_tsvector('simple', title || ' ' || coalesce(description, ''))`,
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
    priority: taskPriority('priority').notNull().default('medium'),
    /** As the user spelled them (first spelling wins); `tag_keys` holds the same, lower-cased. */
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    tagKeys: text('tag_keys').array().notNull().default(sql`'{}'::text[]`),
    /** A due date is either a calendar date or an instant, never both. */
    dueDate: date('due_date', { mode: 'string' }),
    dueAt: instant('due_at'),
    /** One sortable value for both kinds: a calendar date counts from its start in UTC. */
    dueSort: instant('due_sort').generatedAlwaysAs(sql.raw(`coalesce(due_at, due_date::timestamp at time zone 'UTC')`)),
    completedAt: instant('completed_at'),
    search: tsvector('search').notNull().generatedAlwaysAs(searchDocument),
    // The three below are filled by the `tasks_defaults` trigger when an insert leaves them
    // null (the owner's default list; see drizzle/0007_lists.sql), so they are optional here.
    listId: integer('list_id')
      .notNull()
      .$defaultFn(() => sql`null`),
    parentId: integer('parent_id').references((): AnyPgColumn => tasks.id, { onDelete: 'cascade' }),
    position: orderKey('position')
      .notNull()
      .$defaultFn(() => sql`null`),
    /**
     * Where the task sits in its list's outline: the list id, zero-padded, then the positions
     * of its ancestors and its own, each after a "/" (which sorts before every key character),
     * so each task sorts right before its subtasks. Written by the service with the position.
     */
    outline: orderKey('outline')
      .notNull()
      .$defaultFn(() => sql`null`),
    /** Direct children, all and completed; kept by triggers. */
    subtaskCount: integer('subtask_count').notNull().default(0),
    completedSubtaskCount: integer('completed_subtask_count').notNull().default(0),
    /** The owner's change counter when the task last changed (set by a trigger; see users.syncSeq). */
    version: integer('version')
      .notNull()
      .$defaultFn(() => sql`0`),
    /** How the task repeats, with where its series stands; null for a one-off task. */
    recurrence: jsonb('recurrence').$type<StoredRecurrence>(),
  },
  (t) => [
    // Each sort is keyset-paginated on (its value, id) within one user's tasks.
    // Plain ascending columns: scanned backwards they give `desc` in Postgres's default
    // nulls-first order, which `created_at desc nulls last` (drizzle's `.desc()`) would not.
    index('tasks_user_created_idx').on(t.userId, t.createdAt, t.id),
    index('tasks_user_updated_idx').on(t.userId, t.updatedAt, t.id),
    index('tasks_user_title_idx').on(t.userId, sql`lower(${t.title}) collate "C"`, t.id),
    index('tasks_user_due_idx').on(t.userId, t.dueSort, t.id),
    index('tasks_user_priority_idx').on(t.userId, t.priority, t.id),
    index('tasks_user_completed_at_idx').on(t.userId, t.completedAt, t.id),
    // Overdue: open tasks by due value.
    index('tasks_user_open_due_idx').on(t.userId, t.dueSort).where(sql`not ${t.completed}`),
    // No pending list: each write updates the index at once, so searches never scan a backlog
    // of unindexed rows (the embedded database has no autovacuum to merge one).
    index('tasks_tag_keys_idx').using('gin', t.tagKeys).with({ fastupdate: false }),
    index('tasks_search_idx').using('gin', t.search).with({ fastupdate: false }),
    // Outline order (sort=position): per user, per list, and the children of one task.
    index('tasks_user_outline_idx').on(t.userId, t.outline, t.id),
    index('tasks_list_outline_idx').on(t.listId, t.outline, t.id),
    index('tasks_parent_outline_idx').on(t.parentId, t.outline, t.id),
    // A sibling group in position order: where a new or moved task goes.
    index('tasks_siblings_idx').on(t.listId, t.parentId, t.position),
    // The change feed: one user's tasks in the order they last changed.
    uniqueIndex('tasks_user_version_key').on(t.userId, t.version),
    foreignKey({ columns: [t.listId, t.userId], foreignColumns: [lists.id, lists.userId] }).onDelete('cascade'),
    check('tasks_due_one_kind', sql`${t.dueDate} is null or ${t.dueAt} is null`),
    check('tasks_tags_count', sql`cardinality(${t.tags}) <= 20 and cardinality(${t.tagKeys}) = cardinality(${t.tags})`),
    check('tasks_completed_at', sql`${t.completed} = (${t.completedAt} is not null)`),
    check('tasks_title_length', sql`char_length(${t.title}) between 1 and 255`),
    check('tasks_recurrence_due', sql`${t.recurrence} is null or ${t.dueSort} is not null`),
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
 * Attempts per key in a fixed window: failed logins (`email:...`, `address:...`), sign-ups
 * (`signup:...`) and refreshes (`refresh:...`); see createAttemptCounter. In Postgres, so the
 * limits hold across every instance of the API. (`failures` counts attempts of every kind.)
 */
export const loginFailures = pgTable(
  'login_failures',
  {
    key: text('key').primaryKey(),
    failures: integer('failures').notNull(),
    windowStart: instant('window_start').notNull(),
  },
  // Serves the clean-up of windows long past, which runs on every counted attempt.
  (t) => [index('login_failures_window_idx').on(t.windowStart)],
)

/**
 * What the change feed says of tasks and lists that are gone: one row per deleted entity, its
 * `seq` drawn like a version. Written by triggers; a restored task's row is removed.
 */
export const tombstones = pgTable(
  'tombstones',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: ['task', 'list'] }).notNull(),
    entityId: integer('entity_id').notNull(),
    seq: integer('seq').notNull(),
    reason: text('reason', { enum: ['deleted', 'trashed', 'purged'] }).notNull(),
    deletedAt: instant('deleted_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.kind, t.entityId] }),
    uniqueIndex('tombstones_user_seq_key').on(t.userId, t.seq),
    index('tombstones_deleted_at_idx').on(t.deletedAt),
    check('tombstones_kind', sql`${t.kind} in ('task', 'list')`),
    check('tombstones_reason', sql`${t.reason} in ('deleted', 'trashed', 'purged')`),
  ],
)

/**
 * Deleted tasks, until restored or purged: one row per deleted task (the root), holding it and
 * its subtasks as they were (`rows`, parents before children), and where it was.
 */
export const trash = pgTable(
  'trash',
  {
    taskId: integer('task_id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    listId: integer('list_id').notNull(),
    parentId: integer('parent_id'),
    deletedAt: instant('deleted_at').notNull().defaultNow(),
    rows: jsonb('rows').notNull(),
  },
  (t) => [
    index('trash_user_deleted_idx').on(t.userId, t.deletedAt, t.taskId),
    index('trash_deleted_at_idx').on(t.deletedAt),
  ],
)

/**
 * Answers stored for `Idempotency-Key` retries, per user and key. `status` is null while the
 * first request runs.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    fingerprint: text('fingerprint').notNull(),
    status: integer('status'),
    headers: jsonb('headers'),
    body: text('body'),
    createdAt: instant('created_at').notNull().defaultNow(),
    expiresAt: instant('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.key] }), index('idempotency_keys_expires_idx').on(t.expiresAt)],
)

/** Single-use tickets for the events stream (browsers' EventSource sends no Authorization). */
export const streamTickets = pgTable(
  'stream_tickets',
  {
    ticketHash: text('ticket_hash').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    expiresAt: instant('expires_at').notNull(),
    usedAt: instant('used_at'),
  },
  (t) => [index('stream_tickets_expires_idx').on(t.expiresAt)],
)

/**
 * Each completion of a recurring task: which occurrence was done, and when. No foreign key to
 * tasks: a trashed task's row is deleted and comes back with its id on restore, and its
 * completions must survive that; purging the trash deletes them.
 */
export const taskCompletions = pgTable(
  'task_completions',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    taskId: integer('task_id').notNull(),
    completedAt: instant('completed_at').notNull(),
    /** The due value of the occurrence that was completed, as the task showed it. */
    due: text('due').notNull(),
    /** Where the due date went; null when that completion ended the series. */
    nextDue: text('next_due'),
  },
  (t) => [index('task_completions_task_idx').on(t.taskId, t.completedAt, t.id)],
)

/**
 * A task's reminders: an instant, or an offset before the due instant. `fire_at` is when it
 * fires for the task's current occurrence (null while it cannot: the task is done, or an offset
 * reminder has no due time). No foreign key to tasks, as with completions: a trashed task's row
 * is deleted and comes back with its id on restore, and its reminders must survive that.
 */
export const reminders = pgTable(
  'reminders',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    taskId: integer('task_id').notNull(),
    at: instant('at'),
    /** An ISO 8601 duration (`PT15M`) before the due instant. */
    before: text('before'),
    fireAt: instant('fire_at'),
    firedAt: instant('fired_at'),
    /** Fired later than its time (everything was down when it came due). */
    late: boolean('late').notNull().default(false),
    acknowledgedAt: instant('acknowledged_at'),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (t) => [
    // A task's reminders in order (every task answer reads them): both of the subquery's
    // conditions in one index, so no plan prefers scanning all of the user's reminders.
    index('reminders_task_idx').on(t.taskId, t.userId, t.id),
    index('reminders_user_fired_idx').on(t.userId, t.firedAt, t.id),
    // What the scheduler claims: armed and not yet fired, by time.
    index('reminders_pending_idx').on(t.fireAt).where(sql`${t.firedAt} is null and ${t.fireAt} is not null`),
    check('reminders_one_kind', sql`(${t.at} is null) <> (${t.before} is null)`),
  ],
)

/** The secret a user's calendar feed URL carries, stored hashed; one per user. */
export const calendarKeys = pgTable('calendar_keys', {
  userId: text('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  keyHash: text('key_hash').notNull().unique(),
  createdAt: instant('created_at').notNull().defaultNow(),
})

export const schema = {
  users,
  lists,
  tasks,
  sessions,
  refreshTokens,
  loginFailures,
  tombstones,
  trash,
  idempotencyKeys,
  streamTickets,
  taskCompletions,
  reminders,
  calendarKeys,
}
export type UserRow = typeof users.$inferSelect
export type TaskRow = typeof tasks.$inferSelect
export type ListRow = typeof lists.$inferSelect
