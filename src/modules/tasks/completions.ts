import { and, eq, sql } from 'drizzle-orm'
import { type Db, queryRows } from '../../db/client'
import { taskCompletions, tasks } from '../../db/schema'
import type { Expected } from '../../http/conditional'
import { validationFailed } from '../../http/problem'
import type { ListPosition } from './cursor'
import { type Due, parseDue } from './due'
import { taskColumns } from './list'
import type { Completion, RecurrenceInputValue, TaskRecord } from './model'
import { advance, type StoredRecurrence, startSeries } from './recurrence'
import { lockUser } from './tree'

const needsDue = (field: string) =>
  validationFailed(`The request is invalid: a recurring task needs a due date (${field}).`, [
    { field, message: 'a recurring task needs a due date' },
  ])

/** The task's due value, as `parseDue` gives it. */
export const dueOf = (row: Pick<TaskRecord, 'dueDate' | 'dueAt'>): Due | undefined =>
  row.dueDate !== null
    ? { kind: 'date', date: row.dueDate }
    : row.dueAt
      ? { kind: 'instant', at: row.dueAt }
      : undefined

/**
 * The stored recurrence for a rule the client sent, starting at `due` (at the wall-clock time
 * `start` when given); a 400 without a due date.
 */
export function newRecurrence(
  input: RecurrenceInputValue,
  due: Due | undefined,
  start?: Temporal.PlainDateTime,
): StoredRecurrence | null {
  if (input === null) return null
  if (!due) throw needsDue('recurrence')
  return startSeries({ rule: input.rule, tz: input.tz ?? 'UTC', from: input.from ?? 'due' }, due, 1, start)
}

/**
 * The task's recurrence after an update that sets `recurrence` or `due_date` (undefined: the
 * one it has stays). Reads the task in the caller's transaction, in the user's turn, locked.
 * A new rule starts a new series; a moved due date keeps the series' position (for COUNT).
 */
export async function recurrenceAfterUpdate(
  tx: Db,
  userId: string,
  id: number,
  input: { recurrence?: RecurrenceInputValue; due_date?: string | null },
  expected: Expected,
): Promise<{ value: StoredRecurrence | null } | undefined> {
  await lockUser(tx, userId)
  const [row] = await tx
    .select({ dueDate: tasks.dueDate, dueAt: tasks.dueAt, recurrence: tasks.recurrence, version: tasks.version })
    .from(tasks)
    .where(and(eq(tasks.id, id), eq(tasks.userId, userId)))
    .for('update')
  // A failed If-Match is answered by the update (412) before any rule about the task's state.
  if (!row || !versionAllowed(expected, row.version)) return undefined
  const due = input.due_date === undefined ? dueOf(row) : input.due_date === null ? undefined : parseDue(input.due_date)
  if (input.recurrence !== undefined) return { value: newRecurrence(input.recurrence, due) }
  if (!row.recurrence) return undefined
  if (!due) throw needsDue('due_date')
  return { value: startSeries(row.recurrence, due, row.recurrence.index) }
}

const versionAllowed = (expected: Expected, version: number) =>
  expected === undefined || expected === 'any' || expected.includes(version)

const dueText = (due: Due) => (due.kind === 'date' ? due.date : due.at.toISOString())

/**
 * Completes an open recurring task: its due date moves to the next occurrence, it stays open,
 * its subtasks (every level) reopen, and the completion is recorded. When COUNT or UNTIL is
 * used up, `finish` completes it for good (the ordinary statement), and that is recorded too.
 * Runs in the caller's transaction, in the user's turn, with the task locked.
 */
export async function completeOccurrence(
  tx: Db,
  userId: string,
  row: TaskRecord & { now: Date },
  finish: () => Promise<TaskRecord | undefined>,
): Promise<TaskRecord | undefined> {
  const stored = row.recurrence as StoredRecurrence
  const due = dueOf(row) as Due
  const next = advance(stored, row.now)
  await tx.insert(taskCompletions).values({
    userId,
    taskId: row.id,
    completedAt: row.now,
    due: dueText(due),
    nextDue: next ? dueText(next.due) : null,
  })
  if (!next) return finish()
  await tx.execute(sql`
    with recursive down(id) as (
      select id from ${tasks} where parent_id = ${row.id}
      union all
      select t.id from ${tasks} t join down on t.parent_id = down.id
    )
    update ${tasks} set completed = false, completed_at = null,
      updated_at = greatest(clock_timestamp(), updated_at + interval '1 millisecond')
    where id in (select id from down) and completed`)
  const [moved] = await tx
    .update(tasks)
    .set({
      dueDate: next.due.kind === 'date' ? next.due.date : null,
      dueAt: next.due.kind === 'instant' ? next.due.at : null,
      recurrence: next.recurrence,
      updatedAt: sql`greatest(clock_timestamp(), ${tasks.updatedAt} + interval '1 millisecond')`,
    })
    .where(eq(tasks.id, row.id))
    .returning(taskColumns)
  return moved
}

/** Reads the task to complete, locked, with the database's clock; undefined when not the user's. */
export async function lockedTask(tx: Db, userId: string, id: number) {
  await lockUser(tx, userId)
  const [row] = await tx
    .select({ ...taskColumns, now: sql<Date>`clock_timestamp()`.mapWith((v) => new Date(v)) })
    .from(tasks)
    .where(and(eq(tasks.id, id), eq(tasks.userId, userId)))
    .for('update')
  return row as (TaskRecord & { now: Date }) | undefined
}

export interface CompletionPage {
  items: Completion[]
  next?: ListPosition
}

/** One page of a task's completions, newest first (then by id, descending). */
export async function listCompletions(
  db: Db,
  userId: string,
  taskId: number,
  limit: number,
  after?: ListPosition,
): Promise<CompletionPage> {
  const rows = await queryRows<{
    id: number
    task_id: number
    completed_at: string
    due: string
    next_due: string | null
  }>(
    db,
    sql`select id, task_id, completed_at, due, next_due from ${taskCompletions}
        where user_id = ${userId} and task_id = ${taskId}
          and (${after?.value ?? null}::timestamptz is null
               or (completed_at, id) < (${after?.value ?? null}::timestamptz, ${after?.id ?? 0}::int))
        order by completed_at desc, id desc limit ${limit + 1}`,
  )
  const items = rows.slice(0, limit).map((r) => ({
    id: r.id,
    task_id: r.task_id,
    completed_at: new Date(r.completed_at).toISOString(),
    due: r.due,
    next_due: r.next_due,
  }))
  const last = items.at(-1)
  const next = rows.length > limit && last ? { value: last.completed_at, id: last.id } : undefined
  return { items, next }
}

/** Drops the completions of tasks purged from the trash (they can never come back). */
export async function dropCompletions(tx: Db, userId: string, taskIds: number[]): Promise<void> {
  if (taskIds.length === 0) return
  await tx
    .delete(taskCompletions)
    .where(
      and(eq(taskCompletions.userId, userId), sql`${taskCompletions.taskId} = any(${`{${taskIds.join(',')}}`}::int[])`),
    )
}
