import { and, eq, not, sql } from 'drizzle-orm'
import type { Db } from '../../db/client'
import { tasks } from '../../db/schema'
import { trimText } from '../../http/text'
import { parseDue } from './due'
import { taskColumns } from './list'
import type { CreateTaskInput, TaskRecord, UpdateTaskInput } from './model'
import { normaliseTags } from './tags'

export { listTasks } from './list'

// Strictly later than the previous value even when two changes land in the same millisecond.
const nextUpdatedAt = sql`greatest(clock_timestamp(), ${tasks.updatedAt} + interval '1 millisecond')`

// Completing keeps the first completion time of a task that was already complete.
const completedAtFor = (completed: boolean) =>
  completed ? sql`coalesce(${tasks.completedAt}, clock_timestamp())` : sql`null`

const owned = (userId: string, id: number) => and(eq(tasks.id, id), eq(tasks.userId, userId))

/** The columns that the optional writable fields map to; undefined leaves a column as it is. */
function optionalColumns(input: UpdateTaskInput) {
  const tags = input.tags === undefined ? undefined : normaliseTags(input.tags)
  const due = input.due_date == null ? undefined : parseDue(input.due_date)
  return {
    description: input.description,
    priority: input.priority,
    tags: tags?.tags,
    tagKeys: tags?.keys,
    ...(input.due_date === undefined
      ? {}
      : { dueDate: due?.kind === 'date' ? due.date : null, dueAt: due?.kind === 'instant' ? due.at : null }),
  }
}

export async function getTask(db: Db, userId: string, id: number): Promise<TaskRecord | undefined> {
  const [row] = await db.select(taskColumns).from(tasks).where(owned(userId, id))
  return row
}

export async function createTask(db: Db, userId: string, input: CreateTaskInput): Promise<TaskRecord> {
  const completed = input.completed ?? false
  const [row] = await db
    .insert(tasks)
    .values({
      ...optionalColumns(input),
      userId,
      title: trimText(input.title),
      completed,
      completedAt: completed ? sql`now()` : null,
    })
    .returning(taskColumns)
  return row as TaskRecord
}

export async function updateTask(db: Db, userId: string, id: number, input: UpdateTaskInput) {
  const [row] = await db
    .update(tasks)
    .set({
      ...optionalColumns(input),
      title: input.title === undefined ? undefined : trimText(input.title),
      completed: input.completed,
      completedAt: input.completed === undefined ? undefined : completedAtFor(input.completed),
      updatedAt: nextUpdatedAt,
    })
    .where(owned(userId, id))
    .returning(taskColumns)
  return row
}

/** Sets `completed`, or flips it when `completed` is undefined, in one atomic statement. */
export async function setCompleted(db: Db, userId: string, id: number, completed: boolean | undefined) {
  const [row] = await db
    .update(tasks)
    .set(
      completed === undefined
        ? {
            completed: not(tasks.completed),
            completedAt: sql`case when ${tasks.completed} then null else clock_timestamp() end`,
            updatedAt: nextUpdatedAt,
          }
        : { completed, completedAt: completedAtFor(completed), updatedAt: nextUpdatedAt },
    )
    .where(owned(userId, id))
    .returning(taskColumns)
  return row
}

export async function deleteTask(db: Db, userId: string, id: number): Promise<boolean> {
  const deleted = await db.delete(tasks).where(owned(userId, id)).returning({ id: tasks.id })
  return deleted.length > 0
}
