import { and, asc, desc, eq, inArray, type SQL, sql } from 'drizzle-orm'
import { type Db, queryRows } from '../../db/client'
import { reminders, tasks } from '../../db/schema'
import { instantFromText } from '../../db/timestamps'
import { validationFailed } from '../../http/problem'
import type { ListPosition } from '../tasks/cursor'
import { parseDue } from '../tasks/due'
import { durationSeconds } from './duration'
import type { Reminder, ReminderInputValue, ReminderQueryState, ReminderState, TaskReminder } from './model'

// A string is a timestamptz as jsonb writes it, in the session's time zone, whose offset may
// have seconds (an old local mean time: "-04:56:02"), which `new Date` cannot read.
const iso = (value: string | Date | null) =>
  value === null ? null : (typeof value === 'string' ? instantFromText(value) : value).toISOString()

interface StoredTaskReminder {
  id: number
  at: string | null
  before: string | null
  fire_at: string | null
}

/** The jsonb of `taskReminders` (a parsed value, or text on a driver that leaves it so). */
function toTaskReminders(value: unknown): TaskReminder[] {
  const rows = (typeof value === 'string' ? JSON.parse(value) : (value ?? [])) as StoredTaskReminder[]
  return rows.map((r) => ({ id: r.id, at: iso(r.at), before: r.before, fire_at: iso(r.fire_at) }))
}

/**
 * A task's reminders as a column of the task's own row (what its answers show), oldest first.
 * Read in the statement that reads the task; a statement that changes the task (RETURNING)
 * sees them as they were before it, so writes that may move them read them again
 * (`remindersOfTask`).
 */
export const remindersOfTaskColumn = (table: 'tasks' | 'trash', taskId: 'id' | 'task_id') =>
  // Qualified by hand: drizzle writes a column of a one-table query unqualified, which inside
  // this subquery would name the reminder's own column.
  sql`coalesce((
    select jsonb_agg(jsonb_build_object('id', r.id, 'at', r.at, 'before', r.before, 'fire_at', r.fire_at) order by r.id)
    from reminders r where r.task_id = ${sql.raw(`"${table}"."${taskId}"`)} and r.user_id = ${sql.raw(`"${table}"."user_id"`)}
  ), '[]'::jsonb)`.mapWith(toTaskReminders)
export const taskReminders = remindersOfTaskColumn('tasks', 'id')

/** The reminders of one of the user's tasks, as its answers show them. */
export async function remindersOfTask(db: Db, userId: string, taskId: number): Promise<TaskReminder[]> {
  const rows = await db
    .select({ id: reminders.id, at: reminders.at, before: reminders.before, fireAt: reminders.fireAt })
    .from(reminders)
    .where(and(eq(reminders.userId, userId), eq(reminders.taskId, taskId)))
    .orderBy(asc(reminders.id))
  return rows.map((r) => ({ id: r.id, at: iso(r.at), before: r.before, fire_at: iso(r.fireAt) }))
}

interface Entry {
  at: string | null
  before: string | null
  /** The offset's length: `PT15M` and `PT900S` are one reminder. */
  seconds: number | null
}

/** The entries of a reminders list, each once. */
function entriesOf(input: readonly ReminderInputValue[]): Entry[] {
  const seen = new Set<string>()
  const entries: Entry[] = []
  for (const item of input) {
    const entry: Entry =
      'at' in item
        ? { at: (parseDue(item.at) as { at: Date }).at.toISOString(), before: null, seconds: null }
        : { at: null, before: item.before, seconds: durationSeconds(item.before) as number }
    const key = entry.at ?? `-${entry.seconds}`
    if (seen.has(key)) continue
    seen.add(key)
    entries.push(entry)
  }
  return entries
}

// A stored reminder `r` equal to an entry `x`.
const sameReminder = sql.raw(
  `((x.at is not null and r.at = x.at) or (x.seconds is not null and r.before is not null and extract(epoch from r.before::interval)::float8 = x.seconds))`,
)
const entryRecord = sql.raw('x(at timestamptz, before text, seconds float8, ord int)')

