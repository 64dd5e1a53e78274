import { and, eq, not, sql } from 'drizzle-orm'
import type { Db } from '../../db/client'
import { tasks } from '../../db/schema'
import { statement } from '../../db/statements'
import { trimText } from '../../schema/text'
import { parseDue } from './due'
import { taskColumns } from './list'
import type { CreateTaskInput, TaskRecord, UpdateTaskInput } from './model'
import { normaliseTags } from './tags'

export { listTasks } from './list'

// Every statement here is prepared once (see `statement`); values go in as placeholders.
const p = sql.placeholder

// Strictly later than the previous value even when two changes land in the same millisecond.
const nextUpdatedAt = sql`greatest(clock_timestamp(), ${tasks.updatedAt} + interval '1 millisecond')`

// Completing keeps the first completion time of a task that was already complete.
const completedAtFor = (completed: boolean) =>
  completed ? sql`coalesce(${tasks.completedAt}, clock_timestamp())` : sql`null`

const owned = and(eq(tasks.id, p('id')), eq(tasks.userId, p('userId')))

type Row = TaskRecord[]

// Drizzle's timestamp encoder cannot take null from a placeholder: the instant goes in as text.
const boundValue = (column: string) => (column === 'dueAt' ? sql`${p(column)}::timestamptz` : p(column))

export async function getTask(db: Db, userId: string, id: number): Promise<TaskRecord | undefined> {
  const get = statement<Row>(db, 'task get', () => db.select(taskColumns).from(tasks).where(owned))
  const [row] = await get.execute({ id, userId })
  return row
}

/** The columns behind the optional writable fields that `input` names, as values. */
function optionalValues(input: UpdateTaskInput): Record<string, unknown> {
  const values: Record<string, unknown> = {}
  if (input.description !== undefined) values.description = input.description
  if (input.priority !== undefined) values.priority = input.priority
  if (input.tags !== undefined) {
    const { tags, keys } = normaliseTags(input.tags)
    values.tags = tags
    values.tagKeys = keys
  }
  if (input.due_date !== undefined) {
    const due = input.due_date === null ? undefined : parseDue(input.due_date)
    values.dueDate = due?.kind === 'date' ? due.date : null
    values.dueAt = due?.kind === 'instant' ? due.at.toISOString() : null
  }
  return values
}

export async function createTask(db: Db, userId: string, input: CreateTaskInput): Promise<TaskRecord> {
  const insert = statement<Row>(db, 'task create', () =>
    db
      .insert(tasks)
      .values({
        userId: p('userId'),
        title: p('title'),
        description: p('description'),
        completed: p('completed'),
        completedAt: sql`case when ${p('completed')}::boolean then now() end`,
        priority: p('priority'),
        tags: p('tags'),
        tagKeys: p('tagKeys'),
        dueDate: p('dueDate'),
        dueAt: boundValue('dueAt'),
      })
      .returning(taskColumns),
  )
  const [row] = await insert.execute({
    description: null,
    priority: 'medium',
    tags: [],
    tagKeys: [],
    dueDate: null,
    dueAt: null,
    ...optionalValues(input),
    userId,
    title: trimText(input.title),
    completed: input.completed ?? false,
  })
  return row as TaskRecord
}

export async function updateTask(db: Db, userId: string, id: number, input: UpdateTaskInput) {
  const values = optionalValues(input)
  if (input.title !== undefined) values.title = trimText(input.title)
  // One statement per combination of changed columns (and whether it completes or reopens).
  const columns = Object.keys(values).sort()
  const key = `task update ${columns.join(' ')} ${input.completed ?? ''}`
  const update = statement<Row>(db, key, () =>
    db
      .update(tasks)
      .set({
        ...Object.fromEntries(columns.map((column) => [column, boundValue(column)])),
        ...(input.completed !== undefined && {
          completed: input.completed,
          completedAt: completedAtFor(input.completed),
        }),
        updatedAt: nextUpdatedAt,
      })
      .where(owned)
      .returning(taskColumns),
  )
  const [row] = await update.execute({ ...values, id, userId })
  return row
}

/** Sets `completed`, or flips it when `completed` is undefined, in one atomic statement. */
export async function setCompleted(db: Db, userId: string, id: number, completed: boolean | undefined) {
  const change = statement<Row>(db, `task complete ${completed ?? 'toggle'}`, () =>
    db
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
      .where(owned)
      .returning(taskColumns),
  )
  const [row] = await change.execute({ id, userId })
  return row
}

export async function deleteTask(db: Db, userId: string, id: number): Promise<boolean> {
  const remove = statement<{ id: number }[]>(db, 'task delete', () =>
    db.delete(tasks).where(owned).returning({ id: tasks.id }),
  )
  return (await remove.execute({ id, userId })).length > 0
}
