import { and, desc, eq, lt, not, or, type SQL, sql } from 'drizzle-orm'
import type { Db } from '../../db/client'
import { type TaskRow, tasks } from '../../db/schema'
import { trimText } from '../../http/text'
import type { ListPosition } from './cursor'
import type { CreateTaskInput, TaskStatus, UpdateTaskInput } from './model'

// Strictly later than the previous value even when two changes land in the same millisecond.
const nextUpdatedAt = sql`greatest(clock_timestamp(), ${tasks.updatedAt} + interval '1 millisecond')`

const owned = (userId: string, id: number) => and(eq(tasks.id, id), eq(tasks.userId, userId))

export interface ListOptions {
  status: TaskStatus
  limit: number
  after?: ListPosition
}

/** One page, newest first; `hasMore` tells whether another page follows. */
export async function listTasks(db: Db, userId: string, options: ListOptions) {
  const conditions: (SQL | undefined)[] = [eq(tasks.userId, userId)]
  if (options.status !== 'all') conditions.push(eq(tasks.completed, options.status === 'completed'))
  const after = options.after
  if (after)
    conditions.push(
      or(lt(tasks.createdAt, after.createdAt), and(eq(tasks.createdAt, after.createdAt), lt(tasks.id, after.id))),
    )
  const rows = await db
    .select()
    .from(tasks)
    .where(and(...conditions))
    .orderBy(desc(tasks.createdAt), desc(tasks.id))
    .limit(options.limit + 1)
  return { rows: rows.slice(0, options.limit), hasMore: rows.length > options.limit }
}

export async function getTask(db: Db, userId: string, id: number): Promise<TaskRow | undefined> {
  const [row] = await db.select().from(tasks).where(owned(userId, id))
  return row
}

export async function createTask(db: Db, userId: string, input: CreateTaskInput): Promise<TaskRow> {
  const [row] = await db
    .insert(tasks)
    .values({
      userId,
      title: trimText(input.title),
      description: input.description ?? null,
      completed: input.completed ?? false,
    })
    .returning()
  return row as TaskRow
}

export async function updateTask(db: Db, userId: string, id: number, input: UpdateTaskInput) {
  const [row] = await db
    .update(tasks)
    .set({
      title: input.title === undefined ? undefined : trimText(input.title),
      description: input.description,
      completed: input.completed,
      updatedAt: nextUpdatedAt,
    })
    .where(owned(userId, id))
    .returning()
  return row
}

/** Sets `completed`, or flips it when `completed` is undefined, in one atomic statement. */
export async function setCompleted(db: Db, userId: string, id: number, completed: boolean | undefined) {
  const [row] = await db
    .update(tasks)
    .set({ completed: completed ?? not(tasks.completed), updatedAt: nextUpdatedAt })
    .where(owned(userId, id))
    .returning()
  return row
}

export async function deleteTask(db: Db, userId: string, id: number): Promise<boolean> {
  const deleted = await db.delete(tasks).where(owned(userId, id)).returning({ id: tasks.id })
  return deleted.length > 0
}