/**
 * Makes the task's reminders the ones `input` lists: reminders equal to one listed stay as they
 * are (id, fired or not), the others go, new ones are added, armed for the task as it is now
 * (see `reminder_time` in drizzle/0010_reminders_calendar.sql) if their time is still to come.
 * In the caller's transaction, after the task's own update.
 */
export async function replaceReminders(
  tx: Db,
  userId: string,
  taskId: number,
  input: readonly ReminderInputValue[],
): Promise<void> {
  const json = JSON.stringify(entriesOf(input).map((entry, ord) => ({ ...entry, ord })))
  await tx.execute(sql`
    delete from ${reminders} r where r.user_id = ${userId} and r.task_id = ${taskId}
      and not exists (select 1 from jsonb_to_recordset(${json}::jsonb) as ${entryRecord} where ${sameReminder})`)
  if (input.length === 0) return
  await tx.execute(sql`
    insert into ${reminders} (user_id, task_id, at, before, fire_at)
    select t.user_id, t.id, x.at, x.before,
      case when reminder_time(x.at, x.before, t.completed, t.due_at) > now()
        then reminder_time(x.at, x.before, t.completed, t.due_at) end
    from ${tasks} t cross join jsonb_to_recordset(${json}::jsonb) as ${entryRecord}
    where t.id = ${taskId} and t.user_id = ${userId}
      and not exists (select 1 from ${reminders} r where r.user_id = t.user_id and r.task_id = t.id and ${sameReminder})
    order by x.ord`)
}

/**
 * A 400 unless every `before` reminder of the task has a due instant to count back from. Run
 * after a write that set reminders or the due date, in its transaction: the refusal undoes it.
 */
export async function requireDueForOffsets(
  tx: Db,
  userId: string,
  taskId: number,
  field: 'reminders' | 'due_date',
): Promise<void> {
  const [row] = await queryRows<{ missing: boolean }>(
    tx,
    sql`select exists (
          select 1 from ${reminders} r join ${tasks} t on t.id = r.task_id and t.user_id = r.user_id
          where r.user_id = ${userId} and r.task_id = ${taskId} and r.before is not null and t.due_at is null
        ) as missing`,
  )
  if (!row?.missing) return
  const message =
    field === 'reminders'
      ? 'a reminder with `before` needs the task to have a due time (`due_date` with a time of day)'
      : 'the task has reminders with `before`, which need a due time: keep a due date with a time of day, or change the reminders'
  throw validationFailed(`The request is invalid: ${field} ${message}.`, [{ field, message }])
}

/** Drops the reminders of tasks purged from the trash (they can never come back). */
export async function dropReminders(tx: Db, userId: string, taskIds: number[]): Promise<void> {
  if (taskIds.length === 0) return
  await tx
    .delete(reminders)
    .where(and(eq(reminders.userId, userId), sql`${reminders.taskId} = any(${`{${taskIds.join(',')}}`}::int[])`))
}

const reminderColumns = {
  id: reminders.id,
  userId: reminders.userId,
  taskId: reminders.taskId,
  title: tasks.title,
  dueDate: tasks.dueDate,
  dueAt: tasks.dueAt,
  at: reminders.at,
  before: reminders.before,
  fireAt: reminders.fireAt,
  firedAt: reminders.firedAt,
  late: reminders.late,
  acknowledgedAt: reminders.acknowledgedAt,
}

const stateOf = (r: ReminderRow): ReminderState =>
  r.acknowledgedAt ? 'acknowledged' : r.firedAt ? 'due' : r.fireAt ? 'pending' : 'off'

export function toReminder(r: ReminderRow): Reminder {
  return {
    id: r.id,
    task_id: r.taskId,
    title: r.title,
    due_date: r.dueDate ?? iso(r.dueAt),
    at: iso(r.at),
    before: r.before,
    fire_at: iso(r.fireAt),
    state: stateOf(r),
    fired_at: iso(r.firedAt),
    late: r.late,
    acknowledged_at: iso(r.acknowledgedAt),
  }
}

