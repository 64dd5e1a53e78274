import { and, asc, eq, gt, lt, ne, sql } from 'drizzle-orm'
import { generateKeyBetween, generateNKeysBetween } from 'fractional-indexing'
import { type Db, queryRows } from '../../db/client'
import { constraintViolation } from '../../db/errors'
import { type ListRow, lists, tasks } from '../../db/schema'
import { statement } from '../../db/statements'
import { type Expected, versionMatches } from '../../http/conditional'
import { ProblemError, preconditionFailed } from '../../http/problem'
import { trimText } from '../../schema/text'
import { defaultList } from '../tasks/moves'
import { positionIn, type SiblingGroup } from '../tasks/placement'
import type { Placement } from '../tasks/positions'
import { lockUser, rewriteSubtrees, userTurn } from '../tasks/tree'
import { trashTask } from '../trash/service'
import { type CreateListInput, MAX_LISTS, toList, type UpdateListInput } from './model'

const p = sql.placeholder
const owned = and(eq(lists.id, p('id')), eq(lists.userId, p('userId')))
const nextUpdatedAt = sql`greatest(clock_timestamp(), ${lists.updatedAt} + interval '1 millisecond')`

const nameTaken = () => new ProblemError(409, 'list_name_taken', 'You already have a list with that name.')

/** Runs `write`, answering a unique violation (the only one a list write can hit: its name) with a 409. */
async function uniqueName<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write()
  } catch (error) {
    if (constraintViolation(error) === '23505') throw nameTaken()
    throw error
  }
}

export async function listLists(db: Db, userId: string): Promise<ListRow[]> {
  const all = statement<ListRow[]>(db, 'list all', () =>
    db
      .select()
      .from(lists)
      .where(eq(lists.userId, p('userId')))
      .orderBy(asc(lists.position), asc(lists.id)),
  )
  return all.execute({ userId })
}

export async function getList(db: Db, userId: string, id: number): Promise<ListRow | undefined> {
  const get = statement<ListRow[]>(db, 'list get', () => db.select().from(lists).where(owned))
  const [row] = await get.execute({ id, userId })
  return row
}

// In Unicode normal form C, as tags and emails are: the unique index compares names without
// case, and "Café" typed as one character or as "e" + U+0301 is the same name.
const normaliseName = (name: string) => trimText(name).normalize('NFC')
const normaliseColor = (color: string | null | undefined) => (color == null ? color : color.toLowerCase())

/** A new list goes last. */
export function createList(db: Db, userId: string, input: CreateListInput): Promise<ListRow> {
  return uniqueName(() =>
    db.transaction(async (tx) => {
      await lockUser(tx, userId)
      const [stats] = await queryRows<{ n: number; last: string | null }>(
        tx,
        sql`select count(*)::int as n, max(${lists.position}) as last from ${lists} where ${lists.userId} = ${userId}`,
      )
      if ((stats?.n ?? 0) >= MAX_LISTS)
        throw new ProblemError(409, 'list_limit', `You already have ${MAX_LISTS} lists, the most there can be.`)
      const [row] = await tx
        .insert(lists)
        .values({
          userId,
          name: normaliseName(input.name),
          color: normaliseColor(input.color) ?? null,
          position: generateKeyBetween(stats?.last ?? null, null),
        })
        .returning()
      return row as ListRow
    }),
  )
}

export function updateList(db: Db, userId: string, id: number, input: UpdateListInput, expected?: Expected) {
  const values: Partial<typeof lists.$inferInsert> = {}
  if (input.name !== undefined) values.name = normaliseName(input.name)
  if (input.color !== undefined) values.color = normaliseColor(input.color)
  const versions = expected === undefined || expected === 'any' ? undefined : expected
  return uniqueName(async () => {
    const [row] = await db
      .update(lists)
      .set({ ...values, updatedAt: nextUpdatedAt })
      // The user's turn first, as every writer of tasks and lists takes it (see `userTurn`).
      .where(
        and(
          eq(lists.id, id),
          eq(lists.userId, userId),
          versions && sql`${lists.version} = any(${`{${versions.join(',')}}`}::int[])`,
          userTurn(userId),
        ),
      )
      .returning()
    if (row || expected === undefined) return row
    const current = await getList(db, userId, id)
    if (current) throw preconditionFailed(toList(current), 'list')
    return undefined
  })
}

