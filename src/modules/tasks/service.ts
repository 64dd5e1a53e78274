import { and, eq, sql } from 'drizzle-orm'
import type { Db } from '../../db/client'
import { tasks } from '../../db/schema'
import { statement } from '../../db/statements'
import type { Expected } from '../../http/conditional'
import { preconditionFailed } from '../../http/problem'
import { trimText } from '../../schema/text'
import { remindersOfTask, replaceReminders, requireDueForOffsets } from '../reminders/service'
import { counterOf } from '../sync/service'
import { trashTask } from '../trash/service'
import { completeOccurrence, lockedTask, newRecurrence, recurrenceAfterUpdate } from './completions'
import { parseDue } from './due'
import { type ListOptions, listTasks, taskColumns } from './list'
import { type CreateTaskInput, type TaskRecord, toTask, type UpdateTaskInput } from './model'
import { placeNewTask } from './moves'
import { normaliseTags } from './tags'
import { lockUser, userTurn } from './tree'

export { listTasks, type TaskPage } from './list'

/** A page with the change counter it is current to (what its `ETag` names). */
export async function listTasksTagged(db: Db, userId: string, options: ListOptions) {
  const page = await listTasks(db, userId, options)
  if (page.counter !== undefined) return { ...page, counter: page.counter }
  // An empty page read no counter. One read after it could already count a task created since,
  // and the tag would vouch for an emptiness that is gone: read it first, then the page again.
  const { seq } = await counterOf(db, userId)
  const again = await listTasks(db, userId, options)
  return { ...again, counter: again.counter ?? seq }
}
export { moveTask } from './moves'

// Every statement here is prepared once (see `statement`); values go in as placeholders.
const p = sql.placeholder

// Strictly later than the previous value even when two changes land in the same millisecond.
const nextUpdatedAt = sql`greatest(clock_timestamp(), ${tasks.updatedAt} + interval '1 millisecond')`

const owned = and(eq(tasks.id, p('id')), eq(tasks.userId, p('userId')))

type Row = TaskRecord[]

// Drizzle's timestamp encoder cannot take null from a placeholder: the instant goes in as text.
// The recurrence goes in as JSON text for the same reason.
const boundValue = (column: string) =>
  column === 'dueAt' ? sql`${p(column)}::timestamptz` : column === 'recurrence' ? sql`${p(column)}::jsonb` : p(column)

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

/** `seriesStart`: a recurring task's first occurrence as a wall-clock time, when its due instant is not it. */
export function createTask(
  db: Db,
  userId: string,
  input: CreateTaskInput,
  seriesStart?: Temporal.PlainDateTime,
): Promise<TaskRecord> {
  return db.transaction(async (tx) => {
    // Placing a task reads its neighbours: creates and moves of one user take turns.
    await lockUser(tx, userId)
    const place = await placeNewTask(
      tx,
      userId,
      { list_id: input.list_id, parent_id: input.parent_id },
      { afterId: input.after_id, beforeId: input.before_id },
    )
    const values = optionalValues(input)
    const due = input.due_date == null ? undefined : parseDue(input.due_date)
    const recurrence = input.recurrence === undefined ? null : newRecurrence(input.recurrence, due, seriesStart)
    const [row] = await tx
      .insert(tasks)
      .values({
        userId,
        title: trimText(input.title),
        completed: input.completed ?? false,
        completedAt: input.completed ? sql`now()` : null,
        ...values,
        dueAt: values.dueAt === undefined || values.dueAt === null ? null : new Date(values.dueAt as string),
        recurrence,
        ...place,
      } as typeof tasks.$inferInsert)
      .returning(taskColumns)
    const task = row as TaskRecord
    if (!input.reminders?.length) return task
    await replaceReminders(tx, userId, task.id, input.reminders)
    await requireDueForOffsets(tx, userId, task.id, 'reminders')
    return { ...task, reminders: await remindersOfTask(tx, userId, task.id) }
  })
}

/**
 * The task with its reminders read again. RETURNING shows them as they were before the
 * statement, whose triggers may have moved them (a due time or completion changed); a task that
 * had none still has none.
 */
async function withFreshReminders(db: Db, userId: string, row: TaskRecord | undefined) {
  if (!row || row.reminders.length === 0) return row
  return { ...row, reminders: await remindersOfTask(db, userId, row.id) }
}

