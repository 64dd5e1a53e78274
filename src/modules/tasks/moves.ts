import { and, asc, eq, gt, isNull, lt, ne, type SQL, sql } from 'drizzle-orm'
import type { Db } from '../../db/client'
import { lists, tasks } from '../../db/schema'
import { type Expected, versionMatches } from '../../http/conditional'
import { ProblemError, preconditionFailed, validationFailed } from '../../http/problem'
import { taskColumns } from './list'
import { type TaskRecord, toTask } from './model'
import { positionIn, type SiblingGroup } from './placement'
import type { Placement } from './positions'
import { ancestorsOf, heightOf, lockUser, MAX_SUBTASK_DEPTH, rewriteSubtrees } from './tree'

const invalid = (field: string, message: string) =>
  validationFailed(`The request is invalid: ${field} ${message}.`, [{ field, message }])

/** The tasks with this list and parent, as a sibling group for `positionIn`. */
export function taskGroup(tx: Db, listId: number, parentId: number | null): SiblingGroup {
  const siblings = and(
    eq(tasks.listId, listId),
    parentId === null ? isNull(tasks.parentId) : eq(tasks.parentId, parentId),
  )
  const first = async (where: SQL | undefined, descending = false) => {
    const [row] = await tx
      .select({ position: tasks.position })
      .from(tasks)
      .where(where)
      .orderBy(descending ? sql`${tasks.position} desc` : asc(tasks.position))
      .limit(1)
    return row?.position ?? null
  }
  return {
    positionOf: async (id) => (await first(and(siblings, eq(tasks.id, id)))) ?? undefined,
    next: (key, except) =>
      first(and(siblings, ne(tasks.id, except), key === null ? undefined : gt(tasks.position, key))),
    previous: (key, except) => first(and(siblings, ne(tasks.id, except), lt(tasks.position, key)), true),
    orderedIds: async (except) =>
      (
        await tx
          .select({ id: tasks.id })
          .from(tasks)
          .where(and(siblings, ne(tasks.id, except)))
          .orderBy(asc(tasks.position), asc(tasks.id))
      ).map((r) => r.id),
    write: async (positions) => {
      if (positions.length === 0) return
      await tx.execute(sql`
        update ${tasks} set position = fresh.position
        from unnest(${`{${positions.map((p) => p.id).join(',')}}`}::int[],
                    ${`{${positions.map((p) => p.position).join(',')}}`}::text[]) as fresh(id, position)
        where ${tasks.id} = fresh.id`)
      await rewriteSubtrees(
        tx,
        positions.map((p) => p.id),
      )
    },
  }
}

export interface Destination {
  listId: number
  parentId: number | null
}

interface Wanted {
  list_id?: number
  parent_id?: number | null
}

async function ownList(tx: Db, userId: string, id: number) {
  const [row] = await tx
    .select({ id: lists.id })
    .from(lists)
    .where(and(eq(lists.id, id), eq(lists.userId, userId)))
  if (!row) throw invalid('list_id', 'names none of your lists')
  return row.id
}

export async function defaultList(tx: Db, userId: string) {
  const [row] = await tx
    .select({ id: lists.id })
    .from(lists)
    .where(and(eq(lists.userId, userId), eq(lists.isDefault, true)))
  // Every user has one from its creation: without it, the user itself is gone (deleted while
  // its token lives on), answered as any write that refers to a row that no longer exists.
  if (!row) throw new ProblemError(409, 'conflict', 'A record this refers to no longer exists.')
  return row.id
}

/**
 * Where a new or moved task goes. A subtask lives in its parent's list, at most
 * MAX_SUBTASK_DEPTH levels below a top-level task, and never below itself.
 */
async function destinationOf(
  tx: Db,
  userId: string,
  wanted: Wanted,
  moving?: { id: number; listId: number; parentId: number | null },
): Promise<Destination> {
  let parentId = wanted.parent_id
  if (parentId === undefined)
    parentId = moving && (wanted.list_id === undefined || wanted.list_id === moving.listId) ? moving.parentId : null
  if (parentId === null) {
    const listId =
      wanted.list_id !== undefined
        ? await ownList(tx, userId, wanted.list_id)
        : (moving?.listId ?? (await defaultList(tx, userId)))
    return { listId, parentId: null }
  }
  const [parent] = await tx
    .select({ id: tasks.id, listId: tasks.listId })
    .from(tasks)
    .where(and(eq(tasks.id, parentId), eq(tasks.userId, userId)))
  if (!parent) throw invalid('parent_id', 'names none of your tasks')
  if (wanted.list_id !== undefined && wanted.list_id !== parent.listId)
    throw invalid('list_id', "must be the parent's list (a subtask lives in its parent's list)")
  const ancestors = await ancestorsOf(tx, parent.id)
  if (moving && (parent.id === moving.id || ancestors.includes(moving.id)))
    throw invalid('parent_id', 'would make the task its own ancestor')
  const below = moving ? await heightOf(tx, moving.id) : 0
  if (ancestors.length + 1 + below > MAX_SUBTASK_DEPTH)
    throw invalid('parent_id', `would put a subtask more than ${MAX_SUBTASK_DEPTH} levels below a top-level task`)
  return { listId: parent.listId, parentId: parent.id }
}

/**
 * List, parent and position for a new task: first among its siblings unless `placement` says
 * otherwise. Runs in the caller's transaction, after `lockUser`.
 */
export async function placeNewTask(tx: Db, userId: string, wanted: Wanted, placement: Placement) {
  const destination = await destinationOf(tx, userId, wanted)
  const position = await positionIn(taskGroup(tx, destination.listId, destination.parentId), 0, placement)
  return { ...destination, position }
}

const nextUpdatedAt = sql`greatest(clock_timestamp(), ${tasks.updatedAt} + interval '1 millisecond')`

/**
 * Moves a task with its subtree. Writes the task's row and, when its list or outline changes,
 * its descendants' (their list and outline keys); siblings only in a rebalance.
 */
export function moveTask(
  db: Db,
  userId: string,
  id: number,
  wanted: Wanted,
  placement: Placement,
  expected?: Expected,
): Promise<TaskRecord | undefined> {
  return db.transaction(async (tx) => {
    await lockUser(tx, userId)
    const [task] = await tx
      .select(taskColumns)
      .from(tasks)
      .where(and(eq(tasks.id, id), eq(tasks.userId, userId)))
    if (!task) return undefined
    if (!versionMatches(expected, task.version)) throw preconditionFailed(toTask(task), 'task')
    const destination = await destinationOf(tx, userId, wanted, task)
    const position = await positionIn(taskGroup(tx, destination.listId, destination.parentId), id, placement)
    await tx
      .update(tasks)
      .set({ ...destination, position, updatedAt: nextUpdatedAt })
      .where(eq(tasks.id, id))
    await rewriteSubtrees(tx, [id])
    const [row] = await tx.select(taskColumns).from(tasks).where(eq(tasks.id, id))
    return row
  })
}
