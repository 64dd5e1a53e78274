import { and, eq, getTableColumns, inArray, type SQL, sql } from 'drizzle-orm'
import type { Db } from '../../db/client'
import { tasks } from '../../db/schema'
import type { ListPosition } from './cursor'
import type { Due } from './due'
import type { Direction, TaskFilters, TaskSort } from './list-query'
import type { SortKey, TaskRecord } from './model'
import { searchQuery } from './search'

const { search: _search, ...taskColumns } = getTableColumns(tasks)

export { taskColumns }

interface SortColumn {
  expression: SQL
  /** The cursor's value as SQL of the column's type. */
  bound(value: string): SQL
  /** Tasks without a value (no due date, not completed) come last in both directions. */
  nullable: boolean
  valueOf(row: TaskRecord & { titleKey?: string }): string | null
}

const asTimestamp = (value: string) => sql`${value}::timestamptz`

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
    valueOf: (r) => r.titleKey ?? null,
  },
  due_date: {
    expression: sql`${tasks.dueSort}`,
    bound: asTimestamp,
    nullable: true,
    valueOf: (r) => r.dueSort?.toISOString() ?? null,
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
}

const textArray = (values: readonly string[]) =>
  sql`array[${sql.join(
    values.map((v) => sql`${v}::text`),
    sql`, `,
  )}]`
const todayIn = (tz: string) => sql`(now() at time zone ${tz})::date`

/** "due OP bound", where a calendar date (on either side) stands for the start of its day in `tz`. */
function compareDue(op: '<' | '>=', bound: Due, tz: string): SQL {
  const o = sql.raw(op)
  if (bound.kind === 'date')
    return sql`(${tasks.dueDate} ${o} ${bound.date}::date or ${tasks.dueAt} ${o} (${bound.date}::date::timestamp at time zone ${tz}))`
  const at = bound.at.toISOString()
  return sql`((${tasks.dueDate}::timestamp at time zone ${tz}) ${o} ${at}::timestamptz or ${tasks.dueAt} ${o} ${at}::timestamptz)`
}

/** Open, and due before now (an instant) or before today in `tz` (a calendar date). */
export function overdueCondition(tz: string): SQL {
  return sql`(not ${tasks.completed} and coalesce(${tasks.dueAt} < now() or ${tasks.dueDate} < ${todayIn(tz)}, false))`
}

function filterConditions(userId: string, f: TaskFilters): SQL[] {
  const conditions: SQL[] = [eq(tasks.userId, userId)]
  if (f.status !== 'all') conditions.push(eq(tasks.completed, f.status === 'completed'))
  if (f.priorities) conditions.push(inArray(tasks.priority, f.priorities))
  if (f.tags)
    conditions.push(
      f.tags.mode === 'all'
        ? sql`${tasks.tagKeys} @> ${textArray(f.tags.keys)}`
        : sql`${tasks.tagKeys} && ${textArray(f.tags.keys)}`,
    )
  if (f.dueBefore) conditions.push(compareDue('<', f.dueBefore, f.tz))
  if (f.dueAfter) conditions.push(compareDue('>=', f.dueAfter, f.tz))
  if (f.overdue === true)
    conditions.push(
      overdueCondition(f.tz),
      // Implied by the line above; spelled out as a range so the open-tasks due index serves it.
      sql`${tasks.dueSort} < greatest(now(), ${todayIn(f.tz)}::timestamp at time zone 'UTC')`,
    )
  if (f.overdue === false) conditions.push(sql`not ${overdueCondition(f.tz)}`)
  if (f.hasDue !== undefined) conditions.push(sql`${tasks.dueSort} is ${sql.raw(f.hasDue ? 'not null' : 'null')}`)
  if (f.words) conditions.push(sql`${tasks.search} @@ (${searchQuery(f.words)})`)
  return conditions
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
}

/**
 * The statement for one part of a page: `valued` reads tasks that have a sort value (all of
 * them for sorts that always have one), `unvalued` continues with the ones that do not.
 */
export function listStatement(
  db: Db,
  userId: string,
  options: ListOptions,
  part: 'valued' | 'unvalued',
  limit: number,
) {
  const column = SORT_COLUMNS[options.sort.key]
  const dir = options.sort.direction
  const after = options.after
  const where = filterConditions(userId, options.filters)
  const byId = order(sql`${tasks.id}`, dir)
  let orderBy: SQL[]
  if (part === 'valued') {
    if (column.nullable) where.push(sql`${column.expression} is not null`)
    if (after?.value != null)
      where.push(
        sql`(${column.expression}, ${tasks.id}) ${comparison(dir)} (${column.bound(after.value)}, ${after.id})`,
      )
    orderBy = [order(column.expression, dir), byId]
  } else {
    where.push(sql`${column.expression} is null`)
    if (after?.value === null) where.push(sql`${tasks.id} ${comparison(dir)} ${after.id}`)
    orderBy = [byId]
  }
  return db
    .select(
      options.sort.key === 'title' ? { ...taskColumns, titleKey: sql<string>`lower(${tasks.title})` } : taskColumns,
    )
    .from(tasks)
    .where(and(...where))
    .orderBy(...orderBy)
    .limit(limit)
}

/**
 * One page in the requested order, keyset-paginated on (sort value, id). Tasks without a sort
 * value come last, read by a second statement that continues where the valued ones end, so
 * each statement walks an index in order.
 */
export async function listTasks(db: Db, userId: string, options: ListOptions): Promise<TaskPage> {
  const column = SORT_COLUMNS[options.sort.key]
  const want = options.limit + 1
  const rows: (TaskRecord & { titleKey?: string })[] = []
  if (options.after?.value !== null) rows.push(...(await listStatement(db, userId, options, 'valued', want)))
  if (column.nullable && rows.length < want)
    rows.push(...(await listStatement(db, userId, options, 'unvalued', want - rows.length)))
  const page = rows.slice(0, options.limit)
  const last = page.at(-1)
  const next = rows.length > options.limit && last ? { value: column.valueOf(last), id: last.id } : undefined
  return { rows: page, next }
}

const comparison = (dir: Direction) => sql.raw(dir === 'asc' ? '>' : '<')
const order = (expression: SQL, dir: Direction) => sql`${expression} ${sql.raw(dir)}`