/**
 * The versions `If-Match` allows (undefined: any), as a statement value: null checks nothing.
 * An array literal in text, which both drivers bind the same way.
 */
const versionsValue = (expected: Expected) =>
  expected === undefined || expected === 'any' ? null : `{${expected.join(',')}}`
const versionAllowed = sql`(${p('versions')}::int[] is null or ${tasks.version} = any(${p('versions')}::int[]))`

/**
 * After a conditional write changed nothing: a 412 with the task as it is if it exists
 * (undefined otherwise: the caller's 404).
 */
async function failedPrecondition(db: Db, userId: string, id: number, expected: Expected): Promise<undefined> {
  if (expected === undefined) return undefined
  const current = await getTask(db, userId, id)
  if (current) throw preconditionFailed(toTask(current), 'task')
  return undefined
}

export async function updateTask(
  db: Db,
  userId: string,
  id: number,
  input: UpdateTaskInput,
  expected?: Expected,
): Promise<TaskRecord | undefined> {
  // Completing or reopening reaches subtasks or ancestors: the statement of /complete does it,
  // in the same transaction as the other fields, so the condition covers both.
  if (input.completed !== undefined) {
    const { completed, ...rest } = input
    return db.transaction(async (tx) => {
      if (Object.keys(rest).length > 0) {
        if (!(await updateTask(tx, userId, id, rest, expected))) return undefined
        return setCompleted(tx, userId, id, completed)
      }
      return setCompleted(tx, userId, id, completed, expected)
    })
  }
  const values = optionalValues(input)
  if (input.title !== undefined) values.title = trimText(input.title)
  const series = input.recurrence !== undefined || input.due_date !== undefined
  if (!series && input.reminders === undefined) return updateRow(db, userId, id, values, expected)
  return db.transaction(async (tx) => {
    // A new rule or a moved due date changes the series: read with the task, locked, first.
    if (series) {
      const changed = await recurrenceAfterUpdate(tx, userId, id, input, expected)
      if (changed) values.recurrence = changed.value === null ? null : JSON.stringify(changed.value)
    }
    const row = await updateRow(tx, userId, id, values, expected)
    if (!row) return undefined
    // After the task's own update: new reminders are armed for its new due time.
    if (input.reminders !== undefined) await replaceReminders(tx, userId, id, input.reminders)
    await requireDueForOffsets(tx, userId, id, input.reminders !== undefined ? 'reminders' : 'due_date')
    return { ...row, reminders: await remindersOfTask(tx, userId, id) }
  })
}

/** Writes `values` (column names to values) in one statement, if the version allows. */
async function updateRow(
  db: Db,
  userId: string,
  id: number,
  values: Record<string, unknown>,
  expected: Expected,
): Promise<TaskRecord | undefined> {
  // One statement per combination of changed columns.
  const columns = Object.keys(values).sort()
  const key = `task update ${columns.join(' ')}`
  const update = statement<Row>(db, key, () =>
    db
      .update(tasks)
      .set({
        ...Object.fromEntries(columns.map((column) => [column, boundValue(column)])),
        updatedAt: nextUpdatedAt,
      })
      // The user's turn first (see `setCompleted`): the version trigger takes it anyway, and
      // taking it after the task's row lock could deadlock with a move.
      .where(and(owned, versionAllowed, userTurn(p('userId'))))
      .returning(taskColumns),
  )
  const [row] = await update.execute({ ...values, id, userId, versions: versionsValue(expected) })
  return row ?? failedPrecondition(db, userId, id, expected)
}

/**
 * Sets `completed`, or flips it when `completed` is undefined, in one statement. Completing
 * completes the task's open subtasks at every level (each with its own completed_at); reopening
 * reopens its completed ancestors. The task's row is locked first, so a toggle reads the value
 * the previous toggle wrote.
 *
 * The statement locks a subtree (or a chain of ancestors) and, through the count triggers, the
 * parents around it; a move or a delete locks the same rows in another order. It takes the
 * user's turn (`userTurn`) before any of them, as moves do, so they queue instead of deadlocking.
 */
