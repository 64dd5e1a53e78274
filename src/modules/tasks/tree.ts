import { type SQLWrapper, sql } from 'drizzle-orm'
import { type Db, queryRows } from '../../db/client'
import { tasks, users } from '../../db/schema'

/** How many levels of subtasks a top-level task can have. */
export const MAX_SUBTASK_DEPTH = 4

/**
 * Taken first by every transaction that places tasks or lists: concurrent moves and creates of
 * one user queue here, so two never read the same neighbours (equal positions) and two moves
 * can never together make a cycle. `no key update` leaves inserts referencing the user free.
 */
export async function lockUser(tx: Db, userId: string): Promise<void> {
  await tx.execute(sql`select 1 from ${users} where ${users.id} = ${userId} for no key update`)
}

/**
 * `lockUser` as a condition, for a single statement that changes a subtree: evaluated before the
 * statement locks any task row (rows are locked only once they pass their conditions), so the
 * statement takes its turn like a transaction that starts with `lockUser`.
 */
export const userTurn = (userId: SQLWrapper | string) =>
  sql`exists (select 1 from ${users} where ${users.id} = ${userId} for no key update)`

/** The task's ancestors' ids, nearest first. */
export async function ancestorsOf(tx: Db, id: number): Promise<number[]> {
  const rows = await queryRows<{ id: number }>(
    tx,
    sql`with recursive up(id, parent_id, depth) as (
          select id, parent_id, 0 from ${tasks} where id = ${id}
          union all
          select t.id, t.parent_id, up.depth + 1 from ${tasks} t join up on t.id = up.parent_id
        )
        select id from up where depth > 0 order by depth`,
  )
  return rows.map((r) => r.id)
}

/** Levels of subtasks below the task: 0 for a task without any. */
export async function heightOf(tx: Db, id: number): Promise<number> {
  const [row] = await queryRows<{ height: number }>(
    tx,
    sql`with recursive down(id, depth) as (
          select id, 0 from ${tasks} where id = ${id}
          union all
          select t.id, down.depth + 1 from ${tasks} t join down on t.parent_id = down.id
        )
        select max(depth)::int as height from down`,
  )
  return row?.height ?? 0
}

/**
 * Recomputes the outline of each task in `roots` (from its parent's, or its list's) and of all
 * their descendants, and gives the descendants the roots' list: after a move or a rebalance.
 */
export async function rewriteSubtrees(tx: Db, roots: number[]): Promise<void> {
  if (roots.length === 0) return
  await tx.execute(sql`
    with recursive sub(id, list_id, outline) as (
      select t.id, t.list_id,
             (coalesce(p.outline, lpad(t.list_id::text, 10, '0')) || '/' || t.position) collate "C"
      from ${tasks} t left join ${tasks} p on p.id = t.parent_id
      where t.id = any(${`{${roots.join(',')}}`}::int[])
      union all
      select c.id, sub.list_id, (sub.outline || '/' || c.position) collate "C"
      from ${tasks} c join sub on c.parent_id = sub.id
    )
    update ${tasks} set outline = sub.outline, list_id = sub.list_id
    from sub where ${tasks.id} = sub.id
      and (${tasks.outline} <> sub.outline or ${tasks.listId} <> sub.list_id)`)
}