/** The user's lists as a sibling group, for `positionIn`. */
function listGroup(tx: Db, userId: string): SiblingGroup {
  const mine = eq(lists.userId, userId)
  const first = async (where: ReturnType<typeof and>, descending = false) => {
    const [row] = await tx
      .select({ position: lists.position })
      .from(lists)
      .where(where)
      .orderBy(descending ? sql`${lists.position} desc` : asc(lists.position))
      .limit(1)
    return row?.position ?? null
  }
  return {
    positionOf: async (id) => (await first(and(mine, eq(lists.id, id)))) ?? undefined,
    next: (key, except) => first(and(mine, ne(lists.id, except), key === null ? undefined : gt(lists.position, key))),
    previous: (key, except) => first(and(mine, ne(lists.id, except), lt(lists.position, key)), true),
    orderedIds: async (except) =>
      (
        await tx
          .select({ id: lists.id })
          .from(lists)
          .where(and(mine, ne(lists.id, except)))
          .orderBy(asc(lists.position), asc(lists.id))
      ).map((r) => r.id),
    write: async (positions) => {
      for (const { id, position } of positions) await tx.update(lists).set({ position }).where(eq(lists.id, id))
    },
  }
}

export function moveList(db: Db, userId: string, id: number, placement: Placement, expected?: Expected) {
  return db.transaction(async (tx) => {
    await lockUser(tx, userId)
    const [found] = await tx
      .select()
      .from(lists)
      .where(and(eq(lists.id, id), eq(lists.userId, userId)))
    if (!found) return undefined
    if (!versionMatches(expected, found.version)) throw preconditionFailed(toList(found), 'list')
    const position = await positionIn(listGroup(tx, userId), id, placement)
    const [row] = await tx
      .update(lists)
      .set({ position, updatedAt: nextUpdatedAt })
      .where(and(eq(lists.id, id), eq(lists.userId, userId)))
      .returning()
    return row
  })
}

export type DeleteMode = 'delete' | 'move' | undefined

/** Deletes a list; false when there is none. Its tasks go with it or to the default list, as `mode` says. */
export function deleteList(
  db: Db,
  userId: string,
  id: number,
  mode: DeleteMode,
  expected?: Expected,
): Promise<boolean> {
  return db.transaction(async (tx) => {
    await lockUser(tx, userId)
    const [list] = await tx
      .select()
      .from(lists)
      .where(and(eq(lists.id, id), eq(lists.userId, userId)))
      .for('update')
    if (!list) return false
    if (!versionMatches(expected, list.version)) throw preconditionFailed(toList(list), 'list')
    if (list.isDefault)
      throw new ProblemError(409, 'default_list', 'The default list cannot be deleted; it can be renamed.')
    const count = list.openCount + list.completedCount
    if (count > 0 && mode === undefined)
      throw new ProblemError(
        409,
        'list_not_empty',
        `The list still has ${count} task${count === 1 ? '' : 's'}; say ?tasks=delete or ?tasks=move to delete it.`,
        { taskCount: count },
      )
    if (count > 0 && mode === 'move') await moveTasksToDefault(tx, userId, id)
    if (count > 0 && mode === 'delete') await trashTasksOf(tx, userId, id)
    await tx.delete(lists).where(eq(lists.id, id))
    return true
  })
}

/**
 * The list's tasks go to the trash as DELETE of each would send them, so a list deleted by
 * mistake loses nothing for TRASH_RETENTION: restored, they land in the default list.
 */
async function trashTasksOf(tx: Db, userId: string, from: number) {
  const roots = await tx
    .select({ id: tasks.id })
    .from(tasks)
    .where(and(eq(tasks.listId, from), sql`${tasks.parentId} is null`))
  for (const { id } of roots) await trashTask(tx, userId, id)
}

/** The list's top-level tasks go to the end of the default list in their order, subtasks with them. */
async function moveTasksToDefault(tx: Db, userId: string, from: number) {
  const target = { id: await defaultList(tx, userId) }
  const roots = await tx
    .select({ id: tasks.id })
    .from(tasks)
    .where(and(eq(tasks.listId, from), sql`${tasks.parentId} is null`))
    .orderBy(asc(tasks.position), asc(tasks.id))
  const [last] = await queryRows<{ last: string | null }>(
    tx,
    sql`select max(${tasks.position}) as last from ${tasks} where ${tasks.listId} = ${target.id} and ${tasks.parentId} is null`,
  )
  const keys = generateNKeysBetween(last?.last ?? null, null, roots.length)
  const ids = roots.map((r) => r.id)
  await tx.execute(sql`
    update ${tasks} set list_id = ${target.id}, position = moved.position
    from unnest(${`{${ids.join(',')}}`}::int[], ${`{${keys.join(',')}}`}::text[]) as moved(id, position)
    where ${tasks.id} = moved.id`)
  await rewriteSubtrees(tx, ids)
}
