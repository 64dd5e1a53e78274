import { and, eq, type SQL, sql } from 'drizzle-orm'
import { type Db, queryRows } from '../../db/client'
import { tasks } from '../../db/schema'
import { overdueCondition, todayIn } from './list'
import type { Stats } from './model'

const count = (condition?: ReturnType<typeof sql>) =>
  condition ? sql<number>`(count(*) filter (where ${condition}))::int` : sql<number>`count(*)::int`

const inScope = (userId: string, listId?: number): SQL =>
  listId === undefined
    ? sql`${tasks.userId} = ${userId}`
    : sql`${tasks.userId} = ${userId} and ${tasks.listId} = ${listId}`

/** The user's tags (in one list, with `listId`), most used first, each in its most common spelling, with open-task counts. */
function tagTotals(db: Db, userId: string, listId?: number) {
  return queryRows<{ tag: string; total: number; pending: number }>(
    db,
    sql`select mode() within group (order by t.tag) as tag, count(*)::int as total,
          (count(*) filter (where not ${tasks.completed}))::int as pending
        from ${tasks}, unnest(${tasks.tags}, ${tasks.tagKeys}) as t(tag, key)
        where ${inScope(userId, listId)}
        group by t.key
        order by total desc, t.key collate "C"`,
  )
}

/** Counts for a dashboard, all in one pass over the user's tasks plus one over their tags. */
export async function taskStats(db: Db, userId: string, tz: string, listId?: number): Promise<Stats> {
  const today = todayIn(tz)
  const dueToday = sql`(${tasks.dueDate} = ${today} or (${tasks.dueAt} >= (${today}::timestamp at time zone ${tz}) and ${tasks.dueAt} < ((${today} + 1)::timestamp at time zone ${tz})))`
  const [totals] = await db
    .select({
      total: count(),
      completed: count(sql`${tasks.completed}`),
      pending: count(sql`not ${tasks.completed}`),
      overdue: count(overdueCondition(tz)),
      due_today: count(sql`not ${tasks.completed} and ${dueToday}`),
      high: count(sql`${tasks.priority} = 'high'`),
      medium: count(sql`${tasks.priority} = 'medium'`),
      low: count(sql`${tasks.priority} = 'low'`),
    })
    .from(tasks)
    .where(and(eq(tasks.userId, userId), listId === undefined ? undefined : eq(tasks.listId, listId)))
  // An aggregate without `group by` always answers exactly one row.
  const { high, medium, low, ...rest } = totals as NonNullable<typeof totals>
  return { ...rest, by_priority: { high, medium, low }, by_tag: await tagTotals(db, userId, listId) }
}

/** The user's tags with how many tasks carry each. */
export async function tagCounts(db: Db, userId: string) {
  return (await tagTotals(db, userId)).map(({ tag, total }) => ({ tag, count: total }))
}
