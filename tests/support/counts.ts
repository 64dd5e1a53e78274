import { expect } from 'bun:test'
import { sql } from 'drizzle-orm'
import { dbRows } from './lists'

type Drift = { id: number; kept: number; kept_done: number; actual: number; actual_done: number }

/**
 * The task and list rows whose kept counts (kept by triggers) differ from the counts the
 * database would compute now: subtasks per task, open and completed tasks per list.
 */
export async function driftedCounts() {
  const tasks = await dbRows<Drift>(sql`
    select * from (
      select p.id, p.subtask_count as kept, p.completed_subtask_count as kept_done,
        (select count(*)::int from tasks c where c.parent_id = p.id) as actual,
        (select count(*)::int from tasks c where c.parent_id = p.id and c.completed) as actual_done
      from tasks p) counts
    where kept <> actual or kept_done <> actual_done order by id`)
  const lists = await dbRows<Drift>(sql`
    select * from (
      select l.id, l.open_count as kept, l.completed_count as kept_done,
        (select count(*)::int from tasks t where t.list_id = l.id and not t.completed) as actual,
        (select count(*)::int from tasks t where t.list_id = l.id and t.completed) as actual_done
      from lists l) counts
    where kept <> actual or kept_done <> actual_done order by id`)
  return { tasks, lists }
}

export const expectCountsRight = async () => expect(await driftedCounts()).toEqual({ tasks: [], lists: [] })
