import { and, asc, eq, isNotNull, not } from 'drizzle-orm'
import type { Db } from '../../db/client'
import { calendarKeys, tasks, users } from '../../db/schema'
import { taskReminders } from '../reminders/service'
import type { FeedTask } from './feed'

// Unguessable (256 bits), so comparing its hash by an index lookup leaks nothing useful: timing
// could only tell how much of a SHA-256 digest a guess shares, never the key.
const hash = (key: string) => new Bun.CryptoHasher('sha256').update(key).digest('hex')

/** A new key for the user, replacing the one before (which stops working at once). */
export async function createKey(db: Db, userId: string): Promise<{ key: string; createdAt: Date }> {
  const key = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
  const row = { userId, keyHash: hash(key), createdAt: new Date() }
  const [saved] = await db
    .insert(calendarKeys)
    .values(row)
    .onConflictDoUpdate({ target: calendarKeys.userId, set: { keyHash: row.keyHash, createdAt: row.createdAt } })
    .returning({ createdAt: calendarKeys.createdAt })
  return { key, createdAt: saved?.createdAt as Date }
}

/** When the user's key was made; undefined without one. */
export async function keyCreatedAt(db: Db, userId: string): Promise<Date | undefined> {
  const [row] = await db
    .select({ createdAt: calendarKeys.createdAt })
    .from(calendarKeys)
    .where(eq(calendarKeys.userId, userId))
  return row?.createdAt
}

export async function revokeKey(db: Db, userId: string): Promise<void> {
  await db.delete(calendarKeys).where(eq(calendarKeys.userId, userId))
}

/**
 * The feed's owner when `key` is the key of the user the path names (both in one lookup, so
 * another user's key opens nothing); undefined otherwise.
 */
export async function feedOwner(
  db: Db,
  userId: string,
  key: string,
): Promise<{ name: string | null; email: string | null } | undefined> {
  const [row] = await db
    .select({ name: users.name, email: users.email })
    .from(calendarKeys)
    .innerJoin(users, eq(users.id, calendarKeys.userId))
    .where(and(eq(calendarKeys.userId, userId), eq(calendarKeys.keyHash, hash(key))))
  return row
}

/**
 * The user's open tasks that have a due date, subtasks included (a subtask's own due date is a
 * deadline too; completing a task completes its subtasks, so none is left under a done one).
 * Trashed tasks are not in this table.
 */
export function feedTasks(db: Db, userId: string): Promise<FeedTask[]> {
  return db
    .select({
      id: tasks.id,
      title: tasks.title,
      description: tasks.description,
      dueDate: tasks.dueDate,
      dueAt: tasks.dueAt,
      recurrence: tasks.recurrence,
      tags: tasks.tags,
      priority: tasks.priority,
      version: tasks.version,
      createdAt: tasks.createdAt,
      updatedAt: tasks.updatedAt,
      reminders: taskReminders,
    })
    .from(tasks)
    .where(and(eq(tasks.userId, userId), not(tasks.completed), isNotNull(tasks.dueSort)))
    .orderBy(asc(tasks.dueSort), asc(tasks.id))
}
