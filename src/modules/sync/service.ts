import { and, asc, eq, gt, lte, sql } from 'drizzle-orm'
import { type Db, queryRows } from '../../db/client'
import { type ListRow, lists, tasks, tombstones, users } from '../../db/schema'
import { statement } from '../../db/statements'
import { taskColumns } from '../tasks/list'
import type { TaskRecord } from '../tasks/model'

export type Change =
  | { seq: number; kind: 'task'; deleted: false; task: TaskRecord }
  | { seq: number; kind: 'list'; deleted: false; list: ListRow }
  | { seq: number; kind: 'task' | 'list'; deleted: true; id: number; reason: 'deleted' | 'trashed' | 'purged' }

export interface ChangePage {
  changes: Change[]
  /** The counter value to go on from: the last change given, or the whole feed's end. */
  next: number
  hasMore: boolean
}

/** The sync token is too old (its tombstones are purged) or was never issued: start again. */
export const EXPIRED = Symbol('expired')

const p = sql.placeholder

interface Counter {
  seq: number
  horizon: number
}

/** The user's change counter now, and the horizon below which tombstones are gone. */
export async function counterOf(db: Db, userId: string): Promise<Counter> {
  const read = statement<Counter[]>(db, 'sync counter', () =>
    db
      .select({ seq: users.syncSeq, horizon: users.syncHorizon })
      .from(users)
      .where(eq(users.id, p('userId'))),
  )
  const [row] = await read.execute({ userId })
  return row ?? { seq: 0, horizon: 0 }
}

/**
 * The user's changes after `since` (or, without it, every task and list there is), oldest
 * first, at most `limit`.
 *
 * Gapless: the counter is read first and every query stops at it. One user's writes commit in
 * the order of the numbers they drew (see `sync_next` in drizzle/0008_sync.sql), so everything
 * at or below the counter a reader sees has committed, and each query below sees all of it,
 * whatever commits between them. A task and a list never share a number, nor do two tombstones,
 * so merging the three by number is one order.
 */
export async function readChanges(
  db: Db,
  userId: string,
  since: number | undefined,
  limit: number,
): Promise<ChangePage | typeof EXPIRED> {
  const counter = await counterOf(db, userId)
  if (since !== undefined && (since < counter.horizon || since > counter.seq)) return EXPIRED
  const values = { userId, from: since ?? 0, to: counter.seq, limit: limit + 1 }
  const taskPage = statement<TaskRecord[]>(db, 'sync tasks', () =>
    db
      .select(taskColumns)
      .from(tasks)
      .where(and(eq(tasks.userId, p('userId')), gt(tasks.version, p('from')), lte(tasks.version, p('to'))))
      .orderBy(asc(tasks.version))
      .limit(p('limit')),
  )
  const listPage = statement<ListRow[]>(db, 'sync lists', () =>
    db
      .select()
      .from(lists)
      .where(and(eq(lists.userId, p('userId')), gt(lists.version, p('from')), lte(lists.version, p('to'))))
      .orderBy(asc(lists.version))
      .limit(p('limit')),
  )
  const tombstonePage = statement<(typeof tombstones.$inferSelect)[]>(db, 'sync tombstones', () =>
    db
      .select()
      .from(tombstones)
      .where(and(eq(tombstones.userId, p('userId')), gt(tombstones.seq, p('from')), lte(tombstones.seq, p('to'))))
      .orderBy(asc(tombstones.seq))
      .limit(p('limit')),
  )
  // Without a token the client has nothing to delete: only what exists.
  const [taskRows, listRows, gone] = await Promise.all([
    taskPage.execute(values),
    listPage.execute(values),
    since === undefined ? [] : tombstonePage.execute(values),
  ])
  const merged: Change[] = [
    ...taskRows.map((task) => ({ seq: task.version, kind: 'task' as const, deleted: false as const, task })),
    ...listRows.map((list) => ({ seq: list.version, kind: 'list' as const, deleted: false as const, list })),
    ...gone.map((t) => ({ seq: t.seq, kind: t.kind, deleted: true as const, id: t.entityId, reason: t.reason })),
  ].sort((a, b) => a.seq - b.seq)
  const hasMore = merged.length > limit
  const changes = merged.slice(0, limit)
  const last = changes.at(-1)
  return { changes, next: hasMore && last ? last.seq : counter.seq, hasMore }
}

/**
 * Drops tombstones older than `cutoff`, one user at a time, and raises that user's horizon past
 * them. Several instances can run it at once: each takes the user's row lock first (the order
 * every writer of the user's tasks takes its locks in), skipping a user another holds.
 * Returns how many tombstones went.
 */
export async function purgeTombstones(db: Db, cutoff: Date, batch = 100): Promise<number> {
  const due = await db
    .selectDistinct({ userId: tombstones.userId })
    .from(tombstones)
    .where(sql`${tombstones.deletedAt} < ${cutoff.toISOString()}::timestamptz`)
    .limit(batch)
  let purged = 0
  for (const { userId } of due) {
    purged += await db.transaction(async (tx) => {
      const locked = await queryRows(
        tx,
        sql`select 1 from ${users} where ${users.id} = ${userId} for no key update skip locked`,
      )
      if (locked.length === 0) return 0
      const gone = await tx
        .delete(tombstones)
        .where(and(eq(tombstones.userId, userId), sql`${tombstones.deletedAt} < ${cutoff.toISOString()}::timestamptz`))
        .returning({ seq: tombstones.seq })
      if (gone.length === 0) return 0
      const horizon = Math.max(...gone.map((g) => g.seq))
      await tx
        .update(users)
        .set({ syncHorizon: sql`greatest(${users.syncHorizon}, ${horizon})` })
        .where(eq(users.id, userId))
      return gone.length
    })
  }
  return purged
}