export async function setCompleted(
  db: Db,
  userId: string,
  id: number,
  completed: boolean | undefined,
  expected?: Expected,
): Promise<TaskRecord | undefined> {
  const row = await completeStatement(db, userId, id, completed, expected, false)
  if (row !== 'recurring') return withFreshReminders(db, userId, row)
  // The statement leaves an open recurring task alone: completing it moves it on instead.
  return db.transaction(async (tx) => {
    const task = await lockedTask(tx, userId, id)
    if (!task) return undefined
    if (expected !== undefined && expected !== 'any' && !expected.includes(task.version))
      throw preconditionFailed(toTask(task), 'task')
    if (task.completed || !task.recurrence) {
      const again = await completeStatement(tx, userId, id, completed, expected, true)
      return withFreshReminders(tx, userId, again === 'recurring' ? undefined : again)
    }
    const moved = await completeOccurrence(tx, userId, task, async () => {
      const done = await completeStatement(tx, userId, id, true, undefined, true)
      return done === 'recurring' ? undefined : done
    })
    return withFreshReminders(tx, userId, moved)
  })
}

/**
 * `setCompleted`'s one statement. Unless `final`, it changes nothing when it would complete an
 * open recurring task, and answers 'recurring' then (and whenever the task exists but did not
 * change: `setCompleted` decides under the task's lock, a failed If-Match included).
 */
async function completeStatement(
  db: Db,
  userId: string,
  id: number,
  completed: boolean | undefined,
  expected: Expected,
  final: boolean,
): Promise<TaskRecord | undefined | 'recurring'> {
  const change = statement<Row>(db, `task complete tree ${completed ?? 'toggle'}${final ? ' final' : ''}`, () => {
    const value = completed === undefined ? sql`not completed` : sql`${completed}::boolean`
    // The rows to change: the task, and then its open subtasks (completing) or its completed
    // ancestors (reopening). Each of those changes to the opposite of what it is.
    const affected = sql`(
      with recursive me as (
        select id, ${value} as value from ${tasks}
        where id = ${p('id')} and user_id = ${p('userId')} and ${userTurn(p('userId'))}
          and (${p('versions')}::int[] is null or version = any(${p('versions')}::int[]))
          ${final ? sql`` : sql`and (recurrence is null or completed or not ${value})`} for update
      ), down(id, completed) as (
        select id, not value from me where value
        union all
        select t.id, t.completed from ${tasks} t join down on t.parent_id = down.id
      ), up(id, parent_id, completed) as (
        select t.id, t.parent_id, true from ${tasks} t join me on t.id = me.id and not me.value
        union all
        select t.id, t.parent_id, t.completed from ${tasks} t join up on t.id = up.parent_id
      )
      select id from me
      union all select id from down where not completed
      union all select id from up where completed
    )`
    const self = sql`${tasks.id} = ${p('id')}`
    const becomes = sql`case when ${self} then ${completed === undefined ? sql`not ${tasks.completed}` : sql`${completed}::boolean`} else not ${tasks.completed} end`
    return db
      .update(tasks)
      .set({
        completed: becomes,
        completedAt: sql`case when ${becomes} then coalesce(${tasks.completedAt}, clock_timestamp()) end`,
        updatedAt: nextUpdatedAt,
      })
      .where(sql`${tasks.id} in ${affected}`)
      .returning(taskColumns)
  })
  const rows = await change.execute({ id, userId, versions: versionsValue(expected) })
  // RETURNING shows the task before the triggers of its subtasks' changes updated its counts.
  if (rows.length > 1) return getTask(db, userId, id)
  const row = rows.find((r) => r.id === id)
  if (row) return row
  // Not changed: an open recurring task, or one that changed between the statement and now (a
  // rule cleared, a series completed by another request). The locked path reads it again.
  if (!final) return (await getTask(db, userId, id)) ? 'recurring' : undefined
  return failedPrecondition(db, userId, id, expected)
}

/**
 * Moves the task with its subtasks to the trash (see `trashTask`): a 404 everywhere after, until
 * restored. False when the user has no such task; a 412 when `expected` names other versions.
 */
export async function deleteTask(db: Db, userId: string, id: number, expected?: Expected): Promise<boolean> {
  if (await trashTask(db, userId, id, versionsValue(expected))) return true
  await failedPrecondition(db, userId, id, expected)
  return false
}
