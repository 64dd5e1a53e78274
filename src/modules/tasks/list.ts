import { and, eq, getTableColumns, type SQL, sql } from 'drizzle-orm'
import type { Db } from '../../db/client'
import { tasks, users } from '../../db/schema'
import { statement } from '../../db/statements'
import { taskReminders } from '../reminders/service'
import type { ListPosition } from './cursor'
import { type Due, formatDue } from './due'
import type { Direction, TaskFilters, TaskSort } from './list-query'
import type { SortKey, TaskRecord } from './model'
import { searchQuery, searchValues } from './search'

// What a task row is read as: the search document and the derived tag keys and due sort value
// serve queries only, so they never leave the database.
// Its reminders come along as one more column (see `taskReminders`).
const { search: _search, tagKeys: _tagKeys, dueSort: _dueSort, ...columns } = getTableColumns(tasks)
const taskColumns = { ...columns, reminders: taskReminders }
export type TaskColumns = typeof taskColumns

export { taskColumns }

// Statements are prepared once per shape (which filters, which sort, which page part) with
// placeholders; `listValues` gives the values for one request.
const p = (name: string): SQL => sql`${sql.placeholder(name)}`

interface SortColumn {
  expression: SQL
  /** The cursor's value, a placeholder, as SQL of the column's type. */
  bound(value: SQL): SQL
  /** Tasks without a value (no due date, not completed) come last in both directions. */
  nullable: boolean
  /** Read back with each row when `valueOf` needs more than the task's own fields. */
  selected?: SQL
  valueOf(row: ListedRow): string | null
}

type ListedRow = TaskRecord & { sortValue?: unknown; counter: number }

const asTimestamp = (value: SQL) => sql`${value}::timestamptz`

const SORT_COLUMNS: Record<SortKey, SortColumn> = {
  created: {
    expression: sql`${tasks.createdAt}`,
    bound: asTimestamp,
    nullable: false,
    valueOf: (r) => r.createdAt.toISOString(),
  },
  updated: {
    expression: sql`${tasks.updatedAt}`,
    bound: asTimestamp,
    nullable: false,
    valueOf: (r) => r.updatedAt.toISOString(),
  },
  // Byte order of the lower-cased title: the same on every server, whatever its locale.
  title: {
    expression: sql`lower(${tasks.title}) collate "C"`,
    bound: (value) => sql`${value}::text collate "C"`,
    nullable: false,
    selected: sql<string>`lower(${tasks.title})`,
    valueOf: (r) => r.sortValue as string,
  },
  due_date: {
    expression: sql`${tasks.dueSort}`,
    bound: asTimestamp,
    nullable: true,
    selected: sql`${tasks.dueSort}`.mapWith(tasks.dueSort),
    valueOf: (r) => (r.sortValue as Date | null)?.toISOString() ?? null,
  },
  priority: {
    expression: sql`${tasks.priority}`,
    bound: (value) => sql`${value}::task_priority`,
    nullable: false,
    valueOf: (r) => r.priority,
  },
  completed_at: {
    expression: sql`${tasks.completedAt}`,
    bound: asTimestamp,
    nullable: true,
    valueOf: (r) => r.completedAt?.toISOString() ?? null,
  },
  // Outline order: the outline key sorts each task before its subtasks (see the schema).
  position: {
    expression: sql`${tasks.outline}`,
    bound: (value) => sql`${value}::text collate "C"`,
    nullable: false,
    valueOf: (r) => r.outline,
  },
}

/** Today's calendar date in `tz`. */
export const todayIn = (tz: SQL | string) => sql`(now() at time zone ${tz})::date`

/** "due OP bound", where a calendar date (on either side) stands for the start of its day in `tz`. */
function compareDue(op: '<' | '>=', kind: Due['kind'], bound: SQL): SQL {
  const o = sql.raw(op)
  const tz = p('tz')
  if (kind === 'date')
    return sql`(${tasks.dueDate} ${o} ${bound}::date or ${tasks.dueAt} ${o} (${bound}::date::timestamp at time zone ${tz}))`
  return sql`((${tasks.dueDate}::timestamp at time zone ${tz}) ${o} ${bound}::timestamptz or ${tasks.dueAt} ${o} ${bound}::timestamptz)`
}

/** Open, and due before now (an instant) or before today in `tz` (a calendar date). */
export function overdueCondition(tz: SQL | string): SQL {
  return sql`(not ${tasks.completed} and coalesce(${tasks.dueAt} < now() or ${tasks.dueDate} < ${todayIn(tz)}, false))`
}

/** The conditions of a filter set, with placeholders named as in `filterValues`. */
function filterConditions(f: TaskFilters): SQL[] {
  const conditions: SQL[] = [eq(tasks.userId, p('userId'))]
  if (f.status !== 'all') conditions.push(sql`${tasks.completed} = ${f.status === 'completed'}`)
  // Sent as text[]: PGlite has no serializer for an array of an enum type.
  if (f.priorities) conditions.push(sql`${tasks.priority} = any(${p('priorities')}::text[]::task_priority[])`)
  if (f.tags)
    conditions.push(sql`${tasks.tagKeys} ${sql.raw(f.tags.mode === 'all' ? '@>' : '&&')} ${p('tags')}::text[]`)
  if (f.dueBefore) conditions.push(compareDue('<', f.dueBefore.kind, p('dueBefore')))
  if (f.dueAfter) conditions.push(compareDue('>=', f.dueAfter.kind, p('dueAfter')))
  if (f.overdue === true)
    conditions.push(
      overdueCondition(p('tz')),
      // Implied by the line above; spelled out as a range so the open-tasks due index serves it.
      sql`${tasks.dueSort} < greatest(now(), ${todayIn(p('tz'))}::timestamp at time zone 'UTC')`,
    )
  if (f.overdue === false) conditions.push(sql`not ${overdueCondition(p('tz'))}`)
  if (f.hasDue !== undefined) conditions.push(sql`${tasks.dueSort} is ${sql.raw(f.hasDue ? 'not null' : 'null')}`)
  if (f.recurring !== undefined)
    conditions.push(sql`${tasks.recurrence} is ${sql.raw(f.recurring ? 'not null' : 'null')}`)
  if (f.listId !== undefined) conditions.push(eq(tasks.listId, p('listId')))
  if (f.parentId === 'none') conditions.push(sql`${tasks.parentId} is null`)
  else if (f.parentId !== undefined) conditions.push(eq(tasks.parentId, p('parentId')))
  if (f.words) conditions.push(sql`${tasks.search} @@ (${searchQuery(f.words.length)})`)
  return conditions
}

