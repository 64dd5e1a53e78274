import { eq, sql } from 'drizzle-orm'
import { type Db, queryRows } from '../../db/client'
import { tasks } from '../../db/schema'
import { overdueCondition } from './list'
import type { Stats } from './model'

const count = (condition?: ReturnType<typeof sql>) =>
  condition ? sql<number>`(count(*) filter (where ${condition}))::int` : sql<number>`count(*)::int`

/** Counts for a dashboard, all in one pass over the user's tasks plus one over their tags. */
export async function taskStats(db: Db, userId: string, tz: string): Promise<Stats> {
  const today = sql`(now() at time zone ${tz})::date`
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
    .where(eq(tasks.userId, userId))
  const byTag = await queryRows<{ tag: string; total: number; pending: number }>(
    db,
    sql`select mode() within group (order by t.tag) as tag, count(*)::int as total,
          (count(*) filter (where not ${tasks.completed}))::int as pending
        from ${tasks}, unnest(${tasks.tags}, ${tasks.tagKeys}) as t(tag, key)
        where ${tasks.userId} = ${userId}
        group by t.key
        order by total desc, t.key collate "C"`,
  )
  const { high, medium, low, ...rest } = totals ?? {
    total: 0,
    completed: 0,
    pending: 0,
    overdue: 0,
    due_today: 0,
    high: 0,
    medium: 0,
    low: 0,
  }
  return { ...rest, by_priority: { high, medium, low }, by_tag: byTag }
}

/** The user's tags, most used first, each in its most common spelling. */
export function tagCounts(db: Db, userId: string) {
  return queryRows<{ tag: string; count: number }>(
    db,
    sql`select mode() within group (order by t.tag) as tag, count(*)::int as count
        from ${tasks}, unnest(${tasks.tags}, ${tasks.tagKeys}) as t(tag, key)
        where ${tasks.userId} = ${userId}
        group by t.key
        order by count desc, t.key collate "C"`,
  )
}
