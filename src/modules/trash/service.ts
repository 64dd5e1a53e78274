import { and, desc, eq, getTableColumns, type SQL, sql } from 'drizzle-orm'
import { type Db, queryRows } from '../../db/client'
import { lists, tasks, trash } from '../../db/schema'
import type { TaskReminder } from '../reminders/model'
import { dropReminders, remindersOfTaskColumn } from '../reminders/service'
import { dropCompletions } from '../tasks/completions'
import type { ListPosition } from '../tasks/cursor'
import { taskColumns } from '../tasks/list'
import type { TaskRecord } from '../tasks/model'
import { defaultList, taskGroup } from '../tasks/moves'
import { positionIn } from '../tasks/placement'
import { ancestorsOf, lockUser, MAX_SUBTASK_DEPTH, rewriteSubtrees } from '../tasks/tree'
import type { StoredTask } from './model'

// The trash keeps every real column of a task; the generated ones are Postgres's to compute
// again when the row comes back.
const columns = Object.values(getTableColumns(tasks))
const generated = `{${columns.filter((c) => c.generated).map((c) => c.name)}}`
const stored = columns.filter((c) => !c.generated).map((c) => c.name)

const idArray = (ids: number[]) => `{${ids.join(',')}}`
const trashedReminders = remindersOfTaskColumn('trash', 'task_id')

/**
 * Moves the task with its subtasks (every level) into the trash, in the user's turn: the rows
 * as they are (parents before children) into one trash row, then the task is deleted, its
 * subtasks with it (the foreign key cascades), counts by the count triggers, each leaving a
 * tombstone that says "trashed". False when the user has no such task, or (If-Match) when its
 * version is not one of `versions` (`{1,2}`; null: any).
 */
export function trashTask(db: Db, userId: string, id: number, versions: string | null = null): Promise<boolean> {
  return db.transaction(async (tx) => {
    await lockUser(tx, userId)
    const kept = await queryRows<{ task_id: number }>(
      tx,
      sql`with recursive sub(id, depth) as (
            select id, 0 from ${tasks} where id = ${id} and user_id = ${userId}
            union all
            select c.id, sub.depth + 1 from ${tasks} c join sub on c.parent_id = sub.id
          )
          insert into ${trash} (task_id, user_id, list_id, parent_id, deleted_at, rows)
          select r.id, r.user_id, r.list_id, r.parent_id, now(),
            (select jsonb_agg(to_jsonb(t) - ${generated}::text[] order by sub.depth, t.outline, t.id)
             from sub join ${tasks} t on t.id = sub.id)
          from ${tasks} r where r.id = ${id} and r.user_id = ${userId}
            and (${versions}::int[] is null or r.version = any(${versions}::int[]))
          returning task_id`,
    )
    if (kept.length === 0) return false
    await tx.execute(sql`select set_config('todo.delete_reason', 'trashed', true)`)
    await tx.execute(sql`delete from ${tasks} where id = ${id}`)
    return true
  })
}

export interface TrashItem {
  deletedAt: Date
  /** The task as it was when trashed. */
  task: StoredTask
  subtaskTotal: number
  /** The task's reminders: the ones that had not fired wait unarmed until it is restored. */
  reminders: TaskReminder[]
}

export interface TrashPage {
  items: TrashItem[]
  /** Where the next page starts; absent on the last page. */
  next?: ListPosition
}

/** One page of the user's trash, newest first (then by id, descending). */
export async function listTrash(db: Db, userId: string, limit: number, after?: ListPosition): Promise<TrashPage> {
  const rows = await db
    .select({
      taskId: trash.taskId,
      deletedAt: trash.deletedAt,
      task: sql`${trash.rows} -> 0`.mapWith((value) => trash.rows.mapFromDriverValue(value) as StoredTask),
      subtaskTotal: sql<number>`jsonb_array_length(${trash.rows}) - 1`.mapWith(Number),
      reminders: trashedReminders,
    })
    .from(trash)
    .where(
      and(
        eq(trash.userId, userId),
        after && sql`(${trash.deletedAt}, ${trash.taskId}) < (${after.value}::timestamptz, ${after.id})`,
      ),
    )
    .orderBy(desc(trash.deletedAt), desc(trash.taskId))
    .limit(limit + 1)
  const items = rows.slice(0, limit)
  const last = items.at(-1)
  const next = rows.length > limit && last ? { value: last.deletedAt.toISOString(), id: last.taskId } : undefined
  return { items, next }
}