/** The user's reminders of tasks that exist (not in the trash), with their tasks. */
const selectReminders = (db: Db, ...where: (SQL | undefined)[]) =>
  db
    .select(reminderColumns)
    .from(reminders)
    .innerJoin(tasks, and(eq(tasks.id, reminders.taskId), eq(tasks.userId, reminders.userId)))
    .where(and(...where))
export type ReminderRow = Awaited<ReturnType<typeof selectReminders>>[number]

interface Listing {
  where: SQL
  /** The instant pages are ordered by (then by id), and which way; none: by id alone. */
  by?: 'firedAt' | 'fireAt' | 'acknowledgedAt'
  dir: 'asc' | 'desc'
}

const LISTINGS: Record<ReminderQueryState, Listing> = {
  due: {
    where: sql`${reminders.firedAt} is not null and ${reminders.acknowledgedAt} is null`,
    by: 'firedAt',
    dir: 'desc',
  },
  pending: { where: sql`${reminders.fireAt} is not null and ${reminders.firedAt} is null`, by: 'fireAt', dir: 'asc' },
  acknowledged: { where: sql`${reminders.acknowledgedAt} is not null`, by: 'acknowledgedAt', dir: 'desc' },
  all: { where: sql`true`, dir: 'asc' },
}

export interface ReminderPage {
  items: Reminder[]
  next?: ListPosition
}

/** One page of the user's reminders in `state`, in that state's order (see RemindersQuery). */
export async function listReminders(
  db: Db,
  userId: string,
  state: ReminderQueryState,
  limit: number,
  after?: ListPosition,
): Promise<ReminderPage> {
  const { where, by, dir } = LISTINGS[state]
  const column = by && reminders[by]
  const op = sql.raw(dir === 'asc' ? '>' : '<')
  const order = dir === 'asc' ? asc : desc
  const from =
    after === undefined
      ? undefined
      : column && after.value !== null
        ? sql`(${column}, ${reminders.id}) ${op} (${after.value}::timestamptz, ${after.id}::int)`
        : sql`${reminders.id} ${op} ${after.id}::int`
  const rows = await selectReminders(db, eq(reminders.userId, userId), where, from)
    .orderBy(...(column ? [order(column)] : []), order(reminders.id))
    .limit(limit + 1)
  const page = rows.slice(0, limit)
  const last = page.at(-1)
  const next = rows.length > limit && last ? { value: by ? iso(last[by]) : null, id: last.id } : undefined
  return { items: page.map(toReminder), next }
}

/** One of the user's reminders (of a task not in the trash). */
export async function getReminder(db: Db, userId: string, id: number): Promise<ReminderRow | undefined> {
  const [row] = await selectReminders(db, eq(reminders.userId, userId), eq(reminders.id, id))
  return row
}

/**
 * Acknowledges a reminder that fired: it leaves `state=due`. Again is harmless (the first time
 * stays). Undefined when the user has no such reminder; 'not fired' when it has not fired.
 */
export async function acknowledgeReminder(
  db: Db,
  userId: string,
  id: number,
): Promise<ReminderRow | undefined | 'not fired'> {
  const [done] = await queryRows<{ id: number }>(
    db,
    sql`update ${reminders} r set acknowledged_at = coalesce(r.acknowledged_at, now())
        from ${tasks} t
        where r.id = ${id} and r.user_id = ${userId} and r.fired_at is not null
          and t.id = r.task_id and t.user_id = r.user_id
        returning r.id`,
  )
  const row = await getReminder(db, userId, id)
  if (!row) return undefined
  return done ? row : 'not fired'
}

/**
 * Reminders of these users that fired within the last `seconds` and are not acknowledged, for
 * the event streams: each stream sends each firing once (see the event hub).
 */
export function recentlyFired(db: Db, userIds: string[], seconds: number): Promise<ReminderRow[]> {
  return selectReminders(
    db,
    inArray(reminders.userId, userIds),
    sql`${reminders.firedAt} > now() - make_interval(secs => ${seconds})`,
    sql`${reminders.acknowledgedAt} is null`,
  ).orderBy(asc(reminders.firedAt), asc(reminders.id))
}