function filterValues(userId: string, f: TaskFilters): Record<string, unknown> {
  return {
    userId,
    tz: f.tz,
    listId: f.listId,
    parentId: f.parentId === 'none' ? undefined : f.parentId,
    priorities: f.priorities,
    tags: f.tags?.keys,
    dueBefore: f.dueBefore && formatDue(f.dueBefore),
    dueAfter: f.dueAfter && formatDue(f.dueAfter),
    ...(f.words && searchValues(f.words)),
  }
}

export interface ListOptions {
  filters: TaskFilters
  sort: TaskSort
  limit: number
  after?: ListPosition
}

export interface TaskPage {
  rows: TaskRecord[]
  /** Where the next page starts; absent on the last page. */
  next?: ListPosition
  /**
   * The owner's change counter as the page's first statement saw it, read in that statement
   * (one round trip, not two); absent when the page is empty.
   */
  counter?: number
}

type Part = 'valued' | 'unvalued'

/**
 * The query for one part of a page, with placeholders: `valued` reads tasks that have a sort
 * value (all of them for sorts that always have one), `unvalued` continues with the ones that
 * do not.
 */
export function listQuery(db: Db, options: ListOptions, part: Part) {
  const { filters, sort, after } = options
  const column = SORT_COLUMNS[sort.key]
  const where = filterConditions(filters)
  const byId = order(sql`${tasks.id}`, sort.direction)
  let orderBy: SQL[]
  if (part === 'valued') {
    if (column.nullable) where.push(sql`${column.expression} is not null`)
    if (after && after.value !== null)
      where.push(
        sql`(${column.expression}, ${tasks.id}) ${comparison(sort.direction)} (${column.bound(p('afterValue'))}, ${p('afterId')})`,
      )
    orderBy = [order(column.expression, sort.direction), byId]
  } else {
    where.push(sql`${column.expression} is null`)
    if (after?.value === null) where.push(sql`${tasks.id} ${comparison(sort.direction)} ${p('afterId')}`)
    orderBy = [byId]
  }
  // Uncorrelated, so run once per statement; in the same snapshot as the rows.
  const counter = sql<number>`(select ${users.syncSeq} from ${users} where ${users.id} = ${p('userId')})`
  return db
    .select(column.selected ? { ...taskColumns, sortValue: column.selected, counter } : { ...taskColumns, counter })
    .from(tasks)
    .where(and(...where))
    .orderBy(...orderBy)
    .limit(sql.placeholder('limit'))
}

/** `listQuery`, prepared once per shape: which filters, which sort, which part of the page. */
function listStatement(db: Db, options: ListOptions, part: Part) {
  const { filters, sort, after } = options
  const shape = {
    ...filters,
    tz: undefined,
    priorities: filters.priorities !== undefined,
    tags: filters.tags?.mode,
    dueBefore: filters.dueBefore?.kind,
    dueAfter: filters.dueAfter?.kind,
    words: filters.words?.length,
    listId: filters.listId !== undefined,
    parentId: filters.parentId === 'none' ? 'none' : filters.parentId !== undefined,
    after: after === undefined ? 'none' : after.value === null ? 'null' : 'value',
  }
  const key = `task list ${part} ${sort.key} ${sort.direction} ${JSON.stringify(shape)}`
  return statement<ListedRow[]>(db, key, () => listQuery(db, options, part))
}

/** The values for `listStatement`'s placeholders. */
export function listValues(userId: string, options: ListOptions, limit: number): Record<string, unknown> {
  return {
    ...filterValues(userId, options.filters),
    afterValue: options.after?.value ?? undefined,
    afterId: options.after?.id,
    limit,
  }
}

/**
 * One page in the requested order, keyset-paginated on (sort value, id). Tasks without a sort
 * value come last, read by a second statement that continues where the valued ones end, so
 * each statement walks an index in order.
 */
export async function listTasks(db: Db, userId: string, options: ListOptions): Promise<TaskPage> {
  const column = SORT_COLUMNS[options.sort.key]
  const want = options.limit + 1
  const rows: ListedRow[] = []
  if (options.after?.value !== null)
    rows.push(...(await listStatement(db, options, 'valued').execute(listValues(userId, options, want))))
  if (column.nullable && rows.length < want)
    rows.push(
      ...(await listStatement(db, options, 'unvalued').execute(listValues(userId, options, want - rows.length))),
    )
  const page = rows.slice(0, options.limit)
  const last = page.at(-1)
  const next = rows.length > options.limit && last ? { value: column.valueOf(last), id: last.id } : undefined
  // The first row's statement ran first: everything the page holds is at least that new.
  return { rows: page, next, counter: rows[0]?.counter }
}

const comparison = (dir: Direction) => sql.raw(dir === 'asc' ? '>' : '<')
const order = (expression: SQL, dir: Direction) => sql`${expression} ${sql.raw(dir)}`