/** Levels of subtasks below the first row (rows come parents before children). */
function heightOf(rows: StoredTask[]): number {
  const depth = new Map<number, number>()
  let height = 0
  for (const row of rows) {
    const d = row.parent_id === null || depth.size === 0 ? 0 : (depth.get(row.parent_id) ?? 0) + 1
    depth.set(row.id, d)
    height = Math.max(height, d)
  }
  return height
}

interface Destination {
  listId: number
  parentId: number | null
}

/**
 * Where a trashed task goes back: under its parent if that is still there and the subtree
 * still fits below it (the parent may have moved deeper since); else at the top level of its
 * list, or of the default list when its list is gone.
 */
async function destinationOf(
  tx: Db,
  userId: string,
  item: { listId: number; parentId: number | null },
  height: number,
): Promise<Destination> {
  if (item.parentId !== null) {
    const [parent] = await tx
      .select({ id: tasks.id, listId: tasks.listId })
      .from(tasks)
      .where(and(eq(tasks.id, item.parentId), eq(tasks.userId, userId)))
    if (parent && (await ancestorsOf(tx, parent.id)).length + 1 + height <= MAX_SUBTASK_DEPTH)
      return { listId: parent.listId, parentId: parent.id }
  }
  const [list] = await tx
    .select({ id: lists.id })
    .from(lists)
    .where(and(eq(lists.id, item.listId), eq(lists.userId, userId)))
  return { listId: list?.id ?? (await defaultList(tx, userId)), parentId: null }
}

/**
 * Its old position, unless a sibling took that very key meanwhile (a task placed between its
 * old neighbours can get it): two siblings at one key would mix their subtasks in the outline
 * order. Then it goes right after that sibling.
 */
async function positionAt(tx: Db, destination: Destination, id: number, position: string): Promise<string> {
  const [taken] = await queryRows<{ id: number }>(
    tx,
    sql`select id from ${tasks} where list_id = ${destination.listId}
        and parent_id is not distinct from ${destination.parentId}::int and position = ${position}
        order by id limit 1`,
  )
  if (!taken) return position
  return positionIn(taskGroup(tx, destination.listId, destination.parentId), id, { afterId: taken.id })
}

/**
 * Puts a trashed task and its subtasks back, with their ids, where `destinationOf` says. Each
 * row is inserted again (a new version, its tombstone removed by the trigger); counts start
 * at zero and the count triggers fill them in. Undefined when the id is not in the user's trash.
 */
export function restoreTask(db: Db, userId: string, id: number): Promise<TaskRecord | undefined> {
  return db.transaction(async (tx) => {
    await lockUser(tx, userId)
    const [item] = await tx
      .delete(trash)
      .where(and(eq(trash.taskId, id), eq(trash.userId, userId)))
      .returning()
    if (!item) return undefined
    const rows = item.rows as StoredTask[]
    const root = rows[0] as StoredTask
    const destination = await destinationOf(tx, userId, item, heightOf(rows))
    const position = await positionAt(tx, destination, id, root.position)
    const replaced: Record<string, SQL> = {
      list_id: sql`${destination.listId}::int`,
      parent_id: sql`case when r.id = ${id} then ${destination.parentId}::int else r.parent_id end`,
      position: sql`case when r.id = ${id} then ${position} else r.position end`,
      // Recomputed: the outline by the defaults trigger, counts and version by theirs.
      subtask_count: sql`0`,
      completed_subtask_count: sql`0`,
      version: sql`0`,
      // Coming back is a change.
      updated_at: sql`greatest(clock_timestamp(), r.updated_at + interval '1 millisecond')`,
    }
    // Parents before children, so the defaults trigger finds each parent's outline.
    await tx.execute(sql`
      insert into ${tasks} (${sql.raw(stored.map((c) => `"${c}"`).join(', '))}) overriding system value
      select ${sql.join(
        stored.map((c) => replaced[c] ?? sql.raw(`r."${c}"`)),
        sql`, `,
      )}
      from jsonb_populate_recordset(null::tasks, ${JSON.stringify(rows)}::jsonb) with ordinality as r
      order by r.ordinality`)
    await rewriteSubtrees(tx, [id])
    const [row] = await tx.select(taskColumns).from(tasks).where(eq(tasks.id, id))
    return row
  })
}

