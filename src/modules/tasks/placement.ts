import { validationFailed } from '../../http/problem'
import { evenKeys, keyBetween, type Placement, withPlaced } from './positions'

/** A group of siblings ordered by position (a user's lists, or the children of one parent). */
export interface SiblingGroup {
  /** The position of `id` if it belongs to the group. */
  positionOf(id: number): Promise<string | undefined>
  /** The nearest sibling's position after `key` (the first when null), leaving out `except`. */
  next(key: string | null, except: number): Promise<string | null>
  /** The nearest sibling's position before `key`, leaving out `except`. */
  previous(key: string, except: number): Promise<string | null>
  /** Every sibling's id in order, leaving out `except`. */
  orderedIds(except: number): Promise<number[]>
  /** Writes new positions (a rebalance). */
  write(positions: { id: number; position: string }[]): Promise<void>
}

const notSibling = (field: string) =>
  validationFailed(`The request is invalid: ${field} must be a sibling at the destination.`, [
    { field, message: 'must be a sibling at the destination, other than the item itself' },
  ])

async function anchor(group: SiblingGroup, id: number | undefined, movedId: number, field: string) {
  if (id === undefined) return undefined
  const position = id === movedId ? undefined : await group.positionOf(id)
  if (position === undefined) throw notSibling(field)
  return position
}

/**
 * The position for `movedId` in `group` where `placement` says (first when it says nothing).
 * Only the moved item's row changes, unless the group needs a rebalance: then every sibling
 * gets a fresh key here, and the returned one is the moved item's.
 */
export async function positionIn(group: SiblingGroup, movedId: number, placement: Placement): Promise<string> {
  const after = await anchor(group, placement.afterId, movedId, 'after_id')
  const before = await anchor(group, placement.beforeId, movedId, 'before_id')
  let low: string | null = null
  let high: string | null
  if (after !== undefined && before !== undefined) {
    // Only neighbours name one spot: with a sibling between them, the key between the two could
    // be that sibling's own (two items at one position).
    if (after >= before || (await group.next(after, movedId)) !== before)
      throw validationFailed('The request is invalid: before_id must be the sibling right after after_id.', [
        { field: 'before_id', message: 'must be the sibling right after after_id' },
      ])
    low = after
    high = before
  } else if (after !== undefined) {
    low = after
    high = await group.next(after, movedId)
  } else if (before !== undefined) {
    high = before
    low = await group.previous(before, movedId)
  } else {
    high = await group.next(null, movedId)
  }
  const key = keyBetween(low, high)
  if (key !== undefined) return key
  const ids = withPlaced(await group.orderedIds(movedId), movedId, placement)
  const keys = evenKeys(ids.length)
  await group.write(ids.flatMap((id, i) => (id === movedId ? [] : [{ id, position: keys[i] as string }])))
  return keys[ids.indexOf(movedId)] as string
}