/**
 * Deletes the user's trash rows that `which` selects, and turns the tombstone of every task in
 * them into "purged", each with a fresh change number: the change feed tells clients they are
 * gone for good. Runs in the caller's transaction, in the user's turn. Returns how many tasks.
 */
async function purge(tx: Db, userId: string, which: SQL): Promise<number> {
  const purged = await queryRows<{ entity_id: number }>(
    tx,
    sql`with gone as (delete from ${trash} where user_id = ${userId} and ${which} returning rows)
        insert into tombstones (user_id, kind, entity_id, seq, reason)
        select ${userId}, 'task', (e ->> 'id')::int, sync_next(${userId}), 'purged'
        from gone, jsonb_array_elements(gone.rows) as e
        on conflict (user_id, kind, entity_id)
        do update set seq = excluded.seq, reason = excluded.reason, deleted_at = excluded.deleted_at
        returning entity_id`,
  )
  const ids = purged.map((r) => r.entity_id)
  await dropCompletions(tx, userId, ids)
  await dropReminders(tx, userId, ids)
  return purged.length
}

/** Purges one item of the user's trash; false when it is not there. */
export function purgeItem(db: Db, userId: string, id: number): Promise<boolean> {
  return db.transaction(async (tx) => {
    await lockUser(tx, userId)
    return (await purge(tx, userId, sql`task_id = ${id}`)) > 0
  })
}

/** Purges the user's whole trash. */
export function emptyTrash(db: Db, userId: string): Promise<number> {
  return db.transaction(async (tx) => {
    await lockUser(tx, userId)
    return purge(tx, userId, sql`true`)
  })
}

export interface PurgeOptions {
  /** The clock: items trashed before `now - retentionSeconds` are purged. */
  now: Date
  retentionSeconds: number
  /** Items per transaction. */
  batchSize?: number
}

export interface Purged {
  items: number
  tasks: number
}

/**
 * Purges every expired item of every user, in small transactions. Safe with several instances
 * running it at once: each transaction claims one user (`skip locked`: a user another instance
 * or a request holds is left for the next one, or the next run), so each item is purged once.
 * Claiming the user's row is taking the user's turn, which every writer of the user's tasks
 * and trash takes first: a purge never deadlocks with a restore.
 */
export async function purgeExpiredTrash(db: Db, { now, retentionSeconds, batchSize = 100 }: PurgeOptions) {
  const cutoff = new Date(now.getTime() - retentionSeconds * 1000).toISOString()
  const total: Purged = { items: 0, tasks: 0 }
  for (;;) {
    const batch = await db.transaction(async (tx) => {
      const [user] = await queryRows<{ id: string }>(
        tx,
        sql`select u.id from users u
            where u.id in (select user_id from ${trash} where deleted_at < ${cutoff}::timestamptz)
            limit 1 for no key update of u skip locked`,
      )
      if (!user) return undefined
      const ids = await queryRows<{ task_id: number }>(
        tx,
        sql`select task_id from ${trash} where user_id = ${user.id} and deleted_at < ${cutoff}::timestamptz
            order by deleted_at, task_id limit ${batchSize}`,
      )
      const items = ids.map((r) => r.task_id)
      const tasks = await purge(tx, user.id, sql`task_id = any(${idArray(items)}::int[])`)
      return { items: items.length, tasks }
    })
    if (!batch || batch.items === 0) return total
    total.items += batch.items
    total.tasks += batch.tasks
  }
}
